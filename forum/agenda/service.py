"""Rules of the executive agenda: meetings and their state machine, agenda entries, recusal,
decisions and amendments, follow-up actions, and the lapse of time-limited approvals.

Services take the session and the acting user, add and flush, and never commit.

One change, one event. Each agenda change writes exactly one event of its own. When the same
user action also moves the item through its lifecycle (adding an entry schedules the item,
recording a decision decides or defers it, completing the last action closes it), the status
change is made by ``forum.items.service.transition`` — the only code that changes an item's
status — and that writes its own ``item.status_changed`` event. The two events describe two
distinct changes (what the agenda recorded, and where the item now stands), in the same
transaction, so they stand or fall together. Every check runs before the first write, so a
refused action writes nothing and no event.

Subjects: meeting-level changes (meeting details and status, entries added, moved, changed or
removed) are events of ``meeting:<id>``; what concerns one item (conflicts declared, decisions,
amendments, actions completed) is an event of ``item:<id>``, so it reads in the item's history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from forum.agenda.models import OUTCOMES, SETTLING_OUTCOMES, Action, AgendaEntry, Decision, Meeting, Recusal
from forum.auth.models import User
from forum.core import clock, policy
from forum.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.proximity.service import decision_snapshot, snapshot_summary
from forum.trail.service import record

MAX_TITLE = 200
MAX_DURATION = 12 * 60
MAX_TIME_BOX = 240
MAX_TEXT = 20_000
MAX_ACTION_TEXT = 500
MAX_REASON = 500
#: Outcomes that may carry an expiry date (and, for any outcome that approves, policy exceptions).
EXPIRING_OUTCOMES = ("approved_with_conditions",)
APPROVING_OUTCOMES = ("approved", "approved_with_conditions")


# ---------------------------------------------------------------------------------------------
# The meeting's state machine: the one table of allowed moves.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeetingTransition:
    action: str
    label: str
    moves: dict[str, str]


MEETING_TRANSITIONS: dict[str, MeetingTransition] = {
    t.action: t
    for t in (
        MeetingTransition("publish", "Publish the agenda", {"draft": "published"}),
        MeetingTransition("start", "Start the meeting", {"published": "in_session"}),
        MeetingTransition("close", "Close the meeting", {"in_session": "closed"}),
    )
}


def meeting_actions(status: str) -> list[MeetingTransition]:
    return [t for t in MEETING_TRANSITIONS.values() if status in t.moves]


# ---------------------------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------------------------
def is_executive(user: User | None) -> bool:
    return policy.allows(user, policy.Action.MANAGE_AGENDA)


def _require_executive(actor: User, doing: str) -> None:
    if not is_executive(actor):
        raise PermissionDenied(f"Only executives {doing}.")


@dataclass(frozen=True)
class RecusalNote:
    """Why someone may not decide an entry: they filed the item, or declared a conflict."""

    user_id: int
    name: str
    email: str
    reason: str


def recusals_of(entry: AgendaEntry) -> list[RecusalNote]:
    """Who is recused from ``entry`` (needs entry.item.filer and entry.recusals.user loaded)."""
    notes = []
    filer = entry.item.filer
    if filer.role in policy.roles_for(policy.Action.MANAGE_AGENDA):
        notes.append(RecusalNote(filer.id, filer.display_name, filer.email, "filed the item"))
    for recusal in entry.recusals:
        if recusal.user_id != filer.id:
            notes.append(RecusalNote(recusal.user_id, recusal.user.display_name, recusal.user.email,
                                     f"declared a conflict: {recusal.reason}"))
    return notes


def recusal_of(entry: AgendaEntry, user: User) -> RecusalNote | None:
    return next((note for note in recusals_of(entry) if note.user_id == user.id), None)


def _require_not_recused(entry: AgendaEntry, actor: User) -> None:
    note = recusal_of(entry, actor)
    if note is not None:
        raise PermissionDenied(
            f"You are recused from “{entry.item.title}” ({note.reason}): you cannot decide it.",
            "recusal",
        )


# ---------------------------------------------------------------------------------------------
# Loading with what the rules need
# ---------------------------------------------------------------------------------------------
def _entry_options():
    return (
        selectinload(AgendaEntry.item).joinedload(DecisionItem.filer),
        selectinload(AgendaEntry.meeting),
        selectinload(AgendaEntry.recusals).joinedload(Recusal.user),
        selectinload(AgendaEntry.decisions),
    )


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(f"There is no meeting {meeting_id}.")
    return meeting


def get_entry(session: Session, meeting_id: int, entry_id: int) -> AgendaEntry:
    entry = session.scalar(
        select(AgendaEntry).where(AgendaEntry.id == entry_id, AgendaEntry.meeting_id == meeting_id)
        .options(*_entry_options())
    )
    if entry is None:
        raise NotFound(f"Meeting {meeting_id} has no agenda entry {entry_id}.")
    return entry


def get_decision(session: Session, decision_id: int) -> Decision:
    decision = session.scalar(
        select(Decision).where(Decision.id == decision_id).options(
            selectinload(Decision.entry).options(*_entry_options()),
            selectinload(Decision.actions),
        )
    )
    if decision is None:
        raise NotFound(f"There is no decision {decision_id}.")
    return decision


def get_action(session: Session, action_id: int) -> Action:
    action = session.scalar(
        select(Action).where(Action.id == action_id).options(
            selectinload(Action.decision).selectinload(Decision.entry).options(*_entry_options()),
        )
    )
    if action is None:
        raise NotFound(f"There is no action {action_id}.")
    return action


# ---------------------------------------------------------------------------------------------
# Meetings
# ---------------------------------------------------------------------------------------------
@dataclass
class MeetingData:
    title: str
    starts_at: datetime | None
    duration_minutes: int | None


def _clean_meeting(data: MeetingData, current: Meeting | None = None) -> dict:
    title = (data.title or "").strip()
    if not title:
        raise ValidationError("Give the meeting a title.", "title")
    if len(title) > MAX_TITLE:
        raise ValidationError(f"The title is {len(title)} characters long; the limit is {MAX_TITLE}.", "title")
    starts_at = data.starts_at
    if starts_at is None:
        raise ValidationError("Give the date and time the meeting starts.", "starts_at")
    if starts_at.tzinfo is None:
        raise ValidationError("The start time must carry a time zone.", "starts_at")
    unchanged = current is not None and current.starts_at == starts_at
    if not unchanged and starts_at < clock.now():
        raise ValidationError("The start time is in the past.", "starts_at")
    duration = data.duration_minutes
    if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= MAX_DURATION:
        raise ValidationError(f"Give a duration between 1 and {MAX_DURATION} minutes.", "duration_minutes")
    return {"title": title, "starts_at": starts_at, "duration_minutes": duration}


def _flush_meeting(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(
            "Someone else changed this meeting's agenda at the same moment. Reload the page and "
            "try again.", "version",
        ) from exc


def _touch(session: Session, meeting: Meeting) -> None:
    """Bump the meeting's version: every agenda change goes through the meeting's lock."""
    meeting.updated_at = clock.now()
    _flush_meeting(session)


def _check_version(meeting: Meeting, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != meeting.version:
        raise Conflict(
            "Someone else changed this meeting while you were working on it (you had version "
            f"{expected_version}, it is now at version {meeting.version}). Your input is kept "
            "below: compare it with the meeting as it is now and save again.", "version",
        )


def create_meeting(session: Session, actor: User, data: MeetingData) -> Meeting:
    _require_executive(actor, "plan meetings")
    values = _clean_meeting(data)
    now = clock.now()
    meeting = Meeting(**values, status="draft", created_by_id=actor.id, created_at=now, updated_at=now)
    session.add(meeting)
    session.flush()
    record(session, actor, "meeting.created", meeting.subject, {
        "title": meeting.title, "starts_at": _iso(meeting.starts_at),
        "duration_minutes": meeting.duration_minutes, "status": "draft",
    })
    return meeting


def update_meeting(session: Session, actor: User, meeting: Meeting, data: MeetingData,
                   expected_version: int | None) -> dict:
    """Change a meeting's title, start or duration; returns the changes (empty when none)."""
    _require_executive(actor, "plan meetings")
    _require_open(meeting)
    _check_version(meeting, expected_version)
    values = _clean_meeting(data, current=meeting)
    changes = {
        key: {"before": _json(getattr(meeting, key)), "after": _json(value)}
        for key, value in values.items() if getattr(meeting, key) != value
    }
    if not changes:
        return {}
    for key, value in values.items():
        setattr(meeting, key, value)
    _touch(session, meeting)
    record(session, actor, "meeting.updated", meeting.subject,
           {"changes": changes, "version": meeting.version})
    return changes


def change_meeting_status(session: Session, actor: User, meeting: Meeting, action: str,
                          expected_version: int | None = None) -> Meeting:
    """Move the meeting through draft → published → in session → closed."""
    _require_executive(actor, "run meetings")
    spec = MEETING_TRANSITIONS.get(action)
    if spec is None:
        raise ValidationError(f"Unknown meeting action {action!r}.", "action")
    _check_version(meeting, expected_version)
    if meeting.status not in spec.moves:
        allowed = [t.action for t in meeting_actions(meeting.status)]
        raise Conflict(
            f"Cannot {action} a meeting that is {meeting.status_label.lower()}. From there the "
            f"allowed actions are: {', '.join(allowed) or 'none'}.", "status",
        )
    entries = _entries(session, meeting)
    if action == "publish" and not entries:
        raise ValidationError("Add at least one item to the agenda before publishing it.", "status")
    if action == "close":
        undecided = [e for e in entries if not e.decisions]
        if undecided:
            titles = "; ".join(f"{e.position}. {e.item.title}" for e in undecided)
            raise Conflict(
                "Every entry needs a decision before the meeting can be closed (record “deferred” "
                f"to carry an item forward, or take it off the agenda). Still open: {titles}.",
                "status",
            )
    before, after = meeting.status, spec.moves[meeting.status]
    meeting.status = after
    _touch(session, meeting)
    record(session, actor, "meeting.status_changed", meeting.subject,
           {"action": action, "from": before, "to": after})
    return meeting


def _require_open(meeting: Meeting) -> None:
    if meeting.status == "closed":
        raise Conflict(
            "The meeting is closed: its agenda and minutes can no longer change (a decision can "
            "be corrected by an amendment).", "status",
        )


def _entries(session: Session, meeting: Meeting) -> list[AgendaEntry]:
    return list(session.scalars(
        select(AgendaEntry).where(AgendaEntry.meeting_id == meeting.id)
        .options(selectinload(AgendaEntry.item), selectinload(AgendaEntry.decisions))
        .order_by(AgendaEntry.position)
    ))


# ---------------------------------------------------------------------------------------------
# Agenda entries
# ---------------------------------------------------------------------------------------------
def _check_time_box(minutes) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_TIME_BOX:
        raise ValidationError(f"Give a time box between 1 and {MAX_TIME_BOX} minutes.", "time_box_minutes")
    return minutes


def _check_presenter(session: Session, presenter_id: int | None) -> User | None:
    if presenter_id is None:
        return None
    presenter = session.get(User, presenter_id)
    if presenter is None or not policy.allows(presenter, policy.Action.TAKE_PART):
        raise ValidationError(
            "The presenter must be an active staff member or executive.", "presenter"
        )
    return presenter


def previous_entry(session: Session, item_id: int, before_meeting_id: int | None = None) -> AgendaEntry | None:
    """The item's latest entry on another meeting (the one a new entry carries forward)."""
    query = select(AgendaEntry).where(AgendaEntry.item_id == item_id)
    if before_meeting_id is not None:
        query = query.where(AgendaEntry.meeting_id != before_meeting_id)
    return session.scalar(query.order_by(AgendaEntry.id.desc()).limit(1))


def add_entry(session: Session, actor: User, meeting: Meeting, item_id: int | None,
              time_box_minutes: int, presenter_id: int | None = None) -> AgendaEntry:
    """Put an escalated item on the agenda (last position); the item becomes scheduled."""
    _require_executive(actor, "manage agendas")
    _require_open(meeting)
    item = session.get(DecisionItem, item_id) if item_id is not None else None
    if item is None:
        raise ValidationError("Choose an item from the escalation queue.", "item")
    time_box = _check_time_box(time_box_minutes)
    presenter = _check_presenter(session, presenter_id)
    if session.scalar(select(AgendaEntry.id).where(
            AgendaEntry.meeting_id == meeting.id, AgendaEntry.item_id == item.id)) is not None:
        raise Conflict(f"“{item.title}” is already on this meeting's agenda.", "item")
    if item.status != "escalated":
        where = _open_meeting_of(session, item.id)
        raise Conflict(
            f"“{item.title}” is {item.status_label.lower()}"
            + (f" and already on the agenda of “{where.title}”" if where else "")
            + ": only escalated items can be added to an agenda.", "item",
        )
    carried = previous_entry(session, item.id)
    last = session.scalar(
        select(func.max(AgendaEntry.position)).where(AgendaEntry.meeting_id == meeting.id)
    ) or 0
    items.transition(session, actor, item, "schedule", note=f"on the agenda of “{meeting.title}”")
    entry = AgendaEntry(
        meeting_id=meeting.id, item_id=item.id, position=last + 1, time_box_minutes=time_box,
        presenter_id=presenter.id if presenter else None,
        carried_from_id=carried.id if carried else None, created_at=clock.now(),
    )
    session.add(entry)
    _touch(session, meeting)
    record(session, actor, "agenda.entry_added", meeting.subject, {
        "entry": entry.id, "item": item.id, "title": item.title, "position": entry.position,
        "time_box_minutes": time_box, "presenter": presenter.email if presenter else None,
        "carried_from": carried.id if carried else None,
    })
    return entry


def _open_meeting_of(session: Session, item_id: int) -> Meeting | None:
    """The open meeting on which the item waits for a decision, if any."""
    return session.scalar(
        select(Meeting).join(AgendaEntry, AgendaEntry.meeting_id == Meeting.id)
        .where(AgendaEntry.item_id == item_id, Meeting.status != "closed",
               ~select(Decision.id).where(Decision.entry_id == AgendaEntry.id).exists())
        .limit(1)
    )


def _require_undecided(entry: AgendaEntry, doing: str) -> None:
    if entry.decisions:
        raise Conflict(f"“{entry.item.title}” has been decided: its entry can no longer be {doing}.", "status")


def update_entry(session: Session, actor: User, entry: AgendaEntry, time_box_minutes: int,
                 presenter_id: int | None) -> dict:
    _require_executive(actor, "manage agendas")
    _require_open(entry.meeting)
    _require_undecided(entry, "changed")
    time_box = _check_time_box(time_box_minutes)
    presenter = _check_presenter(session, presenter_id)
    changes = {}
    if entry.time_box_minutes != time_box:
        changes["time_box_minutes"] = {"before": entry.time_box_minutes, "after": time_box}
    new_presenter = presenter.id if presenter else None
    if entry.presenter_id != new_presenter:
        old = session.get(User, entry.presenter_id) if entry.presenter_id else None
        changes["presenter"] = {"before": old.email if old else None,
                                "after": presenter.email if presenter else None}
    if not changes:
        return {}
    entry.time_box_minutes = time_box
    entry.presenter_id = new_presenter
    _touch(session, entry.meeting)
    record(session, actor, "agenda.entry_updated", entry.meeting.subject,
           {"entry": entry.id, "item": entry.item_id, "changes": changes})
    return changes


def move_entry(session: Session, actor: User, entry: AgendaEntry, to_position: int | None) -> AgendaEntry:
    """Move an entry to ``to_position`` (1 … number of entries); the others shift to make room."""
    _require_executive(actor, "manage agendas")
    meeting = entry.meeting
    _require_open(meeting)
    entries = list(session.scalars(
        select(AgendaEntry).where(AgendaEntry.meeting_id == meeting.id).order_by(AgendaEntry.position)
    ))
    count = len(entries)
    if isinstance(to_position, bool) or not isinstance(to_position, int) or not 1 <= to_position <= count:
        raise ValidationError(
            f"There is no position {to_position} on this agenda: it has {count} "
            f"entr{'y' if count == 1 else 'ies'}, so positions run from 1 to {count}.", "position",
        )
    before = entry.position
    if to_position == before:
        return entry
    ordered = [e for e in entries if e.id != entry.id]
    ordered.insert(to_position - 1, entry)
    for number, each in enumerate(ordered, start=1):
        each.position = number
    _touch(session, meeting)
    record(session, actor, "agenda.entry_moved", meeting.subject,
           {"entry": entry.id, "item": entry.item_id, "from": before, "to": to_position})
    return entry


def remove_entry(session: Session, actor: User, entry: AgendaEntry) -> None:
    """Take a not-yet-decided item off the agenda: it goes back to the escalation queue."""
    _require_executive(actor, "manage agendas")
    meeting = entry.meeting
    _require_open(meeting)
    _require_undecided(entry, "removed")
    if entry.recusals:
        for recusal in list(entry.recusals):
            session.delete(recusal)
    item = entry.item
    items.transition(session, actor, item, "unschedule", note=f"taken off the agenda of “{meeting.title}”")
    position = entry.position
    entry_id = entry.id
    session.delete(entry)
    session.flush()
    for each in session.scalars(select(AgendaEntry).where(
            AgendaEntry.meeting_id == meeting.id, AgendaEntry.position > position)):
        each.position -= 1
    _touch(session, meeting)
    record(session, actor, "agenda.entry_removed", meeting.subject,
           {"entry": entry_id, "item": item.id, "title": item.title, "position": position})


def declare_conflict(session: Session, actor: User, entry: AgendaEntry, reason: str) -> Recusal:
    """An executive declares a conflict of interest on an entry: they are recused from it."""
    _require_executive(actor, "declare conflicts on agenda entries")
    _require_open(entry.meeting)
    _require_undecided(entry, "changed")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say what the conflict of interest is.", "reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"At most {MAX_REASON} characters.", "reason")
    existing = recusal_of(entry, actor)
    if existing is not None:
        raise Conflict(f"You are already recused from this item ({existing.reason}).", "reason")
    recusal = Recusal(entry=entry, user=actor, reason=reason, declared_at=clock.now())
    session.add(recusal)
    session.flush()
    record(session, actor, "agenda.conflict_declared", entry.item.subject,
           {"meeting": entry.meeting_id, "entry": entry.id, "reason": reason})
    return recusal


# ---------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------
@dataclass
class ActionData:
    text: str
    owner_id: int | None
    due_on: date | None


@dataclass
class DecisionData:
    outcome: str
    rationale: str
    conditions: str = ""
    expires_on: date | None = None
    decider_ids: list[int] = field(default_factory=list)
    actions: list[ActionData] = field(default_factory=list)


@dataclass
class AmendmentData:
    outcome: str
    rationale: str
    conditions: str = ""
    expires_on: date | None = None
    reason: str = ""


def _clean_outcome(item: DecisionItem, outcome: str, rationale: str, conditions: str,
                   expires_on: date | None, new_expiry: bool = True) -> dict:
    """Validate an outcome with its texts; ``new_expiry`` is false when an amendment keeps the
    expiry date on record (which may have passed since)."""
    if outcome not in OUTCOMES:
        raise ValidationError(f"Choose an outcome: {', '.join(OUTCOMES.values())}.", "outcome")
    rationale = (rationale or "").strip()
    if not rationale:
        raise ValidationError("Give the rationale for the decision.", "rationale")
    if len(rationale) > MAX_TEXT:
        raise ValidationError(f"The rationale is {len(rationale)} characters long; the limit is {MAX_TEXT}.", "rationale")
    conditions = (conditions or "").strip()
    if outcome == "approved_with_conditions" and not conditions:
        raise ValidationError("An approval with conditions needs its conditions.", "conditions")
    if conditions and outcome != "approved_with_conditions":
        raise ValidationError(
            "Conditions go with the outcome “approved with conditions”: choose that outcome or "
            "clear the conditions.", "conditions",
        )
    if len(conditions) > MAX_TEXT:
        raise ValidationError(f"The conditions are {len(conditions)} characters long; the limit is {MAX_TEXT}.", "conditions")
    if expires_on is not None:
        may_expire = outcome in EXPIRING_OUTCOMES or (
            outcome in APPROVING_OUTCOMES and item.category == "policy_exception")
        if not may_expire:
            raise ValidationError(
                "Only an approval with conditions, or the approval of a policy exception, can "
                "carry an expiry date.", "expires_on",
            )
        if new_expiry and expires_on <= clock.now().date():
            raise ValidationError("The expiry date must lie in the future.", "expires_on")
    return {"outcome": outcome, "rationale": rationale, "conditions": conditions, "expires_on": expires_on}


def _clean_deciders(session: Session, entry: AgendaEntry, decider_ids: Iterable[int]) -> list[User]:
    ids = sorted(set(decider_ids))
    if not ids:
        raise ValidationError("Tick the executives present who took the decision.", "deciders")
    users = list(session.scalars(select(User).where(User.id.in_(ids))))
    if len(users) != len(ids) or not all(is_executive(u) for u in users):
        raise ValidationError("Deciders must be active executives.", "deciders")
    recused = {note.user_id: note for note in recusals_of(entry)}
    for user in users:
        if user.id in recused:
            raise ValidationError(
                f"{user.display_name} is recused from this item ({recused[user.id].reason}) and "
                "cannot be among its deciders.", "deciders",
            )
    return sorted(users, key=lambda u: u.display_name)


def _clean_actions(session: Session, rows: Iterable[ActionData]) -> list[tuple[str, User, date]]:
    cleaned = []
    today = clock.now().date()
    for number, row in enumerate(rows, start=1):
        text = (row.text or "").strip()
        if not text and row.owner_id is None and row.due_on is None:
            continue  # a blank row of the form
        where = f"actions-{number - 1}"
        if not text:
            raise ValidationError(f"Action {number}: say what is to be done.", f"{where}-text")
        if len(text) > MAX_ACTION_TEXT:
            raise ValidationError(f"Action {number}: at most {MAX_ACTION_TEXT} characters.", f"{where}-text")
        owner = session.get(User, row.owner_id) if row.owner_id is not None else None
        if owner is None:
            raise ValidationError(f"Action {number}: choose who owns it.", f"{where}-owner")
        if not owner.active:
            raise ValidationError(
                f"Action {number}: {owner.display_name}'s account is deactivated; choose an "
                "active owner.", f"{where}-owner",
            )
        if not policy.allows(owner, policy.Action.TAKE_PART):
            raise ValidationError(f"Action {number}: owners are staff members or executives.", f"{where}-owner")
        if row.due_on is None:
            raise ValidationError(f"Action {number}: give a due date.", f"{where}-due_on")
        if row.due_on < today:
            raise ValidationError(f"Action {number}: the due date {row.due_on.isoformat()} is in the past.",
                                  f"{where}-due_on")
        cleaned.append((text, owner, row.due_on))
    return cleaned


def record_decision(session: Session, actor: User, entry: AgendaEntry, data: DecisionData) -> Decision:
    """Record the decision on an entry of an in-session meeting, with its deciders and actions.

    The item moves to decided (approved, with conditions, rejected) or back to escalated
    (deferred, more evidence needed), to be carried forward to the next meeting. Two executives
    recording the same entry at once: the unique (entry, revision) constraint stores exactly one;
    the other gets a Conflict (the caller must roll the session back).
    """
    _require_executive(actor, "record decisions")
    meeting = entry.meeting
    if meeting.status != "in_session":
        raise Conflict(
            f"Decisions are recorded while the meeting is in session; “{meeting.title}” is "
            f"{meeting.status_label.lower()}.", "status",
        )
    _require_not_recused(entry, actor)
    item = entry.item
    values = _clean_outcome(item, data.outcome, data.rationale, data.conditions, data.expires_on)
    deciders = _clean_deciders(session, entry, data.decider_ids)
    actions = _clean_actions(session, data.actions)
    if entry.decisions:
        raise _already_decided(item.title)
    if item.status != "scheduled":
        raise Conflict(f"“{item.title}” is {item.status_label.lower()}, not scheduled: it cannot "
                       "be decided here.", "status")
    now = clock.now()
    # Which evidence each decider had reviewed, as it stands now (later reviews do not change it).
    snapshot = decision_snapshot(session, item, deciders, now)
    decision = Decision(
        entry=entry, revision=1, **values, recorded_by_id=actor.id, recorded_at=now,
        deciders=deciders, review_snapshot=snapshot,
        actions=[Action(text=text, owner_id=owner.id, due_on=due_on, created_at=now)
                 for text, owner, due_on in actions],
    )
    session.add(decision)
    title = item.title  # a failed flush expires every loaded object: read it now
    try:  # the decision row is the first write: the unique constraint settles a race here
        session.flush()
    except IntegrityError as exc:
        raise _already_decided(title) from exc
    record(session, actor, "decision.recorded", item.subject, {
        "meeting": meeting.id, "entry": entry.id, "decision": decision.id,
        **{k: _json(v) for k, v in values.items()},
        "deciders": [u.email for u in deciders],
        "reviews_before": snapshot_summary(snapshot),
        "recused": [{"user": n.email, "reason": n.reason} for n in recusals_of(entry)],
        "actions": [{"id": a.id, "text": a.text, "owner": owner.email, "due_on": a.due_on.isoformat()}
                    for a, (_text, owner, _due) in zip(decision.actions, actions, strict=True)],
    })
    action = "decide" if values["outcome"] in SETTLING_OUTCOMES else "defer"
    items.transition(session, actor, item, action, note=f"{decision.outcome_label} at “{meeting.title}”")
    return decision


def _already_decided(title: str) -> Conflict:
    return Conflict(
        f"A decision on “{title}” has just been recorded by someone else. Your input is "
        "kept below; compare it with the decision now on record, and amend that decision if it "
        "needs correcting.", "decision",
    )


def amend_decision(session: Session, actor: User, decision: Decision, data: AmendmentData) -> Decision:
    """Correct a decision: a new revision that references the one it corrects, which stays as it
    was. An amendment corrects the record and does not move the item, so it may change the
    outcome only within the same effect (approved / with conditions / rejected; or deferred /
    more evidence needed)."""
    _require_executive(actor, "amend decisions")
    entry = decision.entry
    _require_not_recused(entry, actor)
    latest = entry.decisions[-1]
    if latest.id != decision.id:
        raise Conflict(
            f"This decision has been amended already (revision {latest.revision} is current). "
            "Amend the current revision.", "decision",
        )
    reason = (data.reason or "").strip()
    if not reason:
        raise ValidationError("Say why the decision is amended.", "reason")
    if len(reason) > MAX_TEXT:
        raise ValidationError(f"At most {MAX_TEXT} characters.", "reason")
    values = _clean_outcome(entry.item, data.outcome, data.rationale, data.conditions,
                            data.expires_on, new_expiry=data.expires_on != decision.expires_on)
    if (values["outcome"] in SETTLING_OUTCOMES) != (decision.outcome in SETTLING_OUTCOMES):
        raise ValidationError(
            f"An amendment cannot turn “{decision.outcome_label}” into "
            f"“{OUTCOMES[values['outcome']]}”: that would move the item between decided and the "
            "escalation queue. Record the new outcome at a meeting instead.", "outcome",
        )
    changes = {
        key: {"before": _json(getattr(decision, key)), "after": _json(value)}
        for key, value in values.items() if getattr(decision, key) != value
    }
    if not changes:
        raise ValidationError("The amendment changes nothing: edit the outcome, rationale, "
                              "conditions or expiry date.", "rationale")
    amendment = Decision(
        entry=entry, revision=decision.revision + 1, amends_id=decision.id, **values,
        amendment_reason=reason, recorded_by_id=actor.id, recorded_at=clock.now(),
        deciders=[], actions=[],
    )
    session.add(amendment)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("Someone else amended this decision at the same moment. Reload it and "
                       "amend the current revision.", "decision") from exc
    record(session, actor, "decision.amended", entry.item.subject, {
        "meeting": entry.meeting_id, "entry": entry.id, "decision": amendment.id,
        "amends": decision.id, "revision": amendment.revision, "reason": reason, "changes": changes,
    })
    return amendment


# ---------------------------------------------------------------------------------------------
# Closing decided items, and follow-up actions
# ---------------------------------------------------------------------------------------------
def _entry_actions(session: Session, entry: AgendaEntry) -> list[Action]:
    return list(session.scalars(
        select(Action).join(Decision, Action.decision_id == Decision.id)
        .where(Decision.entry_id == entry.id).order_by(Action.id)
    ))


def can_close(session: Session, decision: Decision) -> bool:
    item = decision.entry.item
    return item.status == "decided" and _is_current(session, decision) and not any(
        not a.done for a in _entry_actions(session, decision.entry))


def _is_latest_entry(session: Session, entry: AgendaEntry) -> bool:
    latest_entry = previous_entry(session, entry.item_id)
    return latest_entry is not None and latest_entry.id == entry.id


def _is_current(session: Session, decision: Decision) -> bool:
    """The decision is its entry's latest revision, and the entry is its item's latest."""
    entry = decision.entry
    return _is_latest_entry(session, entry) and entry.decisions[-1].id == decision.id


def close_item(session: Session, actor: User, decision: Decision) -> DecisionItem:
    """An executive closes a decided item once no follow-up action is open."""
    _require_executive(actor, "close decided items")
    entry = decision.entry
    _require_not_recused(entry, actor)
    item = entry.item
    if not _is_current(session, decision):
        raise Conflict("This is not the item's current decision.", "decision")
    open_actions = [a for a in _entry_actions(session, entry) if not a.done]
    if open_actions:
        raise Conflict(
            f"{len(open_actions)} follow-up action{'s are' if len(open_actions) != 1 else ' is'} "
            "still open; the item closes by itself when the last one is done.", "status",
        )
    return items.transition(session, actor, item, "close", note=f"decision: {decision.outcome_label}")


def can_complete(actor: User, action: Action) -> bool:
    return actor.active and (action.owner_id == actor.id or is_executive(actor))


def complete_action(session: Session, actor: User, action: Action, note: str) -> Action:
    """Mark an action done with a note. When it was the last open action of a decided item, the
    item is closed: by the person completing it if they are an executive, otherwise by the
    forum itself (the system "conclude" transition)."""
    if not can_complete(actor, action):
        raise PermissionDenied("Only the action's owner or an executive can mark it done.")
    if action.done:
        raise Conflict("This action is already done.", "done")
    note = (note or "").strip()
    if not note:
        raise ValidationError("Say how the action was done.", "note")
    if len(note) > MAX_TEXT:
        raise ValidationError(f"At most {MAX_TEXT} characters.", "note")
    action.done = True
    action.done_at = clock.now()
    action.done_by_id = actor.id
    action.done_note = note
    session.flush()
    entry = action.decision.entry
    item = entry.item
    record(session, actor, "action.completed", item.subject, {
        "action": action.id, "decision": action.decision_id, "text": action.text, "note": note,
    })
    # The entry's latest revision is current when the entry is the item's latest: ask the entry
    # (an amendment loaded through entry.decisions has no loaded .entry of its own).
    if item.status == "decided" and _is_latest_entry(session, entry) and all(
            a.done for a in _entry_actions(session, entry)):
        if is_executive(actor) and recusal_of(entry, actor) is None:
            items.transition(session, actor, item, "close", note="all follow-up actions done")
        else:
            items.transition(session, None, item, "conclude", note="all follow-up actions done")
    return action


# ---------------------------------------------------------------------------------------------
# Lapse of time-limited approvals
# ---------------------------------------------------------------------------------------------
def lapsed_approvals(session: Session, today: date) -> list[Decision]:
    """Current decisions whose expiry date has passed while their item is still decided or closed."""
    newer = Decision.__table__.alias("newer")
    later_entry = AgendaEntry.__table__.alias("later_entry")
    candidates = session.scalars(
        select(Decision)
        .join(AgendaEntry, Decision.entry_id == AgendaEntry.id)
        .join(DecisionItem, AgendaEntry.item_id == DecisionItem.id)
        .where(
            Decision.expires_on.is_not(None), Decision.expires_on < today,
            Decision.outcome.in_(APPROVING_OUTCOMES),
            DecisionItem.status.in_(("decided", "closed")),
            ~select(newer.c.id).where(newer.c.amends_id == Decision.id).exists(),
            ~select(later_entry.c.id).where(
                later_entry.c.item_id == AgendaEntry.item_id, later_entry.c.id > AgendaEntry.id
            ).exists(),
        )
        .options(selectinload(Decision.entry).selectinload(AgendaEntry.item))
        .order_by(Decision.expires_on, Decision.id)
    )
    return list(candidates)


def expire_approvals(session: Session, now: datetime | None = None) -> list[DecisionItem]:
    """Return every item whose approval has lapsed to the escalation queue ("approval expired")
    through the system's revalidate transition; returns those items."""
    today = (now or clock.now()).date()
    returned = []
    for decision in lapsed_approvals(session, today):
        item = decision.entry.item
        items.transition(session, None, item, "revalidate", note="approval expired")
        returned.append(item)
    return returned


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _json(value):
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
