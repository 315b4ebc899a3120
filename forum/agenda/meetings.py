"""Meetings: planning them, their details, and their state machine (draft → published → in
session → closed). Every agenda change goes through the meeting's version (its lock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from forum.agenda import events
from forum.agenda.common import MAX_DURATION, MAX_TITLE, json_value, require_executive
from forum.agenda.models import AgendaEntry, Meeting
from forum.auth.models import User
from forum.core import clock
from forum.core.errors import Conflict, NotFound, ValidationError
from forum.trail.service import record


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


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(f"There is no meeting {meeting_id}.")
    return meeting


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


def touch(session: Session, meeting: Meeting) -> None:
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


def require_open(meeting: Meeting) -> None:
    if meeting.status == "closed":
        raise Conflict(
            "The meeting is closed: its agenda and minutes can no longer change (a decision can "
            "be corrected by an amendment).", "status",
        )


def create_meeting(session: Session, actor: User, data: MeetingData) -> Meeting:
    require_executive(actor, "plan meetings")
    values = _clean_meeting(data)
    now = clock.now()
    meeting = Meeting(**values, status="draft", created_by_id=actor.id, created_at=now, updated_at=now)
    session.add(meeting)
    session.flush()
    record(session, actor, "meeting.created", meeting.subject,
           events.meeting_created(meeting.title, meeting.starts_at, meeting.duration_minutes, "draft"))
    return meeting


def update_meeting(session: Session, actor: User, meeting: Meeting, data: MeetingData,
                   expected_version: int | None) -> dict:
    """Change a meeting's title, start or duration; returns the changes (empty when none)."""
    require_executive(actor, "plan meetings")
    require_open(meeting)
    _check_version(meeting, expected_version)
    values = _clean_meeting(data, current=meeting)
    changes = {
        key: {"before": json_value(getattr(meeting, key)), "after": json_value(value)}
        for key, value in values.items() if getattr(meeting, key) != value
    }
    if not changes:
        return {}
    for key, value in values.items():
        setattr(meeting, key, value)
    touch(session, meeting)
    record(session, actor, "meeting.updated", meeting.subject,
           {"changes": changes, "version": meeting.version})
    return changes


def change_meeting_status(session: Session, actor: User, meeting: Meeting, action: str,
                          expected_version: int | None = None) -> Meeting:
    """Move the meeting through draft → published → in session → closed."""
    require_executive(actor, "run meetings")
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
    touch(session, meeting)
    record(session, actor, "meeting.status_changed", meeting.subject,
           events.meeting_status_changed(action, before, after))
    return meeting


def _entries(session: Session, meeting: Meeting) -> list[AgendaEntry]:
    return list(session.scalars(
        select(AgendaEntry).where(AgendaEntry.meeting_id == meeting.id)
        .options(selectinload(AgendaEntry.item), selectinload(AgendaEntry.decisions))
        .order_by(AgendaEntry.position)
    ))
