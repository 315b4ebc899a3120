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
from forum.core.signals import app_answer, signals
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


#: Sent with the app as sender and ``session`` and ``now``; a receiver answers how many decided
#: or closed items about each AI system need revalidation ({system id: n}, no zeros), kept as
#: changes happen, or None when it keeps none (forum.health.tallies keeps them: a row per system
#: where counting reads every decided item whose evidence drifted).
kept_revalidation_counts = signals.signal("weighing.kept-revalidation-counts")


def revalidation_counts(session: Session, now: datetime) -> dict[int, int] | None:
    """{system id: its items needing revalidation} as kept (``kept_revalidation_counts``), or None."""
    return app_answer(kept_revalidation_counts, session=session, now=now)


def _most(session: Session, counts: dict[int, int], limit: int) -> list[DriftedSystem]:
    """The ``limit`` systems with the highest counts, ties by name: the names read of those
    counted at least the ``limit``-th highest count only (one statement)."""
    if not counts or limit < 1:
        return []
    floor = sorted(counts.values(), reverse=True)[:limit][-1]
    ids = [system_id for system_id, n in counts.items() if n >= floor]
    found = [DriftedSystem(system_id, name, counts[system_id]) for system_id, name in session.execute(
        select(AISystem.id, AISystem.name).where(AISystem.id.in_(ids)))]
    return sorted(found, key=lambda system: (-system.items, system.name))[:limit]


def drifted_systems(session: Session, now: datetime, limit: int) -> list[DriftedSystem]:
    """The systems with the most items needing revalidation: from the counts kept per system
    (``revalidation_counts``), or else one statement over the items; reused until the trail
    moves."""

    def locate() -> list[DriftedSystem]:
        kept = revalidation_counts(session, now)
        if kept is not None:
            return _most(session, kept, limit)
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
