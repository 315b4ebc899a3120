"""A cast of users, one per role and function, and a sample of every kind of object, for the
route-by-route security tests."""

from __future__ import annotations

import pytest

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


@pytest.fixture
def samples(cast, make_item, db_session):
    """Ids to fill URL parameters with: an open item filed by the procurement user, and an API
    token of the procurement user. Evidence and meeting ids need not exist: the API answers
    401 before it looks."""
    from forum.api import service as api_tokens

    item = make_item(cast["procurement"], status="open", title="Sample open item")
    session = db_session
    token, _secret = api_tokens.create_token(
        session, cast["procurement"], cast["procurement"], api_tokens.NewToken("sample", ["items:read"])
    )
    session.commit()
    return {"item_id": item.id, "token_id": token.id, "evidence_id": 1, "meeting_id": 1}
