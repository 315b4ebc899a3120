"""Fixtures of the API tests: tokens for users, and a client that sends them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.api import service as api_service
from forum.items.models import DecisionItem
from forum.trail.models import Event

ALL_SCOPES = list(api_service.SCOPES)


@pytest.fixture
def app_config(app_config):
    """High limits by default; the rate-limit tests lower them for themselves."""
    return {**app_config, "RATELIMIT_API": "100000 per minute", "RATELIMIT_AUTH_FAILURES": "100000 per minute"}


@pytest.fixture
def make_token(db_session):
    """make_token(user, scopes=None) -> the secret; scopes default to all the user's role allows."""

    def factory(user, scopes: list[str] | None = None, name: str = "test token") -> str:
        scopes = scopes if scopes is not None else api_service.grantable_scopes(user)
        _token, secret = api_service.create_token(db_session, None, user, api_service.NewToken(name, scopes))
        db_session.commit()
        return secret

    return factory


class ApiClient:
    """The Flask test client with a bearer token on every call."""

    def __init__(self, client, secret: str | None):
        self.client = client
        self.secret = secret

    def _headers(self, headers):
        merged = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        merged.update(headers or {})
        return merged

    def get(self, url, headers=None, **kw):
        return self.client.get(url, headers=self._headers(headers), **kw)

    def post(self, url, headers=None, **kw):
        return self.client.post(url, headers=self._headers(headers), **kw)

    def patch(self, url, headers=None, **kw):
        return self.client.patch(url, headers=self._headers(headers), **kw)

    def open(self, url, method, headers=None, **kw):
        return self.client.open(url, method=method, headers=self._headers(headers), **kw)


@pytest.fixture
def api_as(app, make_token):
    """api_as(user, scopes=None) -> an ApiClient with a fresh token of that user."""

    def factory(user, scopes: list[str] | None = None) -> ApiClient:
        return ApiClient(app.test_client(), make_token(user, scopes))

    return factory


@pytest.fixture
def staff(make_user):
    return make_user(function="procurement", email="pat@example.com", name="Pat Procurement")


def counts(session) -> tuple[int, int]:
    """(items, events) as committed now."""
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(DecisionItem)),
        session.scalar(select(func.count()).select_from(Event)),
    )


def assert_problem(response, status: int, detail_contains: str = "", field: str | None = None):
    """The response is an RFC 9457 problem with this status (and field error, if given)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert body["type"].startswith("/api#problem-")
    if detail_contains:
        assert detail_contains in body["detail"], body["detail"]
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body
