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
from tests.conftest import new_item
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


class History:
    """Builders of a history on ``session``: ``item(filed_at, ...)``, ``rate(item, total, at)``,
    ``attach(item, at)``, ``escalate(item, at)`` and ``decide(item, at, outcome)``; ``cast``
    names the filer, the rater and the chair (an executive). Also used on a live server's
    database (tests/browser/test_register_journey.py)."""

    def __init__(self, session, cast: dict):
        self.session, self.cast = session, cast

    def item(self, filed_at, status="escalated", **values):
        with clock.override(lambda: filed_at):
            return new_item(self.session, self.cast["filer"], status=status, **values)

    def rate(self, item, total, at):
        with clock.override(lambda: at):
            ratings.rate(self.session, self.cast["rater"], item, ratings.RatingData(scores_for(total), "Weighed."))
        self.session.commit()

    def attach(self, item, at):
        with clock.override(lambda: at):
            # the file states the time it ran: the moment of the upload
            run = evidence.attach_evidence(self.session, self.cast["filer"], item, "run.csv",
                                           with_run_time("run.csv", CSV, at))
        self.session.commit()
        return run

    def escalate(self, item, at):
        with clock.override(lambda: at):
            queue.escalate(self.session, self.cast["filer"], item, "Needs the executives.", rules.ForumSettings())
        self.session.commit()

    def decide(self, item, at, outcome="approved", actions=()):
        """``actions``: (text, owner, due date) of follow-up actions."""
        session, chair = self.session, self.cast["chair"]
        with clock.override(lambda: at - timedelta(hours=1)):
            meeting = create_meeting(session, chair, MeetingData(
                f"Meeting on {at:%Y-%m-%d %H:%M}", at - timedelta(minutes=30), 60))
            add_entry(session, chair, meeting, item.id, 10)
            change_meeting_status(session, chair, meeting, "publish")
            change_meeting_status(session, chair, meeting, "start")
        entry = get_entry(session, meeting.id, _entry_id(session, meeting, item))
        with clock.override(lambda: at):
            decision = record_decision(session, chair, entry, DecisionData(
                outcome, "Decided on the evidence.",
                "Monthly drift report." if outcome == "approved_with_conditions" else "",
                decider_ids=[chair.id],
                actions=[ActionData(text, who.id, due) for text, who, due in actions]))
        session.commit()
        return decision


@pytest.fixture
def history(db_session, cast):
    return History(db_session, cast)


def _entry_id(session, meeting, item) -> int:
    return session.scalar(select(AgendaEntry.id).where(
        AgendaEntry.meeting_id == meeting.id, AgendaEntry.item_id == item.id))
