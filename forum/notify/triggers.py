"""Who hears about what: a receiver of the trail's ``event_recorded`` signal (connected by the
notify area's ``init_app``).

Every change already writes one trail event in its transaction; this listener reads the event
and writes the notifications in that same transaction, so they stand or fall with the change.

- ``item.created``, ``weight.rated``, ``position.taken``, ``comment.added``: the actor follows
  the item from now on (part of their change: no event of its own). A position taken also
  settles (marks read) the function's open requests for a position on that item.
- ``item.status_changed``: the filer and the followers hear of the new state. When an item is
  submitted to the forum or escalated, every member (staff or executive) of a required function
  (FORUM_REQUIRED_FUNCTIONS) whose function has not taken a position is asked for one instead.
- ``decision.recorded``: each follow-up action's owner hears that they own it.
- ``meeting.status_changed`` to published: those who attend — every active executive, and the
  presenters of its entries.
- ``evidence.attached`` with a failing gate: the filer and the followers.
The actor never hears of their own change (``service.notify`` drops them).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum.agenda.models import AgendaEntry, Meeting
from forum.auth.models import User
from forum.core import clock
from forum.core.policy import Action
from forum.items.models import STATUSES, DecisionItem
from forum.notify.models import Notification
from forum.notify.service import Message, ensure_following, followers_and_filer, notify, setting
from forum.trail.models import Event
from forum.trail.service import actor_name
from forum.weighing.models import Position

FOLLOWING_KINDS = ("item.created", "weight.rated", "position.taken", "comment.added")
ASKING_ACTIONS = ("submit", "escalate")
GATE_LABELS = {"coverage": "coverage", "edge_pass_rate": "edge-case pass rate",
               "regression": "regression", "freshness": "freshness"}


def _item_id(subject: str) -> int | None:
    kind, _, number = subject.partition(":")
    return int(number) if kind == "item" and number.isdigit() else None


def _actor_label(session: Session, actor) -> str:
    if isinstance(actor, User):
        return actor.display_name
    return "The forum" if actor is None else actor_name(actor)


def _users(session: Session, ids) -> list[User]:
    ids = set(ids)
    return list(session.scalars(select(User).where(User.id.in_(ids)))) if ids else []


def required_functions() -> list[str]:
    raw = str(setting("REQUIRED_FUNCTIONS", "procurement,product,risk"))
    return list(dict.fromkeys(k.strip().lower() for k in raw.split(",") if k.strip()))


def missing_functions(session: Session, item_id: int) -> list[str]:
    taken = set(session.scalars(select(Position.function_key).where(Position.item_id == item_id)))
    return [key for key in required_functions() if key not in taken]


def function_members(session: Session, keys) -> list[User]:
    """Active staff and executives of the given functions (those who take positions)."""
    if not keys:
        return []
    return list(session.scalars(select(User).where(
        User.function_key.in_(list(keys)), User.active.is_(True), User.holding(Action.TAKE_PART),
    )))


def on_event(session: Session, *, actor, event: Event, data: dict) -> None:
    kind = event.kind
    if kind in FOLLOWING_KINDS:
        item_id = _item_id(event.subject)
        if item_id is not None and isinstance(actor, User):
            ensure_following(session, actor.id, item_id)
        if kind == "position.taken" and data.get("function"):
            _request_answered(session, event.subject, data["function"])
    elif kind == "item.status_changed":
        _status_changed(session, actor, event, data)
    elif kind == "decision.recorded":
        _actions_assigned(session, actor, event, data)
    elif kind == "meeting.status_changed" and data.get("to") == "published":
        _meeting_published(session, actor, event)
    elif kind == "evidence.attached" and "fail" in (data.get("gates") or {}).values():
        _gate_failed(session, actor, event, data)


def _request_answered(session: Session, subject: str, function_key: str) -> None:
    """The function has taken its position: its members' requests for one are settled (marked
    read), so the inbox does not keep asking for what is done."""
    members = select(User.id).where(User.function_key == function_key)
    session.execute(
        update(Notification)
        .where(Notification.kind == "position_requested", Notification.subject == subject,
               Notification.read_at.is_(None), Notification.user_id.in_(members))
        .values(read_at=clock.now())
    )


def _status_changed(session: Session, actor, event: Event, data: dict) -> None:
    item = session.get(DecisionItem, _item_id(event.subject))
    if item is None:
        return
    before, after = STATUSES.get(data["from"], data["from"]), STATUSES.get(data["to"], data["to"])
    who = _actor_label(session, actor)
    note = f" ({data['note']})" if data.get("note") else ""
    link = f"/items/{item.id}"
    asked: set[int] = set()
    if data.get("action") in ASKING_ACTIONS:
        missing = missing_functions(session, item.id)
        # One request per cause: whoever still has the unread request from an earlier stage
        # (filed, then escalated) is not asked again.
        still_asked = set(session.scalars(select(Notification.user_id).where(
            Notification.kind == "position_requested", Notification.subject == item.subject,
            Notification.read_at.is_(None)))) if missing else set()
        members = [u for u in function_members(session, missing) if u.id not in still_asked]
        stage = "escalated to the executives" if data["action"] == "escalate" else "submitted to the forum"
        for key in missing:
            people = [u for u in members if u.function_key == key]
            written = notify(session, people, Message(
                "position_requested", item.subject,
                f"Your function's position is asked on “{item.title}”",
                link,
                f"{who} {stage} “{item.title}”{note}. {people[0].function_label if people else key} "
                "has not taken a position on it yet: take your function's position on the item's page.",
            ), actor)
            asked.update(n.user_id for n in written)
    if data["to"] == "draft":
        # A draft is private to its filer: followers no longer see it.
        audience = _users(session, {item.filer_id} - asked)
    else:
        audience = followers_and_filer(session, item, leaving_out=asked)
    notify(session, audience, Message(
        "item_state", item.subject, f"“{item.title}” is now {after.lower()}", link,
        f"{who} moved “{item.title}” from {before.lower()} to {after.lower()}{note}.",
    ), actor)


def _actions_assigned(session: Session, actor, event: Event, data: dict) -> None:
    actions = data.get("actions") or []
    if not actions:
        return
    owners = {u.email: u for u in session.scalars(
        select(User).where(User.email.in_({a["owner"] for a in actions})))}
    item = session.get(DecisionItem, _item_id(event.subject))
    title = item.title if item else event.subject
    who = _actor_label(session, actor)
    for action in actions:
        owner = owners.get(action["owner"])
        if owner is None:
            continue
        notify(session, [owner], Message(
            "action_assigned", event.subject, f"You own a follow-up action on “{title}”",
            "/actions",
            f"{who} recorded a decision on “{title}” with a follow-up action for you: "
            f"{action['text']} — due {action['due_on']}.",
        ), actor)


def _meeting_published(session: Session, actor, event: Event) -> None:
    meeting_id = int(event.subject.partition(":")[2])
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        return
    presenters = set(session.scalars(select(AgendaEntry.presenter_id).where(
        AgendaEntry.meeting_id == meeting.id, AgendaEntry.presenter_id.is_not(None))))
    attendees = list(session.scalars(select(User).where(
        User.active.is_(True), User.holding(Action.MANAGE_AGENDA) | User.id.in_(presenters))))
    when = meeting.starts_at.strftime("%d %b %Y, %H:%M UTC")
    notify(session, attendees, Message(
        "meeting_published", meeting.subject, f"Agenda published: “{meeting.title}”",
        f"/meetings/{meeting.id}",
        f"{_actor_label(session, actor)} published the agenda of “{meeting.title}” ({when}). "
        "Its pre-read pack is linked from the meeting's page.",
    ), actor)


def _gate_failed(session: Session, actor, event: Event, data: dict) -> None:
    item = session.get(DecisionItem, _item_id(event.subject))
    if item is None:
        return
    failing = [GATE_LABELS.get(k, k) for k, status in data["gates"].items() if status == "fail"]
    notify(session, followers_and_filer(session, item), Message(
        "evidence_gate_failed", item.subject, f"Evidence on “{item.title}” fails a gate",
        f"/evidence/{data['run_id']}",
        f"{_actor_label(session, actor)} attached {data.get('filename', 'a result file')} "
        f"(suite {data.get('suite') or 'unnamed'}); failing: {', '.join(failing)}.",
    ), actor)

