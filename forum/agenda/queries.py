"""Reading for the agenda's pages: each function loads what one page shows in a bounded number
of queries, whatever the number of meetings, entries, decisions or actions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from forum.agenda.entries import RecusalNote, recusals_of
from forum.agenda.models import (
    OUTCOMES,
    Action,
    AgendaEntry,
    Decision,
    Meeting,
    Recusal,
)
from forum.agenda.pack import decision_filters
from forum.auth.models import User
from forum.core import policy
from forum.core.derived import cached
from forum.core.errors import NotFound, ValidationError
from forum.core.paging import count_of, paginate_rows, rows_by_ids
from forum.core.signals import app_answer, signals
from forum.items.models import DecisionItem
from forum.items.service import Page


def _clamp(page: int, total: int, per_page: int) -> int:
    return min(max(1, page), max(1, math.ceil(total / per_page)))


def _entry_loading():
    """Everything a meeting page, the minutes or a panel shows of an entry (7 queries)."""
    return (
        joinedload(AgendaEntry.item).joinedload(DecisionItem.filer),
        joinedload(AgendaEntry.item).joinedload(DecisionItem.function),
        joinedload(AgendaEntry.presenter),
        joinedload(AgendaEntry.carried_from).joinedload(AgendaEntry.meeting),
        selectinload(AgendaEntry.recusals).joinedload(Recusal.user),
        selectinload(AgendaEntry.decisions).options(
            joinedload(Decision.recorded_by),
            selectinload(Decision.deciders),
            selectinload(Decision.actions).options(joinedload(Action.owner), joinedload(Action.done_by)),
        ),
    )


# ---------------------------------------------------------------------------------- meetings
@dataclass
class MeetingView:
    meeting: Meeting
    entries: list[AgendaEntry]
    recused: dict[int, list[RecusalNote]]
    total_minutes: int
    present: list[User] = field(default_factory=list)
    closable: set[int] = field(default_factory=set)  # entries whose decided item may be closed

    @property
    def over_by(self) -> int:
        return max(0, self.total_minutes - self.meeting.duration_minutes)


def meeting_view(session: Session, meeting_id: int) -> MeetingView:
    meeting = session.scalar(
        select(Meeting).where(Meeting.id == meeting_id).options(joinedload(Meeting.created_by))
    )
    if meeting is None:
        raise NotFound(f"There is no meeting {meeting_id}.")
    entries = list(session.scalars(
        select(AgendaEntry).where(AgendaEntry.meeting_id == meeting.id)
        .options(*_entry_loading()).order_by(AgendaEntry.position)
    ).unique())
    latest = set(session.scalars(
        select(func.max(AgendaEntry.id)).where(AgendaEntry.item_id.in_([e.item_id for e in entries]))
        .group_by(AgendaEntry.item_id)
    )) if entries else set()
    present: dict[int, User] = {}
    for entry in entries:
        for decision in entry.decisions:
            for user in decision.deciders:
                present[user.id] = user
    return MeetingView(
        meeting=meeting, entries=entries,
        recused={entry.id: recusals_of(entry) for entry in entries},
        total_minutes=sum(entry.time_box_minutes for entry in entries),
        present=sorted(present.values(), key=lambda u: u.display_name),
        closable={e.id for e in entries if e.id in latest and closable(e)},
    )


def recused_in_meeting(session: Session, meeting_id: int) -> frozenset[int]:
    """Who may be recused from an item of the meeting: those who declared a conflict and the
    items' filers (forum.agenda.entries.recusals_of). One statement, kept until the trail moves."""
    declared = (select(Recusal.user_id).join(AgendaEntry, AgendaEntry.id == Recusal.entry_id)
                .where(AgendaEntry.meeting_id == meeting_id))
    filed = (select(DecisionItem.filer_id).join(AgendaEntry, AgendaEntry.item_id == DecisionItem.id)
             .where(AgendaEntry.meeting_id == meeting_id))
    return cached(session, ("recused in meeting", meeting_id),
                  lambda: frozenset(session.scalars(declared.union(filed))))


def closable(entry: AgendaEntry) -> bool:
    """The entry's item is decided here and no follow-up action of it is open (needs the
    entry's item, decisions and actions loaded, and the entry being the item's latest)."""
    return entry.item.status == "decided" and bool(entry.decisions) and all(
        action.done for decision in entry.decisions for action in decision.actions)


@dataclass
class MeetingRow:
    meeting: Meeting
    entries: int
    minutes: int


def list_meetings(session: Session, page: int = 1, per_page: int = 20,
                  upcoming_page: int = 1) -> tuple[Page, Page]:
    """A page of the meetings not closed yet (soonest first) and a page of the closed ones
    (latest first), each of ``MeetingRow``: four queries, a count and the rows of each.

    Each listed meeting's entries are counted and their time boxes summed for that meeting alone
    (through the entries' meeting index): grouping every entry of every meeting and joining the
    page to that read all 38,000 entries of 4,900 meetings to list twenty (19 ms of the page,
    SQLite, at 100,000 items)."""
    own = AgendaEntry.meeting_id == Meeting.id
    entries = select(func.count()).where(own).correlate(Meeting).scalar_subquery()
    minutes = (select(func.coalesce(func.sum(AgendaEntry.time_box_minutes), 0)).where(own)
               .correlate(Meeting).scalar_subquery())

    def rows(condition, order: tuple, number: int) -> Page:
        total = session.scalar(select(func.count()).select_from(Meeting).where(condition)) or 0
        number = _clamp(number, total, per_page)
        result = session.execute(select(Meeting).where(condition).order_by(*order).add_columns(entries, minutes)
                                 .limit(per_page).offset((number - 1) * per_page)).all()
        return Page(items=[MeetingRow(m, n, planned) for m, n, planned in result], total=total, page=number,
                    per_page=per_page)

    upcoming = rows(Meeting.status != "closed", (Meeting.starts_at, Meeting.id), upcoming_page)
    closed = rows(Meeting.status == "closed", (Meeting.starts_at.desc(), Meeting.id.desc()), page)
    return upcoming, closed


@dataclass
class QueueItem:
    item: DecisionItem
    carried_from: AgendaEntry | None  # the item's latest entry: its decision sent it back, if any

    @property
    def carry_forward(self) -> bool:
        """The last meeting sent the item back (the lifecycle's mark, which the picker orders by),
        with the entry whose decision did so at hand."""
        return (self.item.carried_forward and self.carried_from is not None
                and self.carried_from.decision is not None)


PICKER_PAGE = 15
#: At most this many escalated items match a search of the picker (the newest that match).
PICKER_MATCHES = 200

#: Sent by the meeting picker's search with the app as sender and ``session``, ``viewer``,
#: ``words`` and ``cap``; a receiver answers the ids of at most ``cap`` escalated items whose
#: text matches ``words``, newest first (the search area does, from its full-text index: a
#: bounded lookup, where matching every escalated title would read them all).
picker_matches = signals.signal("agenda.picker-matches")


@dataclass
class PickerPage(Page):
    #: The search matched more escalated items than the picker takes (PICKER_MATCHES).
    capped: bool = False


def queue_page(session: Session, find: str = "", page: int = 1, per_page: int = PICKER_PAGE,
               viewer: User | None = None) -> PickerPage:
    """One page of the escalation queue for a meeting's "add an item" picker, optionally only
    the items that ``find`` names (words of their text, or their #number; a search by words
    needs the ``viewer``): those carried forward from a deferral or a call for more evidence
    first, then the longest waiting. Three queries whatever the queue's size (the page's ids
    with the count, the rows, the latest earlier entries of the page's items), and one more for
    a search, all but the rows' from the derived cache while the trail stays put."""
    conditions = [DecisionItem.status == "escalated"]
    find = find.strip()[:200]
    capped = False
    if find:
        named = []
        number = find.lstrip("#")
        if number.isdigit() and len(number) < 10:
            named.append(DecisionItem.id == int(number))
        ids = cached(session, ("meeting-picker matches", find), lambda: tuple(app_answer(
            picker_matches, session=session, viewer=viewer, words=find, cap=PICKER_MATCHES) or ()))
        if ids:
            named.append(DecisionItem.id.in_(ids))
            capped = len(ids) >= PICKER_MATCHES
        conditions.append(or_(*named) if named else false())
    # In the order of ix_decision_items_queue: a page is read from the index (the lifecycle keeps
    # carried_forward), not sorted from every escalated item's latest decision.
    found = paginate_rows(session, DecisionItem, conditions,
                          (DecisionItem.carried_forward.desc(), DecisionItem.updated_at, DecisionItem.id),
                          page, per_page, cache_key=("meeting-picker", find))
    result = PickerPage(items=found.items, total=found.total, page=found.page, per_page=found.per_page,
                        capped=capped)
    latest = {}
    if result.items:
        newest = (select(func.max(AgendaEntry.id)).where(AgendaEntry.item_id.in_([i.id for i in result.items]))
                  .group_by(AgendaEntry.item_id))
        for entry in session.scalars(select(AgendaEntry).where(AgendaEntry.id.in_(newest))
                                     .options(selectinload(AgendaEntry.decisions))):
            latest[entry.item_id] = entry
    result.items = [QueueItem(item, latest.get(item.id)) for item in result.items]
    return result


def pack_entries(session: Session, meeting_id: int) -> tuple[Meeting, list[AgendaEntry]]:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(f"There is no meeting {meeting_id}.")
    entries = list(session.scalars(
        select(AgendaEntry).where(AgendaEntry.meeting_id == meeting.id)
        .options(
            joinedload(AgendaEntry.item).joinedload(DecisionItem.filer),
            joinedload(AgendaEntry.item).joinedload(DecisionItem.function),
            joinedload(AgendaEntry.presenter),
            joinedload(AgendaEntry.carried_from).joinedload(AgendaEntry.meeting),
        )
        .order_by(AgendaEntry.position)
    ).unique())
    return meeting, entries


def executives(session: Session) -> list[User]:
    return list(session.scalars(
        select(User).where(User.holding(policy.Action.MANAGE_AGENDA), User.active.is_(True)).order_by(User.display_name)
    ))


def people(session: Session) -> list[User]:
    """Who can present an item or own an action: active staff and executives."""
    return list(session.scalars(
        select(User).where(User.holding(policy.Action.TAKE_PART), User.active.is_(True))
        .order_by(User.display_name)
    ))


# -------------------------------------------------------------------------- decision register
@dataclass
class RegisterFilters:
    outcome: str = ""
    function: str = ""
    date_from: date | None = None
    date_to: date | None = None
    extra: dict[str, str] = field(default_factory=dict)  # registered filters (e.g. tier)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def decision_register(session: Session, filters: RegisterFilters, page: int = 1,
                      per_page: int = 25) -> tuple[Page, dict[str, dict[int, str]]]:
    """Every entry's decision as it stands (amendments included), newest first, filtered: a page
    of ``register_ids`` with its decisions and the other areas' columns (``register_rows``)."""
    result = register_ids(session, filters, page, per_page)
    result.items, columns = register_rows(session, result.ids)
    return result, columns


def register_ids(session: Session, filters: RegisterFilters, page: int = 1, per_page: int = 25) -> Page:
    """The ids of a page of the decision register with their count (ValidationError for a filter
    that is not valid). Kept in the derived cache until the trail moves, under the filters; the
    statements are built only when the page is not there (building them took 4 ms of the warm
    page)."""
    if filters.outcome and filters.outcome not in OUTCOMES:
        raise ValidationError(f"Unknown outcome {filters.outcome!r}.", "outcome")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationError("The start of the date range lies after its end.", "date_from")
    hooks = {spec.key: spec for spec in decision_filters()}
    extra = tuple(sorted((k, v) for k, v in filters.extra.items() if v and k in hooks))
    key = ("decision-register", filters.outcome, filters.function, filters.date_from, filters.date_to, extra)

    def locate() -> tuple[int, int, tuple[int, ...]]:
        found = _register_page(session, filters, [hooks[k].condition(v) for k, v in extra], page, per_page)
        return found.total, found.page, tuple(found.ids)

    total, shown, ids = cached(session, ("page", key, page, per_page), locate)
    return Page(items=[], total=total, page=shown, per_page=per_page, ids=list(ids))


def _register_page(session: Session, filters: RegisterFilters, extra: list[ColumnElement[bool]], page: int,
                   per_page: int) -> Page:
    """``register_ids`` read from the database, the filters checked already."""
    newer = aliased(Decision)
    conditions: list[ColumnElement[bool]] = [
        ~select(newer.id).where(newer.amends_id == Decision.id).exists()
    ]
    if filters.outcome:
        conditions.append(Decision.outcome == filters.outcome)
    if filters.function:
        conditions.append(DecisionItem.function_key == filters.function)
    # The date range applies to the meeting at which the decision was taken.
    if filters.date_from:
        conditions.append(Meeting.starts_at >= _day_start(filters.date_from))
    if filters.date_to:
        conditions.append(Meeting.starts_at < _day_start(filters.date_to) + timedelta(days=1))
    conditions += extra
    # The page's ids are sorted over narrow rows; only its 25 decisions are loaded with their
    # meeting, item and actions (a sort over the joined rows took 100 ms at 38,000 decisions).
    #
    # The ids walk the meetings newest first and stop after the page: "+ 0" on the two keys the
    # joins would otherwise look rows up by keeps SQLite from starting at the decisions (it read
    # all 38,000 and sorted them: 42 ms for the first page, 0.3 ms like this); PostgreSQL walks
    # the meetings either way. The count, unfiltered, is the first revisions' (each decision's
    # revisions form one chain with one first and one current revision): 31–49 → 1 ms.
    filtered = len(conditions) > 1
    joins = ((AgendaEntry, Decision.entry_id == AgendaEntry.id), (Meeting, AgendaEntry.meeting_id == Meeting.id),
             (DecisionItem, AgendaEntry.item_id == DecisionItem.id))
    count = count_of(Decision, conditions, joins) if filtered else \
        select(func.count()).select_from(Decision).where(Decision.amends_id.is_(None))
    return paginate_rows(
        session, Decision, conditions,
        (Meeting.starts_at.desc(), AgendaEntry.position, Decision.id.desc()), page, per_page,
        joins=((AgendaEntry, Decision.entry_id == AgendaEntry.id + 0), (Meeting, AgendaEntry.meeting_id == Meeting.id + 0),
               joins[-1]),
        count=count, load_rows=False,
    )


def register_rows(session: Session, ids: Sequence[int]) -> tuple[list[Decision], dict[str, dict[int, str]]]:
    """The decisions ``ids`` in that order with their meeting, item and actions (two statements),
    and the columns other areas add for their items (forum.agenda.pack.decision_filters)."""
    decisions = rows_by_ids(session, Decision, ids, (
        joinedload(Decision.entry).joinedload(AgendaEntry.meeting),
        joinedload(Decision.entry).joinedload(AgendaEntry.item).joinedload(DecisionItem.function),
        selectinload(Decision.actions)))
    item_ids = [d.entry.item_id for d in decisions]
    columns = {spec.key: spec.column(session, item_ids) for spec in decision_filters()
               if spec.column is not None and item_ids}
    return decisions, columns


# ------------------------------------------------------------------------------------ actions
def _action_loading():
    return (
        joinedload(Action.owner),
        joinedload(Action.decision).joinedload(Decision.entry).joinedload(AgendaEntry.item),
        joinedload(Action.decision).joinedload(Decision.entry).joinedload(AgendaEntry.meeting),
    )


@dataclass(frozen=True)
class ActionCounts:
    owners: dict[int, int]  # open actions per owner (none: no entry)
    overdue: int  # open actions due before the day asked for


#: Sent with the app as sender and ``session`` and ``today`` (a date, or None when the overdue
#: count is not wanted); a receiver answers the open actions' counts kept as changes happen
#: (ActionCounts), or None when it keeps none for that day (forum.health.tallies keeps them: a
#: few rows where counting read every open action of the organisation).
kept_action_counts = signals.signal("agenda.kept-action-counts")


def _kept_total(session: Session, owner: User | None, overdue_on: date | None) -> int | None:
    """How many open actions ``open_actions`` lists, as kept (``kept_action_counts``), or None."""
    if owner is not None and overdue_on is not None:
        return None  # one owner's overdue actions: not kept
    kept = app_answer(kept_action_counts, session=session, today=overdue_on)
    if kept is None:
        return None
    if owner is not None:
        return kept.owners.get(owner.id, 0)
    return kept.overdue if overdue_on is not None else sum(kept.owners.values())


def open_actions(session: Session, owner: User | None = None, overdue_on: date | None = None,
                 page: int = 1, per_page: int = 50, load_rows: bool = True) -> Page:
    """Open actions, earliest due first: one owner's, or everyone's; only overdue ones when
    ``overdue_on`` is given (due before that day). The page's ids with the count come from the
    derived cache while the trail stays put (the home pages show two such lists on every visit),
    the count from the counts kept as actions change where they tell it; then one statement for
    the page's actions with their decision, entry, item and meeting (``actions_by_ids``; none
    with ``load_rows=False``)."""
    conditions = [Action.done.is_(False)]
    if owner is not None:
        conditions.append(Action.owner_id == owner.id)
    if overdue_on is not None:
        conditions.append(Action.due_on < overdue_on)
    return paginate_rows(session, Action, conditions, (Action.due_on, Action.id), page, per_page,
                         _action_loading() if load_rows else (),  # building them costs 1.5 ms
                         cache_key=("open actions", owner.id if owner else None, overdue_on),
                         count=_kept_total(session, owner, overdue_on), load_rows=load_rows, items_only=True)


def actions_by_ids(session: Session, ids: Sequence[int]) -> list[Action]:
    """The actions ``ids`` in that order, with their owner, decision, entry, item and meeting."""
    return rows_by_ids(session, Action, ids, _action_loading())


# ------------------------------------------------------------------------------ the item panel
def item_entries(session: Session, item_id: int) -> list[AgendaEntry]:
    """The item's agenda entries, earliest first, with their meetings, decisions and actions:
    three statements whatever their number (entries with their meetings and recusals; decisions
    with who recorded them and their actions; the deciders). The deciders stay a statement of
    their own: joined in, SQLite builds the whole deciders table before it looks for an entry's
    (140 ms at 100,000 items)."""
    return list(session.scalars(
        select(AgendaEntry).where(AgendaEntry.item_id == item_id)
        .options(
            joinedload(AgendaEntry.meeting),
            joinedload(AgendaEntry.recusals).joinedload(Recusal.user),
            selectinload(AgendaEntry.decisions).options(
                joinedload(Decision.recorded_by),
                selectinload(Decision.deciders),
                joinedload(Decision.actions).joinedload(Action.owner),
            ),
        )
        .order_by(AgendaEntry.id)
    ).unique())
