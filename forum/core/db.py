"""Engine, one session per request, the declarative Base and the UTC-only datetime type."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Flask, current_app, g, request
from sqlalchemy import DateTime, MetaData, create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: SQLite's own busy handler alone
    fcntl = None

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """A timestamp that must be timezone-aware; stored and returned as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} refused: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite has no timezone type: keep naive UTC text with microseconds.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _postgresql_settings(dbapi_connection, _record):
        # No JIT compilation: the forum's statements are short, and PostgreSQL compiled the ones
        # its cost estimate thought large (the home page's "waiting for my function", 90 ms of
        # compiling for 50 ms of work). A session setting, so a connection pooler passes it.
        dbapi_connection.execute("SET jit = off")
        dbapi_connection.commit()

    return engine


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to ``app`` and close the request session at teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["forum.engine"] = engine
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "after_transaction_end", _lock_released)
    app.extensions["forum.sessionmaker"] = factory

    @app.after_request
    def _commit(response):
        """The one commit of a request: the view returned normally, whatever the status. A view
        that raised had its work discarded first (``discard``, from the app's exception
        handling); a refusal the view shows itself was made under ``attempt``."""
        session = g.get("_forum_session")
        if session is not None:
            session.commit()
        return response

    app.before_request(_lock_before_changes)

    @app.teardown_appcontext
    def _close(exc):
        session: Session | None = g.pop("_forum_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["forum.engine"]


def session() -> Session:
    """The session of the current request or app context, created on first use."""
    current = g.get("_forum_session")
    if current is None:
        current = current_app.extensions["forum.sessionmaker"]()
        g._forum_session = current
    return current


def discard() -> None:
    """Undo everything the request wrote so far (its view raised)."""
    current = g.get("_forum_session")
    if current is not None:
        current.rollback()


#: ``session.info`` key: this transaction holds the write lock (``lock_for_change``).
WRITE_LOCK = "forum.write_lock"
#: PostgreSQL: the advisory lock every change of a request takes (any constant; one lock).
PG_WRITE_LOCK_KEY = 4_242_424_242


def lock_for_change(current: Session | None = None) -> Session:
    """Take the database's write lock for the rest of the transaction, once: changes made by
    requests run one at a time, so the checks a change makes before it writes (is there a rating
    already? is the item still at version 3? does this person follow it?) see the newest
    committed state and nothing can slip in between the check and the write.

    SQLite allows one writer anyway: its lock is taken now (BEGIN IMMEDIATE) instead of at the
    first write, after the checks. PostgreSQL takes a transaction-scoped advisory lock: the
    changes of requests queue on it (reads never wait). Every change appends to the trail,
    which already serialises changes from their first event to their commit, so the lock costs
    little concurrency. What the session loaded before the lock may be stale, so it is expired
    (read again on next use)."""
    current = current if current is not None else session()
    if current.info.get(WRITE_LOCK):
        return current
    current.flush()
    connection = current.connection()
    if connection.dialect.name == "sqlite":
        # The driver opens a transaction only before a write; one open already holds the lock.
        if not connection.connection.dbapi_connection.in_transaction:
            _queue_for_sqlite(current, connection.engine.url.database)
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK_KEY})")
    current.info[WRITE_LOCK] = True
    for loaded in list(current.identity_map.values()):
        # Columns only: relationships loaded on purpose (some refuse lazy loads) stay as they
        # are, and the objects they hold are expired here in their turn.
        current.expire(loaded, [column.key for column in inspect(loaded).mapper.column_attrs])
    return current


#: ``session.info`` key: the descriptor of the lock file this transaction holds (SQLite).
QUEUE_FD = "forum.write_queue_fd"


def _queue_for_sqlite(current: Session, database: str | None) -> None:
    """Wait for the other writers of the same SQLite file on a lock file beside it, held until
    the transaction ends. SQLite's own busy handler polls, sleeping 1, 2, 5, 10 … ms between
    tries whenever another process holds the write lock, so two workers taking turns lost
    milliseconds on every change; a blocked ``flock`` wakes as soon as the holder lets go, and
    the kernel lets go for a process that dies. Writers outside the web app (the CLI) still meet
    SQLite's lock and its busy timeout."""
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        return
    if getattr(_queued, "count", 0):
        # This thread already holds the queue in another session: waiting on it would never
        # end. Such a second writer meets SQLite's lock and its busy timeout, as before.
        return
    fd = os.open(database + "-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    current.info[QUEUE_FD] = fd
    _queued.count = getattr(_queued, "count", 0) + 1


#: Per thread: how many of its sessions hold the SQLite writers' queue.
_queued = threading.local()


#: The methods of requests that may change something: they take the write lock before their view.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def locks_itself(view):
    """Mark a view that takes the write lock itself (``attempt``) once its slow part is done —
    checking a password, reading a large upload from the client — instead of before it runs.
    The mark survives decorators that use functools.wraps."""
    view.locks_itself = True
    return view


def _lock_before_changes() -> None:
    """A request that may change something takes the write lock before its view runs, so every
    check a view or service makes is made under it (``lock_for_change``). Its body is read first
    (within the route's size limit): a client sending slowly never holds the lock."""
    if request.method not in WRITE_METHODS or request.endpoint is None:
        return
    if getattr(current_app.view_functions.get(request.endpoint), "locks_itself", False):
        return
    request.get_data(cache=True, parse_form_data=True)
    lock_for_change()


def holds_write_lock(current: Session) -> bool:
    return bool(current.info.get(WRITE_LOCK))


def _lock_released(current: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: its locks are gone
        current.info.pop(WRITE_LOCK, None)
        fd = current.info.pop(QUEUE_FD, None)
        if fd is not None:
            os.close(fd)  # releases the flock: the next writer in the queue goes on
            _queued.count = max(0, getattr(_queued, "count", 0) - 1)


@contextlib.contextmanager
def attempt(current: Session | None = None) -> Iterator[Session]:
    """A change that may be refused: the write lock is taken first (``lock_for_change``), what
    the block writes is undone if it raises (a savepoint), and the exception goes on to the
    caller, which shows the refusal; the transaction stays usable and the request commits what
    it did before."""
    current = lock_for_change(current)
    with current.begin_nested():
        yield current


@contextlib.contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A session for CLI commands and scripts: commit once at the end, roll back on any error."""
    factory = app.extensions["forum.sessionmaker"]
    with factory() as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
