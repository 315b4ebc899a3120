"""The trail's one writer, plus reading, verification and export.

``record`` is the only code that writes events. Services call it in the same transaction as the
change it describes, so the change and its event are committed (or rolled back) together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Protocol

from flask import current_app, has_request_context, request
from sqlalchemy import DateTime, String, bindparam, select, type_coerce, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from forum.core import clock, db
from forum.core.errors import DomainError
from forum.trail.chain import (
    CheckpointCheck,
    Verification,
    canonical_json,
    format_at,
    link_body,
    verify_stored,
)
from forum.trail.models import Event, TrailHead
from forum.trail.signals import event_recorded

SYSTEM_ACTOR = "system"


class Actor(Protocol):
    """Who made a change: an account (anything with an e-mail address)."""

    email: str


def actor_name(actor: Actor | str | None) -> str:
    if actor is None:
        return SYSTEM_ACTOR
    if isinstance(actor, str):
        return actor
    return actor.email


def _link(seq: int, prev_hash: str, at: datetime, actor: str, kind: str, subject: str, data: dict) -> dict:
    """One event's columns, hashed by the chain's rule (forum.trail.chain): the only place an
    event's hash is computed for writing."""
    if not isinstance(data, dict):
        raise TypeError("event data must be a JSON object")
    data_text = canonical_json(data)  # fails early on values JSON cannot carry
    body = link_body(seq, format_at(at), actor, kind, subject, data_text)
    digest = hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()
    return {"seq": seq, "at": at, "actor": actor, "kind": kind, "subject": subject,
            "data_json": data_text, "prev_hash": prev_hash, "hash": digest}


#: The words of the database's insert guard (the events table's triggers, see migrations).
APPEND_ONLY = "events are append-only"


class TrailDamaged(DomainError):
    """The database refused to append: the chain no longer ends where the head row says (events
    were cut off or rewritten). Nothing is written until an operator repairs the trail."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "The decision trail is damaged: its newest events no longer match its head record, so "
            "the forum records no change until an operator repairs it (see `forum trail verify`). "
            "Nothing was saved.")


_TOUCH_HEAD = update(TrailHead).where(TrailHead.id == 1).values(seq=TrailHead.seq)
_READ_HEAD = select(TrailHead.seq, TrailHead.hash).where(TrailHead.id == 1)
_TOUCH_AND_READ_HEAD = _TOUCH_HEAD.returning(TrailHead.seq, TrailHead.hash)


_MOVE_HEAD_ONLY = (update(TrailHead).where(TrailHead.id == 1)
                   .values(seq=bindparam("seq"), hash=bindparam("hash")))
_MOVE_HEAD_CONFINED = _MOVE_HEAD_ONLY.values(items_seq=bindparam("seq"))
_MOVE_HEAD = _MOVE_HEAD_CONFINED.values(shared_seq=bindparam("seq"))


def _lock_head(session: Session) -> tuple[int, str]:
    """Take the chain lock (a row lock on PostgreSQL, the write lock on SQLite) and read the head:
    concurrent writers queue instead of forking the chain. One statement where the database
    returns what an UPDATE wrote (PostgreSQL; SQLite from 3.35), else two."""
    if session.get_bind().dialect.update_returning:
        seq, head = session.execute(_TOUCH_AND_READ_HEAD).one()
    else:
        session.execute(_TOUCH_HEAD)
        seq, head = session.execute(_READ_HEAD).one()
    return seq, head


def _check_write_lock(session: Session) -> None:
    """A change made by a request must have taken the write lock before its checks
    (forum.core.db.attempt); the test suite's app (TESTING) refuses one that did not, so a write
    path that forgot it fails its tests instead of racing in production."""
    if has_request_context() and current_app.testing and not db.holds_write_lock(session):
        raise AssertionError(f"{request.method} {request.path} recorded a change without the write lock: "
                             "make the change inside forum.core.db.attempt()")


def record(session: Session, actor: Actor | str | None, kind: str, subject: str, data: dict, *,
           leaves_items: bool = False, confined: bool = False) -> Event:
    """Append one event to the chain, inside the caller's transaction, and tell the receivers of
    ``event_recorded``. ``leaves_items``: the change wrote only the discussion's rows (a comment,
    a follow, with their notifications and search index rows) — no item, AI system, rating,
    position, evidence or meeting — so results derived from those stay valid (the head's
    ``items_seq`` stays where it is; forum.core.derived ``items_only``).

    ``confined``: the change wrote only rows that belong to one scope, which only results read
    per scope show (a result file for an AI system's item: its run and the item's standing,
    read by that system's page and by no other system's, nor by the items still to group) — the
    head's ``shared_seq`` stays where it is and the caller moves the scope's own counter in the
    same transaction (forum.systems.service.record_confined; forum.core.derived ``scope``)."""
    if not isinstance(data, dict):
        raise TypeError("event data must be a JSON object")
    canonical_json(data)  # fails early, before the change is flushed, on values JSON cannot carry
    _check_write_lock(session)
    session.flush()  # the change this event describes goes first
    seq, prev_hash = _lock_head(session)
    event = Event(**_link(seq + 1, prev_hash, clock.now(), actor_name(actor), kind, subject, data))
    session.add(event)
    try:
        session.flush()
    except DBAPIError as error:
        if APPEND_ONLY in str(error.orig):
            raise TrailDamaged() from error
        raise
    moved = {"seq": event.seq, "hash": event.hash}
    if leaves_items:
        session.execute(_MOVE_HEAD_ONLY, moved)
    elif confined:
        session.execute(_MOVE_HEAD_CONFINED, moved)
    else:
        session.execute(_MOVE_HEAD, moved)
    event_recorded.send(session, actor=actor, event=event, data=data)
    return event


class Batch:
    """Events appended in bulk by a loader (the demo and scale generators), hashed by the same rule
    as ``record`` and written by ``write_batch`` in one go. Bulk loads tell no receivers (nobody is
    notified of generated history). Open one with ``begin_batch``, which takes the chain lock."""

    def __init__(self, seq: int, head: str) -> None:
        self.seq, self.head = seq, head
        self.rows: list[dict] = []

    def add(self, at: datetime, actor: str, kind: str, subject: str, data: dict) -> None:
        link = _link(self.seq + 1, self.head, at, actor, kind, subject, data)
        self.rows.append(link)
        self.seq, self.head = link["seq"], link["hash"]


def begin_batch(session: Session) -> Batch:
    return Batch(*_lock_head(session))


def write_batch(session: Session, batch: Batch, chunk: int = 5000) -> int:
    """Insert the batch's events and move the head to its last one; returns how many."""
    table = Event.__table__
    for start in range(0, len(batch.rows), chunk):
        session.execute(table.insert(), [
            {name: value for name, value in row.items() if name != "data_json"} | {"data": row["data_json"]}
            for row in batch.rows[start:start + chunk]
        ])
    session.execute(_MOVE_HEAD, {"seq": batch.seq, "hash": batch.head})
    return len(batch.rows)


def events_for(session: Session, subject: str, newest: int | None = None) -> list[Event]:
    """The subject's events in trail order; ``newest``: only the last so many."""
    if newest is None:
        return list(session.scalars(select(Event).where(Event.subject == subject).order_by(Event.seq)))
    latest = session.scalars(select(Event).where(Event.subject == subject).order_by(Event.seq.desc()).limit(newest))
    return list(reversed(list(latest)))



def as_link(event) -> dict:
    """The exported form of an event (an Event or a row with its columns): every field of the
    trail's hash rule (docs/trail.md)."""
    return {
        "seq": event.seq,
        "at": format_at(event.at),
        "actor": event.actor,
        "kind": event.kind,
        "subject": event.subject,
        "data": json.loads(event.data_json),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


_LINK_COLUMNS = (
    Event.seq, Event.at, Event.actor, Event.kind, Event.subject,
    Event.data_json.label("data_json"), Event.prev_hash, Event.hash,
)


def iter_links(session: Session, batch: int = 1000) -> Iterator[dict]:
    """All events in seq order, read as plain rows in keyset batches so memory stays flat."""
    last = 0
    while True:
        rows = session.execute(
            select(*_LINK_COLUMNS).where(Event.seq > last).order_by(Event.seq).limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield as_link(row)
        last = rows[-1].seq


def iter_stored(session: Session, batch: int = 20_000) -> Iterator[tuple]:
    """All events in seq order as stored: ``(seq, at, actor, kind, subject, data_json,
    prev_hash, hash)`` tuples, in keyset batches (memory stays flat). ``stored_at_text`` turns
    ``at`` into the ISO text of the hash rule.

    This is the hot loop of verifying a large trail, so it reads through the DBAPI cursor of the
    session's connection (same transaction) with the statement compiled by SQLAlchemy: building
    SQLAlchemy rows and running the UTCDateTime decorator per event cost a third of the time.
    On SQLite the time is read as the stored text (UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``) and
    rewritten in place rather than parsed into a datetime.
    """
    connection = session.connection()
    dialect = connection.dialect
    at_column = (type_coerce(Event.at, String) if dialect.name == "sqlite"
                 else type_coerce(Event.at, DateTime(timezone=True)))
    statement = (
        select(Event.seq, at_column, Event.actor, Event.kind, Event.subject, Event.data_json,
               Event.prev_hash, Event.hash)
        .where(Event.seq > bindparam("last")).order_by(Event.seq).limit(batch)
    ).compile(dialect=dialect)
    cursor = connection.connection.cursor()
    try:
        last = 0
        while True:
            params = statement.construct_params({"last": last})
            if statement.positional:
                params = tuple(params[name] for name in statement.positiontup)
            cursor.execute(statement.string, params)
            rows = cursor.fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]
    finally:
        cursor.close()


def stored_at_text(stored) -> str:
    """The ISO text (hash rule) of an event time as ``iter_stored`` reads it."""
    if type(stored) is str:
        if len(stored) == 26 and stored[10] == " " and stored[19] == ".":
            return stored[:10] + "T" + stored[11:] + "Z"
        # Not written by the app; read it the way the ORM would (a mismatch shows as altered).
        moment = datetime.fromisoformat(stored)
        return format_at(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return format_at(stored)


def verify_database(session: Session, checkpoints: Iterable[CheckpointCheck] = ()) -> Verification:
    """Check the whole chain in the database (and, when given, that it still holds each
    checkpoint). The links are checked from the events alone; the head row, read first, must
    name a head the chain still holds, or the newest events were cut off (appends made while
    the walk runs only add events after it)."""
    head_row = session.execute(select(TrailHead.seq, TrailHead.hash).where(TrailHead.id == 1)).first()
    return verify_stored(iter_stored(session), checkpoints, at_text=stored_at_text,
                         head_row=tuple(head_row) if head_row else None)


def jsonl_line(event) -> str:
    """One line of the JSON Lines export: the canonical JSON of ``as_link(event)``."""
    return canonical_json(as_link(event)) + "\n"


def export_jsonl(session: Session, out: IO[str]) -> int:
    """Write the chain as JSON Lines, one event per line; returns the number written."""
    count = 0
    for link in iter_links(session):
        out.write(canonical_json(link))
        out.write("\n")
        count += 1
    return count
