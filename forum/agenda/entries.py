"""Agenda entries: putting an escalated item on a meeting's agenda (it becomes scheduled), its
time box and presenter, its position, taking it off again; and recusal — who may not decide an
entry, because they filed the item or declared a conflict of interest."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.agenda import events
from forum.agenda.common import MAX_REASON, MAX_TIME_BOX, entry_options, require_executive
from forum.agenda.meetings import require_open, touch
from forum.agenda.models import AgendaEntry, Decision, Meeting, Recusal
from forum.auth.models import User
from forum.core import clock, policy
from forum.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.trail.service import record
from forum.weighing import queue as weighing_queue


# ---------------------------------------------------------------------------------------------
# Recusal
# ---------------------------------------------------------------------------------------------
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


def require_not_recused(entry: AgendaEntry, actor: User) -> None:
    note = recusal_of(entry, actor)
    if note is not None:
        raise PermissionDenied(
            f"You are recused from “{entry.item.title}” ({note.reason}): you cannot decide it.",
            "recusal",
        )


# ---------------------------------------------------------------------------------------------
# Agenda entries
# ---------------------------------------------------------------------------------------------
def get_entry(session: Session, meeting_id: int, entry_id: int) -> AgendaEntry:
    entry = session.scalar(
        select(AgendaEntry).where(AgendaEntry.id == entry_id, AgendaEntry.meeting_id == meeting_id)
        .options(*entry_options())
    )
    if entry is None:
        raise NotFound(f"Meeting {meeting_id} has no agenda entry {entry_id}.")
    return entry


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


def is_latest_entry(session: Session, entry: AgendaEntry) -> bool:
    """The entry is its item's latest (the one a decision on the item is current on)."""
    latest_entry = previous_entry(session, entry.item_id)
    return latest_entry is not None and latest_entry.id == entry.id


def add_entry(session: Session, actor: User, meeting: Meeting, item_id: int | None,
              time_box_minutes: int, presenter_id: int | None = None) -> AgendaEntry:
    """Put an escalated item on the agenda (last position); the item becomes scheduled."""
    require_executive(actor, "manage agendas")
    require_open(meeting)
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
    touch(session, meeting)
    record(session, actor, "agenda.entry_added", meeting.subject, events.entry_added(
        entry.id, item.id, item.title, entry.position, time_box,
        presenter.email if presenter else None, carried.id if carried else None,
    ))
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
    require_executive(actor, "manage agendas")
    require_open(entry.meeting)
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
    touch(session, entry.meeting)
    record(session, actor, "agenda.entry_updated", entry.meeting.subject,
           {"entry": entry.id, "item": entry.item_id, "changes": changes})
    return changes


def move_entry(session: Session, actor: User, entry: AgendaEntry, to_position: int | None) -> AgendaEntry:
    """Move an entry to ``to_position`` (1 … number of entries); the others shift to make room."""
    require_executive(actor, "manage agendas")
    meeting = entry.meeting
    require_open(meeting)
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
    touch(session, meeting)
    record(session, actor, "agenda.entry_moved", meeting.subject,
           {"entry": entry.id, "item": entry.item_id, "from": before, "to": to_position})
    return entry


def remove_entry(session: Session, actor: User, entry: AgendaEntry) -> None:
    """Take a not-yet-decided item off the agenda: it goes back to the escalation queue."""
    require_executive(actor, "manage agendas")
    meeting = entry.meeting
    require_open(meeting)
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
    touch(session, meeting)
    record(session, actor, "agenda.entry_removed", meeting.subject,
           {"entry": entry_id, "item": item.id, "title": item.title, "position": position})


def declare_conflict(session: Session, actor: User, entry: AgendaEntry, reason: str) -> Recusal:
    """An executive declares a conflict of interest on an entry: they are recused from it."""
    require_executive(actor, "declare conflicts on agenda entries")
    require_open(entry.meeting)
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


def escalate_and_schedule(session: Session, actor: User, item: DecisionItem, meeting: Meeting, reason: str,
                          time_box_minutes: int, settings) -> AgendaEntry:
    """From the queue in one move: an open item is escalated with the executive's reason, then
    put on ``meeting``'s agenda with its filer presenting; an escalated one is only scheduled.
    The events are the two actions' own (the escalation, the entry and the status changes), in
    one transaction: a refusal of either writes nothing."""
    require_executive(actor, "manage agendas")
    require_open(meeting)
    if item.status == "open":
        weighing_queue.escalate(session, actor, item, reason, settings)
    return add_entry(session, actor, meeting, item.id, time_box_minutes, item.filer_id)
