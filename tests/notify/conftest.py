"""Notification fixtures: a cast of people, helpers to read inboxes, and a real SMTP server
(aiosmtpd on 127.0.0.1) that records what it receives or refuses every message."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from forum.agenda.decisions import ActionData, DecisionData, record_decision
from forum.agenda.entries import add_entry, get_entry
from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting
from forum.core import clock
from forum.notify.models import Notification


@pytest.fixture
def people(make_user):
    return {
        "procurement": make_user(function="procurement", name="Pat Procurement"),
        "product": make_user(function="product", name="Dee Product"),
        "risk": make_user(function="risk", name="Rae Risk"),
        "risk2": make_user(function="risk", name="Ray Risk"),
        "exec": make_user(role="executive", function=None, name="Eve Exec"),
        "exec2": make_user(role="executive", function=None, name="Ezra Exec"),
        "auditor": make_user(role="auditor", function=None, name="Ann Auditor"),
    }


@pytest.fixture
def inbox_of(db_session):
    """The notifications of a user, oldest first, as (kind, title) pairs or rows."""

    def read(user, rows: bool = False):
        db_session.expire_all()
        found = list(db_session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)))
        return found if rows else [(n.kind, n.title) for n in found]

    return read


@pytest.fixture
def decide(db_session):
    """Take an escalated item through a meeting to a decision with one action for ``owner``."""

    def run(chair, item, owner, due_in=timedelta(days=5), outcome="approved_with_conditions"):
        meeting = create_meeting(db_session, chair, MeetingData(
            "Executive forum", clock.now() + timedelta(days=2), 60))
        entry = add_entry(db_session, chair, meeting, item.id, 15)
        for action in ("publish", "start"):
            change_meeting_status(db_session, chair, meeting, action)
        entry = get_entry(db_session, meeting.id, entry.id)
        decision = record_decision(db_session, chair, entry, DecisionData(
            outcome, "Because.", "A condition." if outcome == "approved_with_conditions" else "",
            decider_ids=[chair.id],
            actions=[ActionData("Re-test the edge cases", owner.id, clock.now().date() + due_in)],
        ))
        db_session.commit()
        return decision

    return run


class Recorder:
    def __init__(self, refuse: bool = False):
        self.messages = []
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.refuse:
            return "451 4.3.0 Try again later"
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1; ``.handler.refuse = True`` makes it answer 451."""
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    controller.url = f"smtp://127.0.0.1:{controller.port}"
    yield controller
    controller.stop()
