"""The evidence section of a meeting's pre-read pack: the latest run of each suite with its
gates as they stand now — built for all the pack's items at once (two queries)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.core import clock
from forum.evidence import service
from forum.evidence.models import EvidenceRun
from forum.evidence.parsers import FORMAT_LABELS
from forum.items.models import DecisionItem


def build(session: Session, items: list[DecisionItem]) -> dict[int, dict]:
    by_id = {item.id: item for item in items}
    latest = (
        select(func.max(EvidenceRun.id)).where(EvidenceRun.item_id.in_(list(by_id)))
        .group_by(EvidenceRun.item_id, EvidenceRun.suite).scalar_subquery()
    )
    tiers = service.item_tiers(session, items)
    now = clock.now()
    found: dict[int, dict] = {item_id: {"runs": []} for item_id in by_id}
    for run in session.scalars(select(EvidenceRun).where(EvidenceRun.id.in_(latest)).order_by(EvidenceRun.suite)):
        item = by_id[run.item_id]
        found[item.id]["runs"].append({
            "run": run, "format_label": FORMAT_LABELS.get(run.format, run.format),
            "gates": service.recheck(run, item, tiers.get(item.id), now),
        })
    return found

