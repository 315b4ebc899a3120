"""What a system's page reads: its items with their standing, the latest evidence of each suite
across them, and its versions — a bounded number of statements whatever the register's size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.evidence.gates import stale_by_version
from forum.evidence.models import EvidenceRun
from forum.items.models import DecisionItem
from forum.systems.models import AISystem
from forum.weighing.drift import needs_revalidation

ITEMS_SHOWN = 50
SUITES_SHOWN = 20


@dataclass
class SystemItem:
    item: DecisionItem
    needs_revalidation: bool  # decided (or closed), and its evidence drifted since


@dataclass
class SuiteRun:
    run: EvidenceRun
    item_title: str
    stale: bool  # tested on another version than the one in use


def system_items(session: Session, system: AISystem, now: datetime) -> tuple[list[SystemItem], int]:
    """The newest ITEMS_SHOWN items about the system and how many there are (one statement)."""
    drifted = needs_revalidation(now)
    rows = session.execute(
        select(DecisionItem, drifted.label("drifted"), func.count().over())
        .where(DecisionItem.system_id == system.id)
        .order_by(DecisionItem.created_at.desc(), DecisionItem.id.desc()).limit(ITEMS_SHOWN)
    ).all()
    total = rows[0][2] if rows else 0
    return [SystemItem(item, bool(drift)) for item, drift, _ in rows], total


def latest_runs(session: Session, system: AISystem) -> list[SuiteRun]:
    """The latest run of each suite across the system's items (one statement)."""
    newest = (select(func.max(EvidenceRun.id).label("id"))
              .join(DecisionItem, DecisionItem.id == EvidenceRun.item_id)
              .where(DecisionItem.system_id == system.id)
              .group_by(EvidenceRun.suite).subquery())
    rows = session.execute(
        select(EvidenceRun, DecisionItem.title)
        .join(DecisionItem, DecisionItem.id == EvidenceRun.item_id)
        .where(EvidenceRun.id.in_(select(newest.c.id)))
        .order_by(EvidenceRun.suite).limit(SUITES_SHOWN)
    ).all()
    return [SuiteRun(run, title, stale_by_version(run.model_version, system.version_in_use)) for run, title in rows]
