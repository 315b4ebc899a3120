"""Agenda fixtures: executives, a staff filer, and factories for meetings with entries and
decisions, all built through the services."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.agenda.decisions import ActionData, DecisionData, record_decision
from forum.agenda.entries import add_entry, get_entry
from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting
from forum.agenda.models import Action, AgendaEntry, Decision, Meeting
from forum.core import clock
from forum.trail.models import Event

_numbers = itertools.count(1)


@pytest.fixture
def chair(make_user):
    return make_user(role="executive", function="product", name="Chair Exec")


@pytest.fixture
def cfo(make_user):
    return make_user(role="executive", function="procurement", name="Cfo Exec")


@pytest.fixture
def filer(make_user):
    return make_user(function="procurement", name="Filer Staff")


@pytest.fixture
def owner(make_user):
    return make_user(function="risk", name="Owner Staff")


@pytest.fixture
def make_meeting(db_session):
    def factory(actor, status: str = "draft", items=(), starts_in=timedelta(days=7),
                duration: int = 90, title: str | None = None, time_box: int = 15) -> Meeting:
        meeting = create_meeting(db_session, actor, MeetingData(
            title=title or f"Executive forum {next(_numbers)}",
            starts_at=clock.now() + starts_in, duration_minutes=duration,
        ))
        for item in items:
            add_entry(db_session, actor, meeting, item.id, time_box)
        path = {"draft": [], "published": ["publish"], "in_session": ["publish", "start"]}[status]
        for action in path:
            change_meeting_status(db_session, actor, meeting, action)
        db_session.commit()
        return meeting

    return factory


@pytest.fixture
def entry_of(db_session):
    def get(meeting: Meeting, item) -> AgendaEntry:
        entry_id = db_session.scalar(select(AgendaEntry.id).where(
            AgendaEntry.meeting_id == meeting.id, AgendaEntry.item_id == item.id))
        return get_entry(db_session, meeting.id, entry_id)

    return get


@pytest.fixture
def decide(db_session, entry_of):
    """Record a decision on ``item`` at ``meeting`` (in session) and commit."""

    def do(actor, meeting, item, outcome: str = "approved", deciders=None, actions=(), **values) -> Decision:
        entry = entry_of(meeting, item)
        data = DecisionData(
            outcome=outcome, rationale=values.pop("rationale", "Because the evidence holds."),
            conditions=values.pop("conditions", "Monthly drift report." if outcome == "approved_with_conditions" else ""),
            decider_ids=[u.id for u in (deciders or [actor])],
            actions=[ActionData(text, who.id, due) for text, who, due in actions],
            **values,
        )
        decision = record_decision(db_session, actor, entry, data)
        db_session.commit()
        return decision

    return do


def counts(session) -> dict[str, int]:
    """Rows per agenda table and events, to assert that a refused change wrote nothing."""
    session.expire_all()
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (Meeting, AgendaEntry, Decision, Action, Event)
    }
