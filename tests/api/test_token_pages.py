"""/settings/tokens: list own tokens, create one (shown once), revoke with confirmation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.api import service
from forum.api.models import ApiToken
from tests.api.conftest import counts
from tests.budgets import count_statements


@pytest.fixture
def logged_in(client, staff, login):
    login(staff)
    return staff


def _secret_in(html: str) -> str | None:
    match = re.search(r'value="(dfk_[^"]+)"', html)
    return match.group(1) if match else None


def test_create_a_token_and_see_it_exactly_once(client, logged_in, db_session):
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "You have no API tokens yet." in page
    assert 'value="items:write"' in page and 'value="trail:read"' not in page  # staff's choices

    response = client.post("/settings/tokens", data={"name": "model-eval pipeline",
                                                     "scopes": ["items:read", "evidence:write"]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    secret = _secret_in(html)
    assert secret and "shown only this once" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers or secret not in response.headers["Set-Cookie"]
    token = service.resolve_token(db_session, secret)
    assert token.user_id == logged_in.id and token.scope_list == ["items:read", "evidence:write"]

    again = client.get("/settings/tokens").get_data(as_text=True)
    assert "model-eval pipeline" in again and token.hint in again
    assert secret not in again and _secret_in(again) is None
    # the new token works on the API
    assert client.get("/api/v1/items", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


@pytest.mark.parametrize("data, message", [
    ({"name": "", "scopes": ["items:read"]}, "Give the token a name."),
    ({"name": "ci"}, "Choose at least one scope."),
    ({"name": "ci", "scopes": ["trail:read"]}, "is not a valid choice"),
    ({"name": "ci", "scopes": ["everything"]}, "is not a valid choice"),
    ({"name": "x" * 81, "scopes": ["items:read"]}, "Field cannot be longer than 80 characters."),
])
def test_bad_token_input_is_refused_and_nothing_stored(client, logged_in, db_session, data, message):
    before = counts(db_session)
    response = client.post("/settings/tokens", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts(db_session) == before
    assert db_session.scalar(select(ApiToken.id)) is None


def test_only_own_tokens_are_listed_and_revocable(client, logged_in, make_user, make_token):
    other = make_user(function="risk")
    make_token(other, ["items:read"], name="someone else's")
    mine = make_token(logged_in, ["items:read"], name="mine")
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "mine" in page and "someone else" not in page
    assert mine not in page
    others_id = 1
    assert client.get(f"/settings/tokens/{others_id}/revoke").status_code == 404
    assert client.post(f"/settings/tokens/{others_id}/revoke", data={"confirm": "y"}).status_code == 404
    assert client.get("/settings/tokens/999/revoke").status_code == 404


def test_revoking_asks_for_confirmation(client, logged_in, make_token, db_session):
    secret = make_token(logged_in, ["items:read"], name="old pipeline")
    token = service.resolve_token(db_session, secret)
    url = f"/settings/tokens/{token.id}/revoke"
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Revoke the token “old pipeline”?" in confirm.get_data(as_text=True)
    unconfirmed = client.post(url, data={})
    assert unconfirmed.status_code == 400 and "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    db_session.expire_all()
    assert service.resolve_token(db_session, secret)
    done = client.post(url, data={"confirm": "y"})
    assert done.status_code == 302 and done.headers["Location"] == "/settings/tokens"
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "Revoked the token" in page and "Revoked <time" in page
    assert client.get("/api/v1/items", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    twice = client.post(url, data={"confirm": "y"})
    assert twice.status_code == 302  # already revoked: back to the list, nothing written


def test_each_role_is_offered_only_its_scopes(client, make_user, login):
    auditor = make_user(role="auditor", function=None)
    login(auditor)
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert 'value="trail:read"' in page and 'value="items:write"' not in page


def test_the_tokens_page_keeps_its_query_budget(app, client, logged_in, make_token):
    make_token(logged_in, ["items:read"], name="first")
    small = count_statements(app, lambda: client.get("/settings/tokens"))
    for n in range(12):
        make_token(logged_in, ["items:read"], name=f"t{n}")
    large = count_statements(app, lambda: client.get("/settings/tokens"))
    assert small == large <= 4
