"""An item's history for people: its trail events with who, when and what changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.auth.service import function_labels
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
    "system_id": "AI system (register number)",
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


@dataclass
class Names:
    """How people and functions named in events read: display names for e-mail addresses and
    labels for function keys (the trail keeps the addresses and keys; people read names)."""

    people: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)

    def person(self, email) -> str:
        return self.people.get(email, email) if email else "—"

    def function(self, key) -> str:
        return self.functions.get(key, key) if key else "—"

    @classmethod
    def load(cls, session: Session, events) -> Names:
        """The names for ``events``: every address among their actors and data, and the
        functions' labels when an event names a function — two queries at most, whatever the
        number of events."""
        emails: set[str] = set()
        for event in events:
            emails.add(event.actor)
            _addresses(event.data, emails)
        emails.discard("system")
        people = dict(session.execute(
            select(User.email, User.display_name).where(User.email.in_(emails))).all()) if emails else {}
        named = any(_names_a_function(event.data) for event in events)
        functions = dict(function_labels(session)) if named else {}
        return cls(people, functions)


def _names_a_function(data) -> bool:
    """Whether an event's data names a function: its own ``function`` or a changed one."""
    return isinstance(data, dict) and bool(
        data.get("function") or "function" in (data.get("changes") or {}) or "function_key" in (data.get("changes") or {}))


def _addresses(value, found: set[str]) -> None:
    if isinstance(value, str):
        if "@" in value and " " not in value and len(value) <= 320:
            found.add(value)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _addresses(key, found)
            _addresses(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _addresses(inner, found)


Describer = Callable[[dict, Names], tuple[str, list[Change], str]]

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

    def __call__(self, _kind: str, *, data: dict, names: Names):
        return self.describe(data, names)


describe = Describers()


@describe("item.created")
def _created(data: dict, names: Names):
    return "Filed the item", [], f"Filed as {_show('status', data.get('status'))}: {data.get('title', '')}"


@describe("item.updated")
def _updated(data: dict, names: Names):
    changes = [
        Change(FIELD_LABELS.get(key, key), _show(key, change.get("before")),
               _show(key, change.get("after")), long=key == "summary")
        for key, change in data.get("changes", {}).items()
    ]
    return "Edited the item", changes, ""


@describe("item.status_changed")
def _status(data: dict, names: Names):
    change = Change("Status", _show("status", data.get("from")), _show("status", data.get("to")))
    return "Changed the status", [change], data.get("note", "")


def _fallback(kind: str, data: dict):
    return kind.replace(".", " ").replace("_", " ").capitalize(), [], ""


def summarise(kind: str, data: dict, names: Names | None = None) -> tuple[str, list[Change], str]:
    """How an event reads for people: (label, changes, note), by its kind's describer."""
    for described in collect(event_described, kind, data=data, names=names or Names()):
        return described
    return _fallback(kind, data)


def for_item(session: Session, item: DecisionItem, newest: int | None = None) -> list[HistoryEntry]:
    """The item's events, oldest first, or only the ``newest`` few (three queries at most,
    whatever the length)."""
    events = events_for(session, item.subject, newest)
    names = Names.load(session, events)
    entries = []
    for event in events:
        label, changes, note = summarise(event.kind, event.data, names)
        entries.append(HistoryEntry(
            seq=event.seq, at=event.at, actor=event.actor,
            actor_name=names.person(event.actor), kind=event.kind, label=label,
            changes=changes, note=note, hash=event.hash,
        ))
    return entries
