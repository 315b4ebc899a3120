"""The demo's agenda (seed/agenda.json): a closed meeting with minutes, a published upcoming
meeting, open and overdue actions — all through the services, on a chain that verifies."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from forum.agenda import queries
from forum.agenda.models import Meeting
from forum.core import clock
from forum.items.models import DecisionItem
from forum.trail import service as trail
from forum.trail.models import Event
from forum_seed import demo as seed
from forum_seed.demo_agenda import AgendaSeedError, steps


@pytest.fixture
def seeded(db_session):
    seed.load_demo(db_session)
    db_session.commit()


def test_demo_has_minutes_an_upcoming_agenda_and_open_and_overdue_actions(db_session, seeded):
    meetings = db_session.scalars(select(Meeting).order_by(Meeting.starts_at)).all()
    assert [m.status for m in meetings] == ["closed", "published"]
    closed, upcoming = meetings
    now = clock.now()
    assert closed.starts_at < now < upcoming.starts_at

    minutes = queries.meeting_view(db_session, closed.id)
    outcomes = [e.decision.outcome for e in minutes.entries]
    assert "approved_with_conditions" in outcomes and "more_evidence_needed" in outcomes
    assert all(e.decision is not None for e in minutes.entries)
    assert any(e.decision.actions for e in minutes.entries)
    assert any(e.recusals for e in minutes.entries)  # a declared conflict
    assert {u.email for u in minutes.present} == {"exec@example.com", "cfo@example.com"}

    agenda = queries.meeting_view(db_session, upcoming.id)
    assert len(agenda.entries) == 3
    assert agenda.entries[0].carried_from is not None  # carried forward from October

    today = now.date()
    assert queries.open_actions(db_session, overdue_on=today).total >= 1
    assert queries.open_actions(db_session).total > queries.open_actions(db_session, overdue_on=today).total

    statuses = {i.title: i.status for i in db_session.scalars(select(DecisionItem))}
    assert statuses["Deploy fraud-scoring model fs-gbm 4.1 to card payments"] == "closed"  # last action done
    assert statuses["Follow-up to INC-2291: support chatbot quoted a discontinued refund policy"] == "closed"
    concluded = db_session.scalar(select(Event).where(Event.kind == "item.status_changed",
                                                      Event.actor == "system"))
    assert concluded.data["action"] == "conclude"
    assert {"escalated", "scheduled", "decided", "closed"} <= set(statuses.values())
    assert trail.verify_database(db_session).ok


def test_a_broken_agenda_file_is_reported(tmp_path, db_session):
    path = tmp_path / "agenda.json"
    path.write_text("{not json")
    with pytest.raises(AgendaSeedError, match="Cannot read"):
        steps(db_session, {}, clock.now(), path=path)
    path.write_text(json.dumps({"meetings": [{"title": "No dates"}]}))
    with pytest.raises(AgendaSeedError, match="created_days_ago"):
        steps(db_session, {}, clock.now(), path=path)
