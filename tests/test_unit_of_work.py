"""One unit of work per request: what a view wrote is committed when it returns normally, whatever
the status code; nothing is kept when it raises, even an error that becomes a page; a refused
change made under ``db.attempt`` is undone by its savepoint while the rest of the request stands."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.core import db
from forum.core.errors import Conflict, ValidationError
from forum.trail import service as trail
from forum.trail.models import Event


def _route(app, rule, view):
    app.add_url_rule(rule, view.__name__, view, methods=["POST"])


def _subjects(app) -> list[str]:
    with app.extensions["forum.sessionmaker"]() as fresh:
        return list(fresh.scalars(select(Event.subject).order_by(Event.seq)))


def test_a_view_that_returns_an_error_status_normally_keeps_what_it_wrote(app, client):
    def noted_then_400():
        trail.record(db.lock_for_change(), None, "test.noted", "test:kept", {})
        return "refused in words only", 400

    _route(app, "/test/noted-then-400", noted_then_400)
    assert client.post("/test/noted-then-400").status_code == 400
    assert _subjects(app) == ["test:kept"]


def test_a_view_that_raises_keeps_nothing_even_when_the_error_becomes_a_page(app, client):
    def noted_then_conflict():
        trail.record(db.lock_for_change(), None, "test.noted", "test:lost", {})
        raise Conflict("Someone else changed it first.")

    _route(app, "/test/noted-then-conflict", noted_then_conflict)
    response = client.post("/test/noted-then-conflict")
    assert response.status_code == 409
    assert "Someone else changed it first." in response.get_data(as_text=True)
    assert _subjects(app) == []


def test_a_refused_attempt_is_undone_and_the_rest_of_the_request_is_committed(app, client):
    def noted_then_refused():
        session = db.lock_for_change()
        trail.record(session, None, "test.noted", "test:before", {})
        try:
            with db.attempt():
                trail.record(session, None, "test.noted", "test:refused", {})
                raise ValidationError("Not like this.", "title")
        except ValidationError as error:
            return error.reason, 400
        return "accepted", 200

    _route(app, "/test/noted-then-refused", noted_then_refused)
    response = client.post("/test/noted-then-refused")
    assert (response.status_code, response.get_data(as_text=True)) == (400, "Not like this.")
    assert _subjects(app) == ["test:before"]
    with app.extensions["forum.sessionmaker"]() as fresh:  # the chain stays whole
        assert trail.verify_database(fresh).ok


def test_an_attempt_that_succeeded_is_still_undone_when_the_request_then_fails(app, client):
    """The savepoint must sit inside the request's transaction: on SQLite the driver opens that
    transaction only at the first write, and a savepoint made before would commit on release."""

    def attempted_then_conflict():
        with db.attempt():
            trail.record(db.session(), None, "test.noted", "test:attempted", {})
        raise Conflict("Refused after all.")

    _route(app, "/test/attempted-then-conflict", attempted_then_conflict)
    assert client.post("/test/attempted-then-conflict").status_code == 409
    assert _subjects(app) == []
    with app.extensions["forum.sessionmaker"]() as fresh:
        assert fresh.scalar(select(func.count()).select_from(Event)) == 0


def test_a_request_that_records_a_change_without_the_write_lock_fails_in_the_tests(app, client):
    """Every change of a request is checked and made under the write lock (forum.core.db): a
    write path that skips it (a view marked to lock itself that then forgets) fails the suite."""

    @db.locks_itself
    def forgot_the_lock():
        trail.record(db.session(), None, "test.noted", "test:unlocked", {})
        return "written"

    _route(app, "/test/forgot-the-lock", forgot_the_lock)
    with pytest.raises(AssertionError, match="without the write lock"):
        client.post("/test/forgot-the-lock")
    assert _subjects(app) == []


def test_a_changing_request_holds_the_write_lock_before_its_view_runs(app, client):
    seen = {}

    def look():
        seen["post"] = db.holds_write_lock(db.session())
        return "ok"

    _route(app, "/test/look", look)
    client.post("/test/look")
    assert seen["post"] is True


def _queue_is_held(database: str) -> bool:
    """Whether some writer holds the SQLite writers' queue beside ``database`` (tried without
    waiting, from a descriptor of our own)."""
    import fcntl
    import os

    fd = os.open(database + "-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also lets go of the lock if we got it
    return False


def _pg_write_lock_held(app) -> bool:
    """Whether some session holds the changes' advisory lock (PostgreSQL), seen from outside."""
    from sqlalchemy import text

    with db.get_engine(app).connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")))


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_writers_queue_until_the_transaction_ends(app, end):
    # PostgreSQL: an advisory lock. SQLite: a lock file beside the database, where writers wait
    # (woken as soon as it is free) rather than in SQLite's busy handler, which sleeps 1, 2, 5,
    # 10 … ms between its tries.
    from forum.core.db import QUEUE_FD

    engine = db.get_engine(app)
    sqlite = engine.dialect.name == "sqlite"

    def held() -> bool:
        return _queue_is_held(engine.url.database) if sqlite else _pg_write_lock_held(app)

    with app.app_context():
        session = db.session()
        assert not held()
        db.lock_for_change(session)
        assert held()
        db.lock_for_change(session)  # taken once per transaction: no second wait on ourselves
        trail.record(session, None, "test.noted", "test:queued", {})
        getattr(session, end)()
        assert not held()  # the next writer goes on
        db.lock_for_change(session)  # the next transaction queues again
        assert held()
        if sqlite:
            # A second session of the same thread would wait on itself forever: it skips the
            # queue and meets SQLite's own lock and busy timeout, as before there was a queue.
            second = app.extensions["forum.sessionmaker"]()
            second.connection()
            db._queue_for_sqlite(second, engine.url.database)  # returns at once
            assert QUEUE_FD not in second.info and QUEUE_FD in session.info
            second.close()
        session.rollback()
        assert not held()
