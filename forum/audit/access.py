"""Who may read the trail, and the two reads every audit page shares: the head, and the display
names of the actors shown.

Who: executives and auditors read, export and verify the trail; only auditors record
checkpoints. ``actor=None`` is the system (the CLI run by an operator).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core.errors import PermissionDenied
from forum.core.policy import Action, allows
from forum.items import service as items
from forum.trail import chain
from forum.trail.models import Event


def require_reader(actor: User | None) -> None:
    if actor is not None and not allows(actor, Action.READ_TRAIL):
        raise PermissionDenied("Only executives and auditors read, export and verify the trail.")


def require_auditor(actor: User | None) -> None:
    if actor is not None and not allows(actor, Action.RECORD_CHECKPOINT):
        raise PermissionDenied("Only auditors record checkpoints.")


def visibility_conditions(viewer: User | None) -> list:
    """SQL conditions on Event that leave out the events of items ``viewer`` may not see
    (other people's drafts; forum.items.service.visible_to): none for auditors and the system."""
    if viewer is None:
        return []
    hidden = items.hidden_subject(viewer, Event.subject)
    return [] if hidden is None else [~hidden]


def head(session: Session) -> tuple[int, str]:
    """The last event's seq and hash, read from the events (not the head row): (0, genesis)
    when the trail is empty."""
    row = session.execute(select(Event.seq, Event.hash).order_by(Event.seq.desc()).limit(1)).first()
    return (row.seq, row.hash) if row else (0, chain.GENESIS_HASH)


def display_names(session: Session, emails) -> dict[str, str]:
    """{email: display name} for the actors among ``emails`` that are accounts (one query)."""
    emails = {e for e in emails if e and e != "system"}
    if not emails:
        return {}
    return dict(session.execute(
        select(User.email, User.display_name).where(User.email.in_(emails))
    ).all())
