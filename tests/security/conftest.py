"""A cast of users, one per role and function, and a sample of every kind of object, for the
route-by-route security tests."""

from __future__ import annotations

import pytest

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


@pytest.fixture
def samples(cast, make_item, db_session):
    """Ids to fill URL parameters with: an open item filed by the procurement user; a meeting,
    entry, decision and action (tests/agenda/samples.py)."""
    item = make_item(cast["procurement"], status="open", title="Sample open item")
    return {"item_id": item.id, **agenda_samples(db_session, cast, make_item)}
