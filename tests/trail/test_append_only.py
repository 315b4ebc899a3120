"""The database itself keeps the trail append-only, and appends stay one chain under
concurrency; run on SQLite and PostgreSQL alike (``backend_url``)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from forum.core.db import make_engine
from forum.trail.models import Event
from forum.trail.service import iter_links, record, verify_database


@pytest.fixture
def engine(backend_url):
    engine = make_engine(backend_url)
    yield engine
    engine.dispose()


def append(engine, count: int, subject: str = "test:1") -> None:
    with Session(engine) as session:
        for n in range(count):
            record(session, None, "test.note", subject, {"n": n, "city": "Zürich ✓"})
        session.commit()


def all_links(engine) -> list[dict]:
    with Session(engine) as session:
        return list(iter_links(session))


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET kind = 'forged'", "UPDATE events SET data = '{}' WHERE seq = 1",
     "DELETE FROM events", "DELETE FROM events WHERE seq = 1"],
)
def test_update_and_delete_of_events_are_refused(engine, statement):
    append(engine, 1)
    before = all_links(engine)

    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(statement))

    assert all_links(engine) == before


def test_truncate_of_events_is_refused_on_postgresql(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE statement")
    append(engine, 2)
    before = all_links(engine)

    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE events"))

    assert all_links(engine) == before


def test_verify_finds_data_altered_behind_the_triggers(engine):
    append(engine, 3)
    with Session(engine) as session:
        assert verify_database(session).ok

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
        changed = conn.execute(
            text("UPDATE events SET data = :data WHERE seq = 2"),
            {"data": '{"city":"Zurich","n":1}'},
        )
        assert changed.rowcount == 1

    with Session(engine) as session:
        result = verify_database(session)

    assert not result.ok
    assert result.first_bad_seq == 2
    assert result.count == 1
    assert "altered" in result.problem


def test_concurrent_appends_form_one_gap_free_chain(engine):
    threads_count, per_thread = 4, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads_count)

    def writer(worker: int) -> None:
        try:
            with Session(engine) as session:
                start.wait(timeout=30)
                for n in range(per_thread):
                    record(session, None, "test.note", f"worker:{worker}", {"n": n})
                    session.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert errors == []
    with Session(engine) as session:
        seqs = list(session.scalars(select(Event.seq).order_by(Event.seq)))
        per_worker = dict(session.execute(
            select(Event.subject, func.count()).group_by(Event.subject)
        ).all())
        result = verify_database(session)
    assert seqs == list(range(1, threads_count * per_thread + 1))
    assert per_worker == {f"worker:{w}": per_thread for w in range(threads_count)}
    assert result.ok, f"broken at seq {result.first_bad_seq}: {result.problem}"
    assert result.count == threads_count * per_thread
