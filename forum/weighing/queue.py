"""Escalation and the escalation queue.

An escalation's one trail event is the lifecycle transition's ``item.status_changed`` (its note
is the reason); the Escalation row holds who, when, why and the recommendation reasons that held
at the time. The queue holds the escalated items and the open ones on which an escalation rule
(forum.weighing.rules) holds, selected, counted, sorted and paged in SQL on the items' standing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import get_template_attribute
from markupsafe import Markup
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from forum.auth.models import User
from forum.core import clock
from forum.core.derived import cached, rendered
from forum.core.errors import PermissionDenied, ValidationError
from forum.core.paging import Page, paginate_rows, rows_by_ids
from forum.core.signals import app_answer, signals
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC, Rubric
from forum.weighing import rules
from forum.weighing.checks import MAX_REASON, check_state, clean_text
from forum.weighing.models import Escalation
from forum.weighing.queries import weight_conditions
from forum.weighing.rules import ForumSettings, Scale
from forum.weighing.weigh import Weighing, weigh


def escalate(
    session: Session, actor: User, item: DecisionItem, reason: str, settings: ForumSettings,
    expected_version: int | None = None,
) -> Escalation:
    """Send an open item to the executives, with the actor's reason."""
    spec = items.TRANSITIONS["escalate"]
    if not items.may_perform(actor, item, spec):
        raise PermissionDenied("Only staff and executives escalate items; your role reads only.")
    if item.status not in spec.moves:
        check_state(item, tuple(spec.moves), "escalate it")
    text = clean_text(reason, "reason", "reason for the escalation", MAX_REASON)
    recommended = [r.text for r in weigh(session, [item], settings)[item.id].reasons]
    # The transition checks the version and writes the one event of this action.
    items.transition(session, actor, item, "escalate", expected_version=expected_version, note=text)
    escalation = Escalation(
        item_id=item.id, actor_id=actor.id, reason=text, recommended=recommended,
        escalated_at=clock.now(),
    )
    session.add(escalation)
    session.flush()
    return escalation


@dataclass
class QueueFilters:
    tier: str = ""
    divergent: bool = False
    awaiting: str = ""
    status: str = ""  # "", "escalated" or "open"


QUEUE_STATUSES = ("escalated", "open")


@dataclass
class QueueEntry:
    item: DecisionItem
    weighing: Weighing
    escalation: Escalation | None  # the latest, for escalated items


def recommended_condition(settings: ForumSettings, now: datetime, rubric: Rubric = RUBRIC) -> ColumnElement[bool]:
    """Open items on which an escalation rule holds at ``now`` (Weighing.recommended, in SQL on
    the items' standing columns): every rule's condition."""
    return and_(DecisionItem.status == "open",
                or_(*(rule.condition(now, settings, rubric) for rule in rules.RULES)))


def queue_condition(status: str, settings: ForumSettings, now: datetime, rubric: Rubric = RUBRIC) -> ColumnElement[bool]:
    """Items in the escalation queue: escalated ones, and open ones with escalation recommended
    (``status`` narrows to one of the two)."""
    if status and status not in QUEUE_STATUSES:
        raise ValidationError(f"The queue holds escalated and open items, not {status!r}.", "status")
    escalated = DecisionItem.status == "escalated"
    if status == "escalated":
        return escalated
    recommended = recommended_condition(settings, now, rubric)
    if status == "open":
        return recommended
    # The status list again, outside the OR: both databases then read the two statuses' ranges
    # of an index instead of every item (the queue's counts by tier and its first page, cold at
    # 100,000 items: 39 → 20 ms on PostgreSQL, 53 → 18 ms on SQLite).
    return and_(DecisionItem.status.in_(QUEUE_STATUSES), or_(escalated, recommended))


def in_queue(standing, now: datetime | None, settings: ForumSettings, rubric: Rubric = RUBRIC) -> bool:
    """``queue_condition("")`` read in Python on one item's standing values (its status and the
    standing columns; rules.Rule.holds): whether the queue holds it at ``now`` — with None,
    whether it does whatever the clock says."""
    return standing.status == "escalated" or (
        standing.status == "open" and any(rule.holds(standing, now, settings, rubric) for rule in rules.RULES))


#: Sent with the app as sender and ``session``, ``settings`` and ``now``; a receiver answers the
#: escalation queue's counts per status and tier rank ({("escalated" | "open", rank): n}), kept as
#: changes happen, or None when it has none for these settings (forum.health.tallies keeps them:
#: two small statements where counting reads every open and escalated item).
kept_queue_counts = signals.signal("weighing.kept-queue-counts")


def _kept_counts(session: Session, settings: ForumSettings, now: datetime,
                 rubric: Rubric) -> dict[tuple[str, int], int] | None:
    if rubric is not RUBRIC:  # the receivers are the app's, for its rubric
        return None
    return app_answer(kept_queue_counts, session=session, settings=settings, now=now)


def queue_by_tier(session: Session, settings: ForumSettings, now: datetime,
                  rubric: Rubric = RUBRIC) -> dict[int, int]:
    """How many items the escalation queue holds per tier (tier index -> count, -1 unrated): the
    counts kept as changes happen (``kept_queue_counts``), or else one query, reused until the
    trail moves (forum.core.derived)."""
    kept = _kept_counts(session, settings, now, rubric)
    if kept is not None:
        by_tier: dict[int, int] = {}
        for (_status, rank), n in kept.items():
            by_tier[rank] = by_tier.get(rank, 0) + n
        return by_tier
    rank = Scale(rubric).rank()
    return cached(session, ("queue by tier", settings, rules.RULES), lambda: dict(session.execute(
        select(rank, func.count()).where(queue_condition("", settings, now, rubric)).group_by(rank)
    ).all()), items_only=True)


def escalation_queue(session: Session, filters: QueueFilters, settings: ForumSettings,
                     page: int = 1, per_page: int = 20, rubric: Rubric = RUBRIC) -> Page:
    """Escalated items and open items with escalation recommended, strategic first, then by
    needed-by date (soonest first, none last), as QueueEntry rows: ``queue_ids``, then
    ``queue_entries`` of the page's ids."""
    result = queue_ids(session, filters, settings, page, per_page, rubric)
    result.items = queue_entries(session, result.ids, settings, rubric)
    return result


def queue_ids(session: Session, filters: QueueFilters, settings: ForumSettings,
              page: int = 1, per_page: int = 20, rubric: Rubric = RUBRIC) -> Page:
    """The ids of a page of the queue with its count (the rows are left to ``queue_entries`` or
    ``queue_rows``). Selected, counted, sorted and paged in SQL on the items' standing columns,
    reused until the trail moves (forum.core.derived): work that grows with the page, not with
    the queue."""
    now = clock.now()
    scale = Scale(rubric)
    # The order's first key: stored with the items' standing for the rubric in force, with an
    # index in the queue's order per status (ix_decision_items_escalation_queue).
    key = DecisionItem.queue_order if rubric is RUBRIC else scale.queue_order()
    conditions = weight_conditions(filters.tier, filters.divergent, filters.awaiting)
    rank = _rank_of(filters.tier, rubric) if filters.tier else None
    if rank is not None:  # the tier again, as a range of that index
        conditions.append(key.between(*scale.order_range(rank)))
    parts: tuple = ()
    if filters.status:
        conditions.insert(0, queue_condition(filters.status, settings, now, rubric))
    else:  # each status read in the index's order, then the two merged
        parts = ([DecisionItem.status == "escalated"], [recommended_condition(settings, now, rubric)])
    kept = None if filters.divergent or filters.awaiting else _kept_counts(session, settings, now, rubric)
    total = None  # the kept counts tell the status and the tier filters' counts
    if kept is not None:
        total = sum(n for (status, r), n in kept.items() if filters.status in ("", status) and rank in (None, r))
    return paginate_rows(
        session, DecisionItem, conditions, (key, DecisionItem.needed_by, DecisionItem.id),
        page, per_page, cache_key=("queue", filters.status, filters.tier, filters.divergent, filters.awaiting,
                                   settings, rules.RULES, total), load_rows=False, items_only=True,
        count=total, parts=parts,
    )


def _rank_of(tier: str, rubric: Rubric) -> int:
    """The rank (queue_by_tier's key) of a tier filter's value (checked by its condition)."""
    found = rubric.tier(tier)
    return -1 if found is None else found.index


def queue_entries(session: Session, ids: Sequence[int], settings: ForumSettings,
                  rubric: Rubric = RUBRIC) -> list[QueueEntry]:
    """The queue's items ``ids`` in that order, each weighed (for its reasons) with its latest
    escalation if it is escalated: the rows, the weighing's statements and the escalations."""
    shown = rows_by_ids(session, DecisionItem, ids, items.ROW_LOADS)
    weighings = weigh(session, shown, settings, rubric)
    latest: dict[int, Escalation] = {}
    if shown:
        for escalation in session.scalars(
            select(Escalation).where(Escalation.item_id.in_([i.id for i in shown]))
            .options(joinedload(Escalation.actor)).order_by(Escalation.escalated_at, Escalation.id)
        ):
            latest[escalation.item_id] = escalation
    return [QueueEntry(i, weighings[i.id], latest.get(i.id) if i.status == "escalated" else None) for i in shown]


def queue_rows(session: Session, ids: Sequence[int], settings: ForumSettings, may_schedule: bool,
               rubric: Rubric = RUBRIC) -> Markup:
    """The rows of the queue's items ``ids`` (forum/_queue.html), with the schedule links for
    those who may schedule: kept rendered until the trail moves (forum.core.derived.rendered).
    The same for every viewer with the same ``may_schedule``."""
    if not ids:
        return Markup("")

    def render() -> list[str]:
        macro = get_template_attribute("forum/_queue.html", "queue_rows")
        return [macro(queue_entries(session, ids, settings, rubric), may_schedule)]

    return rendered(session, ("queue rows", tuple(ids), may_schedule, settings, rules.RULES, rubric), render,
                    items_only=True)[0]
