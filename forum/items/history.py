"""An item's history for people: its trail events with who, when and what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.items.models import CATEGORIES, STATUSES, DecisionItem
from forum.trail.service import events_for

KIND_LABELS = {
    "item.created": "Filed the item",
    "item.updated": "Edited the item",
    "item.status_changed": "Changed the status",
}

FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "category": "Category",
    "function_key": "Owning function",
    "vendor": "Vendor",
    "model_name": "Model name",
    "model_version": "Model version",
    "exposure": "Financial exposure",
    "needed_by": "Needed by",
    "status": "Status",
}


@dataclass
class Change:
    label: str
    before: str
    after: str
    long: bool = False


@dataclass
class HistoryEntry:
    seq: int
    at: datetime
    actor: str
    actor_name: str
    kind: str
    label: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""
    hash: str = ""


def _show(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if key == "category":
        return CATEGORIES.get(value, value)
    if key == "status":
        return STATUSES.get(value, value)
    return str(value)


def for_item(session: Session, item: DecisionItem) -> list[HistoryEntry]:
    """The item's events, oldest first (two queries whatever the length)."""
    events = events_for(session, item.subject)
    emails = {e.actor for e in events}
    names = dict(
        session.execute(select(User.email, User.display_name).where(User.email.in_(emails))).all()
    ) if emails else {}
    entries = []
    for event in events:
        data = event.data
        entry = HistoryEntry(
            seq=event.seq, at=event.at, actor=event.actor,
            actor_name=names.get(event.actor, event.actor), kind=event.kind,
            label=KIND_LABELS.get(event.kind, event.kind), hash=event.hash,
        )
        if event.kind == "item.updated":
            for key, change in data.get("changes", {}).items():
                entry.changes.append(Change(
                    FIELD_LABELS.get(key, key), _show(key, change.get("before")),
                    _show(key, change.get("after")), long=key == "summary",
                ))
        elif event.kind == "item.status_changed":
            entry.changes.append(Change("Status", _show("status", data.get("from")), _show("status", data.get("to"))))
            entry.note = data.get("note", "")
        elif event.kind == "item.created":
            entry.note = f"Filed as {STATUSES.get(data.get('status'), data.get('status'))}: {data.get('title', '')}"
        entries.append(entry)
    return entries
