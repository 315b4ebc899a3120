"""Fixtures of the forum area: people of each function and role, and helpers to weigh items."""

from __future__ import annotations

import functools

import pytest
from sqlalchemy import func, select

from forum.auth import service as accounts
from forum.items.rubric import RUBRIC
from forum.trail.models import Event
from forum.weighing import positions, ratings, rules

SETTINGS = rules.ForumSettings()


def scores_for(total: int) -> dict[str, int]:
    """Rubric scores that add up to ``total`` (filled criterion by criterion)."""
    assert 0 <= total <= RUBRIC.max_total
    scores = {}
    for criterion in RUBRIC.criteria:
        scores[criterion.key] = min(RUBRIC.max_score, total)
        total -= scores[criterion.key]
    return scores


def form_scores(total: int) -> dict[str, str]:
    return {f"score_{k}": str(v) for k, v in scores_for(total).items()}


def event_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Event))


_real_hash_password = accounts.hash_password


@functools.cache
def _cached_hash(password: str) -> str:
    return _real_hash_password(password)


@pytest.fixture(autouse=True)
def _one_scrypt_per_password(monkeypatch):
    """These tests make many accounts with the same password: hash it once (a real scrypt hash,
    so logging in still checks it), instead of once per account."""
    monkeypatch.setattr(accounts, "hash_password", _cached_hash)


@pytest.fixture
def people(make_user):
    """One staff member per function, a second procurement member, an executive without and one
    with a function, an auditor and an admin."""
    return {
        "procurement": make_user(function="procurement", name="Pat Procurement"),
        "procurement2": make_user(function="procurement", name="Quinn Procurement"),
        "product": make_user(function="product", name="Robin Product"),
        "risk": make_user(function="risk", name="Sasha Risk"),
        "exec": make_user(role="executive", function=None, name="Erin Executive"),
        "exec_fn": make_user(role="executive", function="risk", name="Frankie Risk-Executive"),
        "auditor": make_user(role="auditor", function=None, name="Ari Auditor"),
        "admin": make_user(role="admin", function=None, name="Ada Admin"),
    }


@pytest.fixture
def rate(db_session):
    """Rate ``item`` as ``user`` with scores adding up to ``total``, and commit."""

    def do(user, item, total: int, reason: str = "Because."):
        rating = ratings.rate(db_session, user, item, ratings.RatingData(scores_for(total), reason))
        db_session.commit()
        return rating

    return do


@pytest.fixture
def position(db_session):
    def do(user, item, stance: str, rationale: str = "Our view."):
        result = positions.take_position(db_session, user, item, positions.PositionData(stance, rationale))
        db_session.commit()
        return result

    return do
