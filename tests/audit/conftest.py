"""Fixtures of the audit tests: users per role, a way around the append-only triggers (to
tamper with the trail as an attacker with database access would), and the CLI."""

from __future__ import annotations

import contextlib

import pytest
from click.testing import CliRunner
from sqlalchemy import event, text

from forum.cli import main
from forum.core import db
from forum.trail.service import record


@pytest.fixture
def auditor(make_user):
    return make_user("auditor", name="Ada Auditor", email="ada.auditor@example.com")


@pytest.fixture
def executive(make_user):
    return make_user("executive", name="Eve Executive", email="eve.exec@example.com")


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="Sam Staff", email="sam.staff@example.com")


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="Al Admin", email="al.admin@example.com")


@pytest.fixture
def notes(db_session):
    """Append ``count`` plain events (subject test:N) through the trail's one writer."""

    def append(count: int, kind: str = "test.note", subject: str | None = None, actor=None,
               data: dict | None = None) -> list:
        events = [
            record(db_session, actor, kind, subject or f"test:{n}", data or {"n": n})
            for n in range(count)
        ]
        db_session.commit()
        return events

    return append


@contextlib.contextmanager
def bypassing_triggers(engine):
    """A transaction in which UPDATE, DELETE and any INSERT on events work, as for an attacker
    with the database's owner rights: PostgreSQL replica mode (for this transaction), or on SQLite
    the triggers dropped and created again at the end."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            yield conn
            return
        triggers = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
        )).all()
        for name, _sql in triggers:
            conn.execute(text(f'DROP TRIGGER "{name}"'))
        yield conn
        for _name, sql in triggers:
            conn.execute(text(sql))


@pytest.fixture
def tamper(app):
    """Run raw SQL on the app's database with the append-only triggers out of the way."""

    def run(*statements: tuple[str, dict] | str) -> None:
        with bypassing_triggers(db.get_engine(app)) as conn:
            for statement in statements:
                sql, params = (statement, {}) if isinstance(statement, str) else statement
                conn.execute(text(sql), params)

    return run


@pytest.fixture
def cli():
    """Run `forum ARGS...` (for --file checks that need no database, or with env=)."""

    def run(*args: str, env: dict | None = None):
        return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)

    return run


def count_statements(app, fn) -> tuple[int, list[tuple[str, object]]]:
    """How many statements ``fn`` issues, and each (statement, parameters)."""
    engine = db.get_engine(app)
    statements: list[tuple[str, object]] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return len(statements), statements
