"""The trail's one writer, verification and export, on the main test database."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from forum.trail import chain
from forum.trail.models import Event, TrailHead
from forum.trail.service import export_jsonl, record, verify_database

GENESIS = "0" * 64
EXPORT_FIELDS = {"seq", "at", "actor", "kind", "subject", "data", "prev_hash", "hash"}


def event_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Event))


def stored_events(session) -> list[Event]:
    session.expire_all()
    return list(session.scalars(select(Event).order_by(Event.seq)))


@pytest.fixture(params=["update-returning", "update-then-select"])
def head_read(request, db_session, monkeypatch):
    """Both ways the head is locked and read: one UPDATE … RETURNING where the database has
    it, an UPDATE then a SELECT where it does not (SQLite before 3.35)."""
    dialect = db_session.get_bind().dialect
    if request.param == "update-returning" and not dialect.update_returning:
        pytest.skip("this database's driver returns nothing from an UPDATE")
    monkeypatch.setattr(dialect, "update_returning", request.param == "update-returning")
    return request.param


def test_record_appends_gap_free_seq_from_1_with_genesis_prev_hash(db_session, head_read):
    for n in range(3):
        record(db_session, None, "test.note", f"test:{n}", {"n": n, "text": "Zürich ✓"})
    db_session.commit()

    events = stored_events(db_session)

    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[2].data == {"n": 2, "text": "Zürich ✓"}


def test_recorded_hash_recomputes_from_the_stored_fields(db_session):
    record(db_session, None, "test.note", "test:1", {"b": [1, 2], "a": "✓"})
    db_session.commit()

    (event,) = stored_events(db_session)

    assert event.hash == chain.link_hash(
        event.prev_hash, event.seq, chain.format_at(event.at), event.actor, event.kind,
        event.subject, event.data,
    )


def test_record_names_the_actor_by_email_or_system(db_session, make_user):
    user = make_user()
    before = event_count(db_session)
    record(db_session, user, "test.note", "test:1", {})
    record(db_session, None, "test.note", "test:2", {})
    db_session.commit()

    events = stored_events(db_session)[before:]

    assert [e.actor for e in events] == [user.email, "system"]


def test_record_moves_the_head_to_the_last_event(db_session, head_read):
    record(db_session, None, "test.note", "test:1", {})
    last = record(db_session, None, "test.note", "test:2", {})
    db_session.commit()

    head = db_session.get(TrailHead, 1)
    db_session.refresh(head)

    assert (head.seq, head.hash) == (2, last.hash)


def test_verify_database_reports_ok_and_the_count(db_session):
    for n in range(5):
        record(db_session, None, "test.note", f"test:{n}", {"n": n})
    db_session.commit()

    result = verify_database(db_session)

    assert result.ok
    assert result.count == 5
    assert result.head_seq == 5
    assert result.head_hash == stored_events(db_session)[-1].hash


def test_verify_database_on_an_empty_trail_is_ok(db_session):
    result = verify_database(db_session)
    assert result.ok and result.count == 0


def test_a_rolled_back_record_leaves_no_event_and_no_gap(db_session):
    record(db_session, None, "test.note", "test:kept", {"n": 1})
    db_session.commit()

    record(db_session, None, "test.note", "test:lost", {"n": 2})
    db_session.rollback()

    assert event_count(db_session) == 1
    assert [e.subject for e in stored_events(db_session)] == ["test:kept"]

    after = record(db_session, None, "test.note", "test:next", {"n": 3})
    db_session.commit()

    events = stored_events(db_session)
    assert after.seq == 2
    assert [e.seq for e in events] == [1, 2]
    assert events[1].prev_hash == events[0].hash
    assert verify_database(db_session).ok


def test_export_jsonl_writes_one_complete_link_per_line(db_session):
    for n in range(3):
        record(db_session, None, "test.note", f"test:{n}", {"n": n, "city": "Zürich ✓"})
    db_session.commit()
    out = io.StringIO()

    written = export_jsonl(db_session, out)

    lines = out.getvalue().splitlines()
    assert written == 3
    assert len(lines) == 3
    parsed = [json.loads(line) for line in lines]
    assert all(set(link) == EXPORT_FIELDS for link in parsed)
    assert [link["seq"] for link in parsed] == [1, 2, 3]
    assert parsed[1]["data"] == {"n": 1, "city": "Zürich ✓"}
    assert parsed[0]["at"].endswith("Z")
    result = chain.verify_links(parsed)
    assert result.ok and result.count == 3


def test_the_head_keeps_the_seq_of_the_last_change_that_may_have_written_items(db_session):
    record(db_session, None, "test.note", "test:1", {})
    record(db_session, None, "test.comment", "test:1", {}, leaves_items=True)
    db_session.commit()
    head = db_session.get(TrailHead, 1)
    db_session.refresh(head)
    assert (head.seq, head.items_seq) == (2, 1)
    record(db_session, None, "test.note", "test:2", {})
    db_session.commit()
    db_session.refresh(head)
    assert (head.seq, head.items_seq) == (3, 3)
