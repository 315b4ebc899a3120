"""Results derived from the whole data set, reused until a table they read changes.

A result that depends only on the data and on the clock — the escalation queue's order and
count, how many items each list holds, which items' evidence drifted — can be kept and served
again without re-running its scan, for as long as none of the tables it read has changed and the
minute has not turned. The minute is there because some results depend on the clock (evidence
goes stale when its age passes the tier's limit): a cached result is at most a minute behind the
clock, never behind a change.

**What a result read.** While a result is computed, every statement the app's engine runs is
seen (``before_cursor_execute``) and the tables it names are noted, together with the tables of
the objects the session already holds (a value read from an object loaded earlier in the request
reads that object's table too). Over-counting is harmless (a result is computed again more often
than needed); missing a table would not be, which is why everything is counted that *names* a
table.

**What a change wrote.** Every INSERT, UPDATE and DELETE the engine runs notes its table on the
connection; just before the transaction commits, each noted table's row in ``derived_versions``
moves up by one, in that same transaction (so on every worker and every instance: they all read
that table). A rolled-back transaction moves nothing. A statement the forum does not recognise as
a read or a row change (DDL, say) moves the version of everything (``*``).

**Reading.** The first cached result a transaction asks for reads ``derived_versions`` (one small
statement, the one the trail head's read was before); an entry is served when the versions of the
tables it read are those it was computed at. Reading the versions *before* computing matters: the
result then reflects the data at those versions or later, so a concurrent change can only make it
newer than its key, and the next request, seeing the newer version, computes afresh.

So a comment leaves the escalation queue, the item lists and the register in the cache (they do
not read comments), while the home page of someone who takes part in items — which reads
comments — is computed again. Before, every change emptied everything.

What is cached are plain values — counts, lists of ids, the failing gates of a page's items,
one rendered document (a meeting's pre-read pack, about 150 KB at 30 entries) — never ORM rows:
the page still reads its rows by id (one cheap statement). The store is per app (per worker
process) and bounded (least recently used out first).

FORUM_DERIVED_CACHE_SIZE sets the number of results kept per worker (0 turns the cache off).
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app, has_app_context
from sqlalchemy import BigInteger, MetaData, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from forum.core import clock
from forum.core.db import Base

T = TypeVar("T")
EXTENSION = "forum.derived"
#: The version of every table at once: moved by a statement that is neither a read nor a row
#: change of a known table (schema changes).
EVERYTHING = "*"


class DerivedVersion(Base):
    """How many committed transactions changed each table (``*``: all of them, see above)."""

    __tablename__ = "derived_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class Store:
    """A bounded least-recently-used map, safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Hashable, object] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> tuple[bool, object]:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                self.hits += 1
                return True, self.entries[key]
            self.misses += 1
            return False, None

    def put(self, key: Hashable, value: object) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def _store() -> Store | None:
    if not has_app_context():
        return None
    store = current_app.extensions.get(EXTENSION)
    if store is None:
        size = int(current_app.config.get("DERIVED_CACHE_SIZE", 256))
        if size <= 0:
            return None
        store = current_app.extensions.setdefault(EXTENSION, Store(size))
    return store


# ------------------------------------------------------------------------- statements seen
TABLES = "forum.derived.tables"  # app.extensions: the pattern of the known tables' names
TOUCHED = "forum.derived.touched"  # connection.info: the tables this transaction changed
_FIRST_WORD = re.compile(r"[\s(]*(\w+)")  # a compound SELECT may open with "("
_TARGET = re.compile(
    r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+(?:ONLY\s+)?\"?(\w+)\"?",
    re.IGNORECASE,
)
_CHANGES = re.compile(r"\b(?:INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
# Statements that neither read a table's rows for a result nor change any.
_NEUTRAL = frozenset({"SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET", "LOCK", "SHOW"})

#: The tables each result being computed read so far (a stack: results computed inside others).
_recording: contextvars.ContextVar[tuple[set[str], ...]] = contextvars.ContextVar("forum_derived_recording",
                                                                                 default=())


def _names(tables: re.Pattern, statement: str) -> set[str]:
    return {match.group(1) for match in tables.finditer(statement)}


def _watch(engine, tables: re.Pattern) -> None:
    """Note what every statement of ``engine`` reads (while a result is computed) and changes."""

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, _cursor, statement, _parameters, _context, _executemany):
        first = _FIRST_WORD.match(statement)
        word = first.group(1).upper() if first else ""
        if word in _NEUTRAL:
            return
        if word == "SELECT" or (word == "WITH" and not _CHANGES.search(statement)):
            recording = _recording.get()
            if recording:
                names = _names(tables, statement)
                for tables_read in recording:
                    tables_read.update(names)
            return
        target = _TARGET.match(statement) if word in ("INSERT", "UPDATE", "DELETE") else None
        if target is not None and tables.fullmatch(target.group(1)):
            changed = {target.group(1)}
        elif word == "WITH":
            changed = _names(tables, statement) or {EVERYTHING}
        else:
            changed = {EVERYTHING}  # DDL, or a change of a table the forum does not know
        conn.info.setdefault(TOUCHED, set()).update(changed)

    @event.listens_for(engine, "commit")
    def _bump(conn):
        # Before the driver commits, in the same transaction: on the driver's own cursor, so
        # that this statement is not itself seen as a change.
        touched = conn.info.pop(TOUCHED, None)
        if not touched:
            return
        marker = "?" if conn.dialect.name == "sqlite" else "%s"
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            for name in sorted(touched):  # one order for every writer: no deadlock between them
                cursor.execute(
                    f"INSERT INTO derived_versions (name, version) VALUES ({marker}, 1) "
                    "ON CONFLICT (name) DO UPDATE SET version = derived_versions.version + 1",
                    (name,),
                )
        finally:
            cursor.close()

    @event.listens_for(engine, "rollback")
    def _forget(conn):
        conn.info.pop(TOUCHED, None)

    @event.listens_for(engine.pool, "reset")
    def _reset(_dbapi_connection, record, _reset_state):
        record.info.pop(TOUCHED, None)


# ------------------------------------------------------------------------------- the cache
# A transaction that has written is not a state anyone else sees (and may yet roll back): its
# reads are never cached.
WROTE = "forum.derived.wrote"
VERSIONS = "forum.derived.versions"


def _wrote(session: Session, _flush_context) -> None:
    session.info[WROTE] = True


def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)
        session.info.pop(VERSIONS, None)


def init_app(app, metadata: MetaData) -> None:
    """Cache derived results for ``app``: watch its engine's statements and its sessions'
    writes. ``metadata`` holds every table of the forum (the factory passes forum.models')."""
    names = sorted((name for name in metadata.tables if name != DerivedVersion.__tablename__),
                   key=len, reverse=True)
    names.append("search_index")  # forum.search's index: derived data, not a model
    tables = re.compile(r"\b(" + "|".join(re.escape(name) for name in names) + r")\b")
    app.extensions[TABLES] = tables
    _watch(app.extensions["forum.engine"], tables)
    factory = app.extensions["forum.sessionmaker"]
    event.listen(factory, "after_flush", _wrote)
    event.listen(factory, "after_transaction_end", _ended)


def versions(session: Session) -> dict[str, int]:
    """Every table's version (read once per transaction)."""
    if VERSIONS not in session.info:
        session.info[VERSIONS] = dict(session.execute(select(DerivedVersion.name, DerivedVersion.version)).all())
    return session.info[VERSIONS]


def _held(session: Session) -> set[str]:
    """The tables of the objects the session holds: a result may read their loaded values."""
    held = set()
    for key in session.identity_map.keys():
        table = getattr(key[0], "__tablename__", None)
        if table:
            held.add(table)
    return held


def cached(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or what it returned for ``key`` in the same minute, if no table it read
    has changed since. The value must be small and plain (counts, ids): it is shared by every
    request of the worker. ``key`` names whatever else ``compute`` depends on (the viewer, the
    filters); the data it reads and the minute are the cache's business."""
    store = _store()
    if store is None or TABLES not in current_app.extensions or session.new or session.dirty \
            or session.deleted or session.info.get(WROTE):
        return compute()  # no cache, or this transaction holds changes of its own
    now = versions(session)
    full = (key, clock.now().strftime("%Y-%m-%dT%H:%M"))
    found, entry = store.get(full)
    if found:
        read, at, value = entry  # type: ignore[misc]
        if all(now.get(table, 0) == version for table, version in zip(read, at, strict=True)):
            for outer in _recording.get():  # a result computed around this one read these too
                outer.update(read)
            return value  # type: ignore[return-value]
    tables_read = _held(session)
    token = _recording.set((*_recording.get(), tables_read))
    try:
        value = compute()
    finally:
        _recording.reset(token)
    tables_read |= _held(session)
    tables_read.add(EVERYTHING)
    for outer in _recording.get():
        outer.update(tables_read)
    read = tuple(sorted(tables_read))
    store.put(full, (read, tuple(now.get(table, 0) for table in read), value))
    return value
