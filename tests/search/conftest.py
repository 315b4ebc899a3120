"""Search fixtures: a small cast and helpers that file items, comments, decisions and evidence
through the services (so the index is kept current the way it is in use), and run searches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forum.agenda.decisions import DecisionData, record_decision
from forum.agenda.entries import add_entry, get_entry
from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting
from forum.core import clock
from forum.evidence import service as evidence
from forum.search import service
from forum.weighing import comments
from tests.evidence.conftest import csv_bytes


@pytest.fixture
def people(make_user):
    return {
        "filer": make_user(function="procurement", email="filer@example.com"),
        "other": make_user(function="risk", email="other@example.com"),
        "executive": make_user(role="executive", function="product", email="exec@example.com"),
        "auditor": make_user(role="auditor", function=None, email="auditor@example.com"),
    }


@pytest.fixture
def find(db_session):
    """find(viewer, q, **filters) -> [(kind, ref_id), …] best first (all pages)."""

    def run(viewer, q, per_page=100, page=1, **filters):
        results = service.search(db_session, viewer, service.SearchRequest(q=q, **filters), page, per_page)
        return [(hit.kind, hit.ref_id) for hit in results.hits]

    return run


@pytest.fixture
def comment(db_session):
    def add(author, item, body):
        added = comments.add_comment(db_session, author, item, body)
        db_session.commit()
        return added

    return add


@pytest.fixture
def attach(db_session):
    def add(uploader, item, suite="nightly", model="bot", version="1.0"):
        run = evidence.attach_evidence(db_session, uploader, item, f"{suite}.csv",
                                       csv_bytes(3, 1, 2, 0, suite=suite, model=model, version=version))
        db_session.commit()
        return run

    return add


@pytest.fixture
def decide(db_session):
    """decide(executive, item, rationale, conditions="") -> the decision on a new meeting's entry
    for an escalated item."""

    def record(executive, item, rationale, conditions="Review in a quarter.", outcome="approved_with_conditions"):
        meeting = create_meeting(db_session, executive, MeetingData(
            "Board review", clock.now() + timedelta(days=2), 60))
        entry = add_entry(db_session, executive, meeting, item.id, 15)
        for action in ("publish", "start"):
            change_meeting_status(db_session, executive, meeting, action)
        entry = get_entry(db_session, meeting.id, entry.id)
        decision = record_decision(db_session, executive, entry, DecisionData(
            outcome, rationale, conditions, decider_ids=[executive.id]))
        db_session.commit()
        return decision

    return record
