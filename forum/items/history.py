"""An item's history for people: its trail events with who, when and what changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core.signals import collect, signals
from forum.items.models import CATEGORIES, STATUSES, DecisionItem
from forum.trail.service import events_for

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


Describer = Callable[[dict], tuple[str, list[Change], str]]

#: Sent with an event's kind as sender and its ``data``; the receiver connected for that kind
#: answers how the event reads: (label, changes, note).
event_described = signals.signal("items.event-described")


class Describers(dict):
    """One area's describers, kind -> function of the event's data returning (label, changes,
    note). Fill it with ``@describers("kind")``; the area's ``init_app`` calls ``connect()``."""

    def __call__(self, kind: str):
        def decorator(fn: Describer) -> Describer:
            self[kind] = _Receiver(fn)
            return fn

        return decorator

    def connect(self) -> None:
        for kind, receiver in self.items():
            event_described.connect(receiver, sender=kind, weak=False)


@dataclass(frozen=True)
class _Receiver:
    describe: Describer

    def __call__(self, _kind: str, *, data: dict):
        return self.describe(data)


describe = Describers()


@describe("item.created")
def _created(data: dict):
    return "Filed the item", [], f"Filed as {_show('status', data.get('status'))}: {data.get('title', '')}"


@describe("item.updated")
def _updated(data: dict):
    changes = [
        Change(FIELD_LABELS.get(key, key), _show(key, change.get("before")),
               _show(key, change.get("after")), long=key == "summary")
        for key, change in data.get("changes", {}).items()
    ]
    return "Edited the item", changes, ""


@describe("item.status_changed")
def _status(data: dict):
    change = Change("Status", _show("status", data.get("from")), _show("status", data.get("to")))
    return "Changed the status", [change], data.get("note", "")


def _fallback(kind: str, data: dict):
    return kind.replace(".", " ").replace("_", " ").capitalize(), [], ""


def summarise(kind: str, data: dict) -> tuple[str, list[Change], str]:
    """How an event reads for people: (label, changes, note), by its kind's describer."""
    for described in collect(event_described, kind, data=data):
        return described
    return _fallback(kind, data)


def for_item(session: Session, item: DecisionItem) -> list[HistoryEntry]:
    """The item's events, oldest first (two queries whatever the length)."""
    events = events_for(session, item.subject)
    emails = {e.actor for e in events}
    names = dict(
        session.execute(select(User.email, User.display_name).where(User.email.in_(emails))).all()
    ) if emails else {}
    entries = []
    for event in events:
        label, changes, note = summarise(event.kind, event.data)
        entries.append(HistoryEntry(
            seq=event.seq, at=event.at, actor=event.actor,
            actor_name=names.get(event.actor, event.actor), kind=event.kind, label=label,
            changes=changes, note=note, hash=event.hash,
        ))
    return entries
