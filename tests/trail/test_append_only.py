"""The database itself keeps the trail append-only, and appends stay one chain under
concurrency; run on SQLite and PostgreSQL alike (``backend_url``)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from forum.core.db import make_engine
from forum.trail.chain import canonical_json
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


def _row(link: dict, **changes) -> dict:
    row = {k: link[k] for k in ("seq", "at", "actor", "kind", "subject", "prev_hash", "hash")}
    return row | {"data": canonical_json(link["data"])} | changes


def test_replace_into_an_existing_event_is_refused_on_sqlite(engine):
    """REPLACE deletes the conflicting row without firing DELETE triggers: the insert guard
    refuses it before that delete."""
    if engine.dialect.name != "sqlite":
        pytest.skip("REPLACE is SQLite's")
    append(engine, 3)
    before = all_links(engine)
    forged = _row(before[1], data='{"city":"Zurich","n":1}', at="2026-01-01 00:00:00.000000")

    for verb in ("INSERT OR REPLACE INTO", "REPLACE INTO"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(
                    f"{verb} events (seq, at, actor, kind, subject, data, prev_hash, hash) "
                    "VALUES (:seq, :at, :actor, :kind, :subject, :data, :prev_hash, :hash)"
                ), forged)

    assert all_links(engine) == before


def test_replace_of_another_event_through_its_hash_is_refused_on_sqlite(engine):
    """A row at the next seq that reuses an old event's hash would make REPLACE delete that
    event (the hash is unique): refused too."""
    if engine.dialect.name != "sqlite":
        pytest.skip("REPLACE is SQLite's")
    append(engine, 3)
    before = all_links(engine)
    row = _row(before[0], seq=4, prev_hash=before[-1]["hash"])

    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(
                "REPLACE INTO events (seq, at, actor, kind, subject, data, prev_hash, hash) "
                "VALUES (:seq, :at, :actor, :kind, :subject, :data, :prev_hash, :hash)"
            ), row)

    assert all_links(engine) == before


def test_upsert_over_an_existing_event_is_refused(engine):
    """INSERT ... ON CONFLICT DO UPDATE (PostgreSQL, and SQLite's upsert) may not rewrite an event."""
    append(engine, 3)
    before = all_links(engine)
    forged = _row(before[1], data='{"city":"Zurich","n":1}')

    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO events (seq, at, actor, kind, subject, data, prev_hash, hash) "
                "VALUES (:seq, CURRENT_TIMESTAMP, :actor, :kind, :subject, :data, :prev_hash, :hash) "
                "ON CONFLICT (seq) DO UPDATE SET data = excluded.data, hash = excluded.hash"
            ), forged)

    assert all_links(engine) == before


@pytest.mark.parametrize("change", ["gap", "wrong prev_hash", "stale seq"])
def test_an_insert_anywhere_but_at_the_head_is_refused(engine, change):
    append(engine, 3)
    before = all_links(engine)
    head = before[-1]
    row = {
        "gap": _row(head, seq=5, prev_hash=head["hash"], hash="a" * 64),
        "wrong prev_hash": _row(head, seq=4, prev_hash=before[0]["hash"], hash="a" * 64),
        "stale seq": _row(head, seq=3, prev_hash=before[1]["hash"], hash="a" * 64),
    }[change]

    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO events (seq, at, actor, kind, subject, data, prev_hash, hash) "
                "VALUES (:seq, CURRENT_TIMESTAMP, :actor, :kind, :subject, :data, :prev_hash, :hash)"
            ), row)

    assert all_links(engine) == before
    append(engine, 1)  # the one writer still appends at the head
    with Session(engine) as session:
        assert verify_database(session).ok
