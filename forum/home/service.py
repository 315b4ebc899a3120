"""What each role sees first after logging in: the data of the role home pages.

Every function takes the session and the viewer, reads a bounded number of queries whatever the
data size, and returns plain values for templates/home/. The view picks the builder by role.

"Items I take part in" is one definition, ``involved_newest`` with ``INVOLVEMENT`` (filed, rated,
took a position on, commented on, or followed): extend it there and every list that uses it
follows.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from flask import get_template_attribute
from markupsafe import Markup
from sqlalchemy import Select, func, select, union, union_all
from sqlalchemy.orm import Session, joinedload, load_only

from forum.admin.service import KIND_LABELS
from forum.agenda import queries as agenda
from forum.agenda.models import Action as FollowUp
from forum.agenda.models import AgendaEntry, Decision, Meeting
from forum.audit import verify as audit
from forum.audit.access import head as trail_head
from forum.audit.models import Checkpoint
from forum.auth import provisioning
from forum.auth.models import ROLE_LABELS, UNUSABLE_PASSWORD_PREFIX, OrgFunction, User
from forum.core.derived import cached, rendered
from forum.core.paging import Page, first_ids, known_count, paginate_rows, unindexed
from forum.evidence import gates
from forum.evidence.models import EvidenceRun
from forum.evidence.service import item_tiers, recheck
from forum.health import tallies
from forum.health.service import GATE_COLUMNS
from forum.items.models import STATUSES, DecisionItem
from forum.items.rubric import RUBRIC
from forum.notify.models import Follow
from forum.register import grouping
from forum.trail.models import Event
from forum.weighing import checks, drift, rules, standing
from forum.weighing.models import Comment, Position, WeightRating
from forum.weighing.queries import awaiting_condition, divergence_condition
from forum.weighing.queue import queue_by_tier
from forum.weighing.rows import item_rows, lists_of_rows

LIST_SIZE = 8


#: Where taking part is written down: (the table's item column, its person column).
INVOLVEMENT = (
    (Follow.item_id, Follow.user_id),
    (WeightRating.item_id, WeightRating.rater_id),
    (Position.item_id, Position.author_id),
    (Comment.item_id, Comment.author_id),
)
#: Lists whose condition no index answers (the drifted items a person takes part in, the items
#: waiting for a function) count their items up to this many ("at least" beyond): a full count
#: would test every item (79 ms of the staff home page for 60,000 items in weighing, PostgreSQL).
COUNT_CAP = 1000


def involved_newest(user: User, conditions: list, limit: int) -> Select:
    """The ids of the newest ``limit`` items ``user`` takes part in — filed, rated (their
    function's current rating is theirs), took a position on (likewise), commented on, or follows
    — that meet ``conditions``, newest first. One arm per kind of taking part, each walking that
    person's own rows newest item first (an index on (person, item) each) and stopping at
    ``limit``, merged newest first without repeats and stopped at ``limit``: the work is bounded
    by ``limit`` where matches are many, and by the person's own rows where they are few, never
    by the size of the forum. (The arms are merged as they stream rather than gathered whole
    and then deduplicated: PostgreSQL then reads only as far into each arm as the merged
    newest ``limit`` need: counting up to 1,000 for the benchmark's staff member took 21 ms as a
    union gathered whole, 3 ms so (SQLite 11 → 7 ms).)"""
    arms = [select(DecisionItem.id.label("id")).where(DecisionItem.filer_id == user.id, *conditions)
            .order_by(DecisionItem.id.desc()).limit(limit)]
    for item_column, person_column in INVOLVEMENT:
        arms.append(select(item_column.label("id")).distinct()
                    .join(DecisionItem, DecisionItem.id == item_column)
                    .where(person_column == user.id, *conditions)
                    .order_by(item_column.desc()).limit(limit))
    merged = union_all(*(select(arm.subquery().c.id) for arm in arms)).subquery()
    return select(merged.c.id).group_by(merged.c.id).order_by(merged.c.id.desc()).limit(limit)


def involved_drifted(session: Session, user: User, now: datetime, limit: int = LIST_SIZE,
                     cap: int | None = None) -> tuple[list[Drift], int, bool]:
    """``involved_drifted_ids`` with the items and what drifted in them."""
    ids, total, more = involved_drifted_ids(session, user, now, limit, cap)
    return _drift_details(session, ids, now), total, more


def involved_drifted_ids(session: Session, user: User, now: datetime, limit: int = LIST_SIZE,
                         cap: int | None = None) -> tuple[list[int], int, bool]:
    """The newest ``limit`` items ``user`` takes part in (past draft) whose current evidence went
    stale or regressed, how many there are, and whether that count is only a floor (``cap`` or
    more: counting further would read every one). Two statements, reused until the trail moves."""
    cap = cap or COUNT_CAP
    conditions = [DecisionItem.status != "draft", standing.evidence_drifted(now)]

    def find() -> tuple[list[int], int]:
        ids = list(session.scalars(involved_newest(user, conditions, limit)))
        total = session.scalar(select(func.count()).select_from(involved_newest(user, conditions, cap).subquery()))
        return ids, total or 0

    ids, total = cached(session, ("involved-drifted", user.id, limit, cap), find)
    return ids, min(total, cap), total >= cap


# ------------------------------------------------------------------------ drifted evidence
@dataclass
class Drift:
    """An item whose current evidence (the latest run of a suite) now fails freshness or
    regression: ``problems`` says which suite and why."""

    item: DecisionItem
    problems: list[str] = field(default_factory=list)


def drifted_items(session: Session, conditions: list, now: datetime, key: Hashable,
                  limit: int = LIST_SIZE) -> tuple[list[Drift], int]:
    """``drifted_ids`` with the items and what drifted in them (the current runs of the ``limit``
    shown say why). At most four queries, whatever the number of items."""
    ids, total = drifted_ids(session, conditions, now, key, limit)
    return _drift_details(session, ids, now), total


def drifted_ids(session: Session, conditions: list, now: datetime, key: Hashable,
                limit: int = LIST_SIZE, total: int | None = None) -> tuple[list[int], int]:
    """Items meeting ``conditions`` whose current evidence went stale or regressed, newest item
    first: up to ``limit`` of them and how many there are (``total``, when a kept tally knows).
    The items are found and counted in SQL on their standing (forum.weighing.standing), reused
    until the trail moves under ``key`` (which must name what ``conditions`` depend on;
    forum.core.derived)."""
    drifted = [*conditions, standing.evidence_drifted(now)]
    total, ids = cached(session, ("drifted", key, limit, total),
                        lambda: first_ids(session, DecisionItem, drifted, (DecisionItem.id.desc(),), limit,
                                          count=known_count(total)), items_only=True)
    return ids, total


def drift_rows(session: Session, ids: list[int], now: datetime) -> Markup:
    """The rows of the drifted items ``ids`` with what drifted in each (home/_macros.html
    ``drift_list``): kept rendered until the trail moves or the minute turns
    (forum.core.derived.rendered), the same for every viewer."""
    if not ids:
        return Markup("")
    return rendered(session, ("drift rows", tuple(ids)), lambda: [
        get_template_attribute("home/_macros.html", "drift_list")(_drift_details(session, ids, now))],
        items_only=True)[0]


def action_rows(session: Session, ids: list[int], today: date, show_owner: bool = False) -> Markup:
    """The rows of the follow-up actions ``ids`` (home/_macros.html ``action_list``): kept
    rendered until the trail moves or the minute turns, the same for every viewer."""
    if not ids:
        return Markup("")
    return rendered(session, ("action rows", tuple(ids), today, show_owner), lambda: [
        get_template_attribute("home/_macros.html", "action_list")(agenda.actions_by_ids(session, ids), today,
                                                                   show_owner)], items_only=True)[0]


def _drift_details(session: Session, ids: list[int], now: datetime) -> list[Drift]:
    """The items ``ids`` (newest first) with what drifted in their current runs: one query for
    the items, and one for their current runs unless the derived cache holds what drifted
    (forum.core.derived: the problems are plain text, reused until the trail moves)."""
    if not ids:
        return []
    shown = list(session.scalars(
        select(DecisionItem).where(DecisionItem.id.in_(ids)).order_by(DecisionItem.id.desc())))
    if not shown:
        return []
    problems = cached(session, ("drift problems", tuple(item.id for item in shown)),
                      lambda: _drift_problems(session, shown, now))
    return [Drift(item, list(problems[item.id])) for item in shown]


def _drift_problems(session: Session, shown: list[DecisionItem], now: datetime) -> dict[int, tuple[str, ...]]:
    """Per item, which suite's current run drifted since the item's decision and why."""
    by_id = {item.id: item for item in shown}
    latest = (select(func.max(EvidenceRun.id)).where(EvidenceRun.item_id.in_(list(by_id)))
              .group_by(EvidenceRun.item_id, EvidenceRun.suite))
    runs = session.scalars(
        select(EvidenceRun).where(EvidenceRun.id.in_(latest)).order_by(EvidenceRun.suite)
        .options(load_only(*GATE_COLUMNS, raiseload=True))
    ).all()
    tiers = item_tiers(session, shown)
    found: dict[int, list[str]] = {item.id: [] for item in shown}
    for run in runs:
        item = by_id[run.item_id]
        for gate in recheck(run, item, tiers.get(item.id), now):
            if gates.drifted_since_decision(gate, run, item, tiers.get(item.id)):
                found[item.id].append(f"{run.suite}: {gate.detail}")
    return {item_id: tuple(problems) for item_id, problems in found.items()}


# ------------------------------------------------------------------------------------ staff
@dataclass
class StaffHome:
    my_counts: dict[str, int]  # items I filed, by status
    mine: Page  # items I filed, newest first
    function: OrgFunction | None
    awaiting: Page | None  # items my function has not yet rated or taken a position on
    awaiting_more: bool  # awaiting.total is a floor (COUNT_CAP): at least that many
    actions: Page  # my open follow-up actions (ids)
    actions_rows: Markup
    drifted: list[int]  # items I take part in whose evidence went stale or regressed
    drifted_rows: Markup
    drifted_total: int
    drifted_more: bool  # drifted_total is a floor: at least that many
    mine_rows: Markup  # the rows of ``mine`` and ``awaiting`` (forum.weighing.rows)
    awaiting_rows: Markup
    today: date


def _item_page(session: Session, conditions: list, key: Hashable, per_page: int = LIST_SIZE,
               count_cap: int | None = None, total: int | None = None) -> Page:
    """The ids of the newest items meeting ``conditions`` (their rows are rendered by
    forum.weighing.rows); ``key`` names what they depend on (for the cache); ``count_cap``: the
    total counts up to this many; ``total``: the count, known already (a kept tally)."""
    return paginate_rows(
        session, DecisionItem, conditions, (DecisionItem.created_at.desc(), DecisionItem.id.desc()),
        1, per_page, cache_key=("home", key, total), count_cap=count_cap, load_rows=False, items_only=True,
        count=known_count(total),
    )


def staff_home(session: Session, viewer: User, settings: rules.ForumSettings, now: datetime) -> StaffHome:
    """Staff (and executives who belong to a function see the same lists on their page)."""
    # My items by status, kept until the items change (an index count, but of all of a prolific
    # filer's items: 1.8 ms of the 11 ms warm page on PostgreSQL for 11,000 items).
    found = cached(session, ("my counts", viewer.id), lambda: dict(session.execute(
        select(DecisionItem.status, func.count()).where(DecisionItem.filer_id == viewer.id)
        .group_by(DecisionItem.status)
    ).all()), items_only=True)
    my_counts = {status: found.get(status, 0) for status in STATUSES}
    # The list's total is the counts' (a count of a prolific filer's 11,000 items again took
    # 11 ms cold on PostgreSQL): its own count stops past the list.
    mine = _item_page(session, [DecisionItem.filer_id == viewer.id, DecisionItem.status != "closed"],
                      ("mine", viewer.id), count_cap=LIST_SIZE + 1)
    mine.total = sum(n for status, n in my_counts.items() if status != "closed")
    function = awaiting = None
    if checks.can_weigh(viewer):
        function = viewer.function  # joined with the user
        awaiting = _item_page(session, [
            DecisionItem.status.in_(checks.WEIGHING_STATUSES), awaiting_condition(viewer.function_key),
        ], ("awaiting", viewer.function_key), count_cap=COUNT_CAP)
    actions = agenda.open_actions(session, owner=viewer, per_page=LIST_SIZE, load_rows=False)
    drifted, drifted_total, drifted_more = involved_drifted_ids(session, viewer, now)
    mine_rows, awaiting_rows = lists_of_rows(session, [mine.ids, awaiting.ids if awaiting else []], settings)
    return StaffHome(
        my_counts=my_counts, mine=mine, function=function, awaiting=awaiting,
        awaiting_more=awaiting is not None and awaiting.total >= COUNT_CAP, actions=actions,
        actions_rows=action_rows(session, actions.ids, now.date()),
        drifted=drifted, drifted_rows=drift_rows(session, drifted, now), drifted_total=drifted_total,
        drifted_more=drifted_more,
        mine_rows=mine_rows, awaiting_rows=awaiting_rows, today=now.date(),
    )


# ------------------------------------------------------------------------------- executives
@dataclass(frozen=True)
class TierCount:
    key: str
    label: str
    count: int


@dataclass
class NextMeeting:
    meeting: Meeting
    entries: int
    minutes: int  # the agenda's time boxes added up

    @property
    def over_by(self) -> int:
        return max(0, self.minutes - self.meeting.duration_minutes)

    @property
    def left(self) -> int:
        return max(0, self.meeting.duration_minutes - self.minutes)


@dataclass
class ExecutiveHome:
    queue: list[TierCount]  # the escalation queue by tier, highest first, "Not rated" last
    queue_total: int
    next_meeting_card: Markup  # the next meeting's card, or the words that none is planned
    overdue: Page  # everyone's overdue follow-up actions (ids)
    overdue_rows: Markup
    revalidation: list[int]  # decided or closed items whose evidence drifted
    revalidation_rows: Markup
    revalidation_total: int
    divergent: Page  # items being weighed whose functions' tiers diverge
    actions: Page  # my own open follow-up actions (ids)
    actions_rows: Markup
    divergent_rows: Markup  # the rows of ``divergent`` (forum.weighing.rows)
    today: date
    drifted_systems: list[drift.DriftedSystem] = field(default_factory=list)


def next_meeting(session: Session, now: datetime) -> NextMeeting | None:
    """The soonest meeting that is not closed and starts today (UTC) or later — a meeting left
    open after its day is not "next" — with its entry count and the sum of its time boxes. One
    query."""
    # Correlated: the entries of the few meetings that qualify are counted, not every meeting's
    # (grouping all agenda entries first took 6 ms of the executive home page's 28 at 100k items).
    entries = select(func.count()).where(AgendaEntry.meeting_id == Meeting.id).scalar_subquery()
    minutes = (select(func.coalesce(func.sum(AgendaEntry.time_box_minutes), 0))
               .where(AgendaEntry.meeting_id == Meeting.id).scalar_subquery())
    row = session.execute(
        select(Meeting, entries, minutes)
        .where(Meeting.status != "closed",
               Meeting.starts_at >= datetime.combine(now.date(), time.min, tzinfo=UTC))
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(1)
    ).first()
    return NextMeeting(*row) if row else None


def next_meeting_card(session: Session, now: datetime) -> Markup:
    """The next meeting's card (home/_macros.html ``next_meeting_card``), the same for every
    executive: kept rendered until the items or the meetings change (forum.core.derived
    ``items_only``) — its query with two correlated counts took 3 ms of each executive home
    page, warm."""
    return rendered(session, ("next meeting", now.date()), lambda: [
        get_template_attribute("home/_macros.html", "next_meeting_card")(next_meeting(session, now))],
        items_only=True)[0]


#: From how many matches (a kept count) the newest few are found by walking the items newest first
#: rather than through the status index (forum.core.paging.unindexed): the walk then reads about
#: (items ÷ matches) × LIST_SIZE rows, where the index reads every match to sort them.
WALK_FROM = 100


_UNINDEXED_STATUS = unindexed(DecisionItem.status)  # built once: an expression serves every statement


def _status(matches: int | None):
    """The status column of a list of the newest few items, with its ``matches`` counted already
    (None: not known, and the list counts them through the index)."""
    return _UNINDEXED_STATUS if matches is not None and matches >= WALK_FROM else DecisionItem.status


def executive_home(session: Session, viewer: User, settings: rules.ForumSettings, now: datetime) -> ExecutiveHome:
    # The counts from the kept tallies (forum.health.tallies), not from every open item; from the
    # items when the tallies were not counted under this forum's escalation threshold.
    kept = tallies.kept_open_counts(session, settings, now)
    divergent = _item_page(session, [
        _status(kept and kept.divergent).in_(checks.WEIGHING_STATUSES), divergence_condition(),
    ], ("divergent",), total=kept and kept.divergent)
    counts = queue_by_tier(session, settings, now)  # kept too (forum.weighing.queue.kept_queue_counts)
    queue = [TierCount(t.key, t.label, counts.get(t.index, 0)) for t in reversed(RUBRIC.tiers)]
    queue.append(TierCount("unrated", "Not rated", counts.get(-1, 0)))
    revalidation, revalidation_total = drifted_ids(
        session, [_status(kept and kept.revalidation).in_(("decided", "closed"))], now, ("revalidation",),
        total=kept and kept.revalidation)
    overdue = agenda.open_actions(session, overdue_on=now.date(), per_page=LIST_SIZE, load_rows=False)
    actions = agenda.open_actions(session, owner=viewer, per_page=LIST_SIZE, load_rows=False)
    return ExecutiveHome(
        queue=queue, queue_total=sum(counts.values()), next_meeting_card=next_meeting_card(session, now),
        overdue=overdue, overdue_rows=action_rows(session, overdue.ids, now.date(), show_owner=True),
        revalidation=revalidation, revalidation_rows=drift_rows(session, revalidation, now),
        revalidation_total=revalidation_total, divergent=divergent,
        actions=actions, actions_rows=action_rows(session, actions.ids, now.date()),
        divergent_rows=item_rows(session, divergent.ids, settings), today=now.date(),
        drifted_systems=drift.drifted_systems(session, now, LIST_SIZE) if revalidation_total else [],
    )


# --------------------------------------------------------------------------------- auditors
@dataclass
class AuditorHome:
    trail_size: int  # events in the trail (seq is gap-free, so the head's seq)
    head_hash: str
    verification: audit.PastVerification | None
    checkpoint: Checkpoint | None
    decisions: list[Decision]  # the latest decisions recorded, amendments included
    amendments: list[Decision]  # the latest amendments
    amendments_total: int


def _decision_query():
    return select(Decision).options(
        joinedload(Decision.entry).joinedload(AgendaEntry.item),
        joinedload(Decision.entry).joinedload(AgendaEntry.meeting),
        joinedload(Decision.recorded_by),
    ).order_by(Decision.recorded_at.desc(), Decision.id.desc())


def auditor_home(session: Session, viewer: User) -> AuditorHome:
    seq, digest = trail_head(session)
    return AuditorHome(
        trail_size=seq, head_hash=digest, verification=audit.last_verification(session),
        checkpoint=session.scalar(
            select(Checkpoint).order_by(Checkpoint.seq.desc(), Checkpoint.id.desc()).limit(1)),
        decisions=list(session.scalars(_decision_query().limit(LIST_SIZE))),
        amendments=list(session.scalars(
            _decision_query().where(Decision.amends_id.is_not(None)).limit(5))),
        amendments_total=session.scalar(
            select(func.count()).select_from(Decision).where(Decision.amends_id.is_not(None))) or 0,
    )


# ----------------------------------------------------------------------------------- admins
#: The account changes an administrator follows on their home page.
ACCOUNT_KINDS = ("user.created", "user.updated", "user.deactivated", "user.reactivated",
                 "user.password_link_issued", "user.password_set", "function.created", "function.updated")
ADMIN_LIST = 8


@dataclass
class AccountChange:
    seq: int
    at: datetime
    label: str
    subject: str
    account: User | None
    actor: str
    actor_name: str


@dataclass
class OpenWork:
    user: User
    actions: int
    items: int


@dataclass
class AdminHome:
    roles: list[tuple[str, str, int, int]]  # (role, label, active, inactive)
    functions: int
    active: int
    inactive: int
    awaiting_password: list[User] = field(default_factory=list)
    awaiting_total: int = 0
    changes: list[AccountChange] = field(default_factory=list)
    deactivated_with_work: list[OpenWork] = field(default_factory=list)
    access_requests: int = 0  # people the identity provider signed in whom the forum did not let in
    grouping_waits: bool = False  # items filed before the register wait to be grouped into it


#: Statuses in which an item still waits on the person who filed it.
OPEN_ITEM_STATUSES = ("draft", "open", "escalated", "scheduled")


def admin_home(session: Session, viewer: User) -> AdminHome:
    """What an administrator acts on: open access requests from single sign-on, accounts waiting
    for their password, the latest account changes, deactivated accounts that still own open
    work, and items to group into the register (eleven queries)."""
    counts = {(role, active): n for role, active, n in session.execute(
        select(User.role, User.active, func.count()).group_by(User.role, User.active)
    )}
    roles = [(role, label, counts.get((role, True), 0), counts.get((role, False), 0))
             for role, label in ROLE_LABELS.items()]
    # Accounts of single sign-on have no password and wait for none.
    waiting = (User.active.is_(True), User.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX),
               User.identity_subject.is_(None))
    return AdminHome(
        roles=roles, functions=session.scalar(select(func.count()).select_from(OrgFunction)) or 0,
        active=sum(r[2] for r in roles), inactive=sum(r[3] for r in roles),
        awaiting_password=list(session.scalars(
            select(User).where(*waiting).order_by(User.created_at.desc(), User.id.desc()).limit(ADMIN_LIST))),
        awaiting_total=session.scalar(select(func.count()).select_from(User).where(*waiting)) or 0,
        changes=_account_changes(session),
        deactivated_with_work=_deactivated_with_work(session),
        access_requests=provisioning.count_open(session),
        grouping_waits=grouping.waiting(session),
    )


def _account_changes(session: Session) -> list[AccountChange]:
    """The latest account and function changes: the newest few of each kind through the kind
    index, then the newest of those (one statement whatever the trail's length), and the
    accounts and actors they name (one more)."""
    labels = {**KIND_LABELS, "function.created": "Function created", "function.updated": "Function changed"}
    newest = [select(Event.seq).where(Event.kind == kind).order_by(Event.seq.desc()).limit(ADMIN_LIST).subquery()
              for kind in ACCOUNT_KINDS]
    seqs = union(*(select(sub.c.seq) for sub in newest)).subquery()
    events = list(session.scalars(
        select(Event).where(Event.seq.in_(select(seqs.c.seq))).order_by(Event.seq.desc()).limit(ADMIN_LIST)))
    ids = {int(e.subject.partition(":")[2]) for e in events if e.subject.startswith("user:")
           and e.subject.partition(":")[2].isdigit()}
    emails = {e.actor for e in events}
    people = list(session.scalars(select(User).where(User.id.in_(ids) | User.email.in_(emails)))) \
        if ids or emails else []
    by_id, by_email = {u.id: u for u in people}, {u.email: u for u in people}
    changes = []
    for e in events:
        account = by_id.get(int(e.subject.partition(":")[2])) if e.subject.startswith("user:") \
            and e.subject.partition(":")[2].isdigit() else None
        actor = by_email.get(e.actor)
        changes.append(AccountChange(e.seq, e.at, labels.get(e.kind, e.kind), e.subject, account, e.actor,
                                     actor.display_name if actor else e.actor))
    return changes


def _deactivated_with_work(session: Session) -> list[OpenWork]:
    """Deactivated accounts that still own open follow-up actions or filed items still in play:
    work that needs a new owner (three queries)."""
    actions = func.count(FollowUp.id.distinct())
    open_actions = dict(session.execute(
        select(FollowUp.owner_id, actions).join(User, User.id == FollowUp.owner_id)
        .where(User.active.is_(False), FollowUp.done.is_(False)).group_by(FollowUp.owner_id)).all())
    open_items = dict(session.execute(
        select(DecisionItem.filer_id, func.count()).join(User, User.id == DecisionItem.filer_id)
        .where(User.active.is_(False), DecisionItem.status.in_(OPEN_ITEM_STATUSES))
        .group_by(DecisionItem.filer_id)).all())
    ids = sorted(set(open_actions) | set(open_items),
                 key=lambda i: -(open_actions.get(i, 0) + open_items.get(i, 0)))[:ADMIN_LIST]
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [OpenWork(users[i], open_actions.get(i, 0), open_items.get(i, 0)) for i in ids if i in users]
