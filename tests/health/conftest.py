"""A hand-built forum history for the health figures: items filed and decided at chosen
moments (through the services, on an overridden clock), rated into chosen tiers, with
evidence of chosen age and model version."""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.agenda.decisions import ActionData, DecisionData, record_decision
from forum.agenda.entries import add_entry, get_entry
from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting
from forum.agenda.models import AgendaEntry
from forum.auth import service as accounts
from forum.core import clock
from forum.evidence import service as evidence
from forum.weighing import queue, ratings, rules
from forum_seed.demo_evidence import with_run_time
from tests.weighing.conftest import scores_for

CSV = (Path(__file__).resolve().parent.parent / "evidence" / "fixtures" / "handwritten-support-bot.csv").read_bytes()
CSV_VERSION = "2026.06.1"  # the model version the sample CSV says it tested

_real_hash_password = accounts.hash_password


@functools.cache
def _cached_hash(password: str) -> str:
    return _real_hash_password(password)


@pytest.fixture(autouse=True)
def _one_scrypt_per_password(monkeypatch):
    monkeypatch.setattr(accounts, "hash_password", _cached_hash)


@pytest.fixture
def cast(make_user):
    return {
        "filer": make_user(function="procurement", name="Filer Staff"),
        "rater": make_user(function="risk", name="Rater Staff"),
        "chair": make_user(role="executive", function=None, name="Chair Exec"),
    }


@pytest.fixture
def history(db_session, make_item, cast):
    """Builders of a history: ``item(filed_at, ...)``, ``rate(item, total, at)``,
    ``attach(item, at)``, ``escalate(item, at)`` and ``decide(item, at, outcome)``."""

    class History:
        def item(self, filed_at, status="escalated", **values):
            with clock.override(lambda: filed_at):
                return make_item(cast["filer"], status=status, **values)

        def rate(self, item, total, at):
            with clock.override(lambda: at):
                ratings.rate(db_session, cast["rater"], item, ratings.RatingData(scores_for(total), "Weighed."))
            db_session.commit()

        def attach(self, item, at):
            with clock.override(lambda: at):
                # the file states the time it ran: the moment of the upload
                run = evidence.attach_evidence(db_session, cast["filer"], item, "run.csv",
                                               with_run_time("run.csv", CSV, at))
            db_session.commit()
            return run

        def escalate(self, item, at):
            with clock.override(lambda: at):
                queue.escalate(db_session, cast["filer"], item, "Needs the executives.", rules.ForumSettings())
            db_session.commit()

        def decide(self, item, at, outcome="approved", actions=()):
            """``actions``: (text, owner, due date) of follow-up actions."""
            chair = cast["chair"]
            with clock.override(lambda: at - timedelta(hours=1)):
                meeting = create_meeting(db_session, chair, MeetingData(
                    f"Meeting on {at:%Y-%m-%d %H:%M}", at - timedelta(minutes=30), 60))
                add_entry(db_session, chair, meeting, item.id, 10)
                change_meeting_status(db_session, chair, meeting, "publish")
                change_meeting_status(db_session, chair, meeting, "start")
            entry = get_entry(db_session, meeting.id, _entry_id(db_session, meeting, item))
            with clock.override(lambda: at):
                decision = record_decision(db_session, chair, entry, DecisionData(
                    outcome, "Decided on the evidence.",
                    "Monthly drift report." if outcome == "approved_with_conditions" else "",
                    decider_ids=[chair.id],
                    actions=[ActionData(text, who.id, due) for text, who, due in actions]))
            db_session.commit()
            return decision

    return History()


def _entry_id(session, meeting, item) -> int:
    return session.scalar(select(AgendaEntry.id).where(
        AgendaEntry.meeting_id == meeting.id, AgendaEntry.item_id == item.id))
