"""Engine, one session per request, the declarative Base and the UTC-only datetime type."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

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
    return create_engine(url, pool_pre_ping=True)


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to ``app`` and close the request session at teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["forum.engine"] = engine
    app.extensions["forum.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.after_request
    def _commit(response):
        """The one commit of a request: the view returned normally, whatever the status. A view
        that raised had its work discarded first (``discard``, from the app's exception
        handling); a refusal the view shows itself was made under ``attempt``."""
        session = g.get("_forum_session")
        if session is not None:
            session.commit()
        return response

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


@contextlib.contextmanager
def attempt(current: Session | None = None) -> Iterator[Session]:
    """A change that may be refused: what the block writes is undone if it raises (a savepoint),
    and the exception goes on to the caller, which shows the refusal; the transaction stays
    usable and the request commits what it did before.

    On SQLite the driver opens a transaction only at the first write, and a savepoint made
    outside one would commit when released: the transaction is begun first (BEGIN IMMEDIATE, the
    write lock the block's first write would take anyway)."""
    current = current if current is not None else session()
    connection = current.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
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
