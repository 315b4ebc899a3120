"""Follow-up actions of decisions: who may mark one done, and marking it done — which closes
the decided item when it was the item's last open action."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from forum.agenda.common import MAX_TEXT, entry_options, is_executive
from forum.agenda.decisions import entry_actions
from forum.agenda.entries import is_latest_entry, recusal_of
from forum.agenda.models import Action, Decision
from forum.auth.models import User
from forum.core import clock
from forum.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.items import service as items
from forum.trail.service import record


def get_action(session: Session, action_id: int) -> Action:
    action = session.scalar(
        select(Action).where(Action.id == action_id).options(
            selectinload(Action.decision).selectinload(Decision.entry).options(*entry_options()),
        )
    )
    if action is None:
        raise NotFound(f"There is no action {action_id}.")
    return action


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
    if item.status == "decided" and is_latest_entry(session, entry) and all(
            a.done for a in entry_actions(session, entry)):
        if is_executive(actor) and recusal_of(entry, actor) is None:
            items.transition(session, actor, item, "close", note="all follow-up actions done")
        else:
            items.transition(session, None, item, "conclude", note="all follow-up actions done")
    return action
