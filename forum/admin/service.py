"""What the administration pages read: an account's recent history from the trail.

The rules that change accounts and functions live in forum/auth/service.py; the pages here call
them. This module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth.models import DIGEST_FREQUENCIES, ROLE_LABELS, User
from forum.auth.provisioning import REASONS as REFUSALS
from forum.items.history import Change, Names
from forum.trail.models import Event

HISTORY_LIMIT = 20

KIND_LABELS = {
    "user.created": "Account created",
    "user.updated": "Account changed",
    "user.deactivated": "Deactivated",
    "user.reactivated": "Reactivated",
    "user.password_set": "Password set",
    "user.password_link_issued": "Set-password link issued",
    "user.followed_item": "Followed an item",
    "user.unfollowed_item": "Stopped following an item",
    "user.signed_in": "Signed in through single sign-on",
    "user.sign_in_refused": "Sign-in refused",
}
FIELD_LABELS = {
    "role": "Role",
    "function": "Function",
    "display_name": "Display name",
    "email_notifications": "E-mail notifications",
    "digest_frequency": "Digest",
    "email_kinds": "E-mail by kind",
    "active": "Active",
    "email": "E-mail address",
    "identity": "Single sign-on identity",
}


@dataclass
class AccountEvent:
    seq: int
    at: datetime
    actor: str
    label: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""
    actor_name: str = ""


def _show(key: str, value, names: Names) -> str:
    if value is None or value == "":
        return "—"
    if key == "function":
        return names.function(value)
    if key == "role":
        return ROLE_LABELS.get(value, value)
    if key == "digest_frequency":
        return DIGEST_FREQUENCIES.get(value, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _describe(kind: str, data: dict, names: Names) -> tuple[list[Change], str]:
    if kind == "user.created":
        note = _show("role", data.get("role"), names)
        if data.get("function"):
            note += f" in {_show('function', data.get('function'), names)}"
        if data.get("set_password_link_expires_at"):
            note += "; set-password link issued"
        return [], note
    if kind in ("user.deactivated", "user.reactivated"):
        return [], ""
    if kind == "user.password_set":
        return [], f"through {data.get('via', 'unknown')}"
    if kind == "user.password_link_issued":
        return [], f"valid until {data.get('expires_at', '?')}"
    if kind in ("user.followed_item", "user.unfollowed_item"):
        return [], f"item #{data.get('item', '?')}"
    if kind == "user.signed_in":
        return [], f"at {data.get('issuer', '?')}"
    if kind == "user.sign_in_refused":
        return [], REFUSALS.get(data.get("reason", ""), data.get("reason", ""))
    changes = [
        Change(FIELD_LABELS.get(key, key), _show(key, value.get("before"), names),
               _show(key, value.get("after"), names))
        for key, value in (data.get("changes") or {}).items()
    ]
    return changes, ""


def account_history(session: Session, user: User, limit: int = HISTORY_LIMIT) -> list[AccountEvent]:
    """The account's latest trail events, newest first (three statements at most)."""
    events = session.scalars(
        select(Event).where(Event.subject == f"user:{user.id}").order_by(Event.seq.desc()).limit(limit)
    ).all()
    names = Names.load(session, events)
    entries = []
    for event in events:
        changes, note = _describe(event.kind, event.data, names)
        entries.append(AccountEvent(
            seq=event.seq, at=event.at, actor=event.actor,
            label=KIND_LABELS.get(event.kind, event.kind), changes=changes, note=note,
            actor_name=names.person(event.actor),
        ))
    return entries
