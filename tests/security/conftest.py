"""A cast of users, one per role and function, and a sample of every kind of object, for the
route-by-route security tests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.auth import service as accounts
from forum.auth.models import AccessRequest
from forum.core import clock
from forum.evidence import service as evidence
from forum.notify.models import Notification
from forum.probes.models import ModelEndpoint, Probe, ProbeAnswer
from forum.systems import service as systems
from forum.weighing import comments
from tests.agenda.samples import agenda_samples

ROLES = ("anonymous", "procurement", "product", "risk", "executive", "auditor", "admin")


@pytest.fixture
def cast(make_user):
    """One user per role (staff of each function); the procurement user files the sample item."""
    return {
        "procurement": make_user(function="procurement", email="proc@example.com"),
        "product": make_user(function="product", email="prod@example.com"),
        "risk": make_user(function="risk", email="risk@example.com"),
        "executive": make_user(role="executive", function="product", email="exec@example.com"),
        "auditor": make_user(role="auditor", function=None, email="audit@example.com"),
        "admin": make_user(role="admin", function=None, email="admin@example.com"),
    }


FIXTURES = Path(__file__).resolve().parent.parent / "evidence" / "fixtures"


@pytest.fixture
def samples(cast, make_item, make_user, db_session):
    """Ids to fill URL parameters with: an open item filed by the procurement user, with one
    evidence run and one comment by that user; an invitation link; an API token of the
    procurement user; a meeting, entry, decision and action (tests/agenda/samples.py)."""
    from forum.api import service as api_tokens

    item = make_item(cast["procurement"], status="open", title="Sample open item")
    run = evidence.attach_evidence(
        db_session, cast["procurement"], item, "support-bot.csv",
        (FIXTURES / "handwritten-support-bot.csv").read_bytes(),
    )
    comment = comments.add_comment(db_session, cast["procurement"], item, "A sample comment.")
    invitee = make_user(function="risk", email="invitee@example.com")
    invitation = accounts.issue_set_password_link(db_session, None, invitee, timedelta(hours=1))
    token, _secret = api_tokens.create_token(
        db_session, cast["procurement"], cast["procurement"], api_tokens.NewToken("sample", ["items:read"])
    )
    access = AccessRequest(issuer="https://login.example.org", subject="someone", email="someone@example.org",
                           display_name="Someone", groups=["marketing"], reason="no_role")
    db_session.add(access)
    system = systems.create_system(db_session, cast["procurement"], systems.SystemData(
        name="Sample assistant", owner_function="procurement", vendor="Acme AI", model_name="acme-chat"), "1.0")
    endpoint = ModelEndpoint(system_id=system.id, version="1.0", base_url="http://127.0.0.1:9/v1", model="acme-chat",
                             created_by=cast["procurement"].email)
    db_session.add(endpoint)
    db_session.flush()
    probe = Probe(system_id=system.id, prompt="A sample prompt", run_by_id=cast["procurement"].id,
                  saved_at=clock.now())
    probe.answers.append(ProbeAnswer(position=0, endpoint_id=endpoint.id, version="1.0", model="acme-chat",
                                     base_url=endpoint.base_url, text="A sample answer.", verdict="acceptable"))
    db_session.add(probe)
    db_session.commit()
    agenda = agenda_samples(db_session, cast, make_item)
    # The risk user owns the sample action: the decision that made them its owner notified them.
    notification = db_session.scalar(
        select(Notification).where(Notification.user_id == cast["risk"].id).order_by(Notification.id)
    )
    return {
        **agenda, "notification_id": notification.id,
        "item_id": item.id, "run_id": run.id, "comment_id": comment.id,
        "user_id": cast["product"].id, "key": "risk", "token": invitation.token,
        "token_id": token.id, "evidence_id": run.id, "seq": 1, "fmt": "jsonl",
        "subject": f"item:{item.id}", "request_id": access.id, "system_id": system.id, "framework": "nist_ai_rmf", "obligation": "govern",
        "endpoint_id": endpoint.id, "probe_id": probe.id, "answer_id": probe.answers[0].id,
    }
