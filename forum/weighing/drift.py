"""AI systems whose decisions drifted: decided or closed items about a system of the register
whose evidence drifted since the decision (forum.weighing.standing.evidence_drifted) — a new
version of the system, a regression, evidence grown old. The executives' home page and the
escalation queue list them; the register filters on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from forum.core.derived import cached
from forum.items.models import DecisionItem
from forum.systems.models import AISystem
from forum.weighing.standing import evidence_drifted

SETTLED = ("decided", "closed")


@dataclass(frozen=True)
class DriftedSystem:
    id: int
    name: str
    items: int  # its decided or closed items that need revalidation


def needs_revalidation(now: datetime):
    """SQL condition on DecisionItem: decided or closed, and its evidence drifted since."""
    return DecisionItem.status.in_(SETTLED) & evidence_drifted(now)


def with_decisions_to_revalidate(now: datetime):
    """SQL condition on AISystem: some decided or closed item about it needs revalidation. A
    correlated EXISTS, probed per system through the items' system index and stopping at the
    first such item: 0.5 ms for the 264 systems of the 100,000-item data set, where the same
    condition as ``id IN (every such item's system)`` read all 32,000 decided items (20 ms)."""
    return exists().where(DecisionItem.system_id == AISystem.id, needs_revalidation(now))


def drifted_systems(session: Session, now: datetime, limit: int) -> list[DriftedSystem]:
    """The systems with the most items needing revalidation (one statement, reused until the
    trail moves)."""

    def locate() -> list[DriftedSystem]:
        # The items counted per system first, from the standing index alone, then the names of
        # those systems: grouping the items joined with their systems read each item's system
        # row (100,000 items: 10 → 6 ms on SQLite, 8.2 → 6.2 ms on PostgreSQL).
        counted = (select(DecisionItem.system_id, func.count().label("n"))
                   .where(needs_revalidation(now), DecisionItem.system_id.is_not(None))
                   .group_by(DecisionItem.system_id).subquery())
        rows = session.execute(
            select(AISystem.id, AISystem.name, counted.c.n).join(counted, counted.c.system_id == AISystem.id)
            .order_by(counted.c.n.desc(), AISystem.name).limit(limit))
        return [DriftedSystem(*row) for row in rows]

    return cached(session, ("drifted-systems", limit), locate, items_only=True)
