"""Bearer tokens authenticate the API and nothing else; sessions do not authenticate the API;
a token never does more than its user may, checked at every request."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from forum.api import service
from forum.auth import service as accounts
from forum.auth.models import User
from tests.api.conftest import ApiClient, assert_problem
from tests.conftest import PASSWORD


@pytest.mark.parametrize("header, detail, error", [
    (None, "Send a personal API token", None),
    ("Basic dXNlcjpwYXNz", "must be: Bearer <token>", "invalid_request"),
    ("Bearer", "must be: Bearer <token>", "invalid_request"),
    ("Bearer not-ours", "not a Decision Forum API token", "invalid_token"),
    ("Bearer dfk_doesnotexist000000000000000000000000000", "not valid", "invalid_token"),
])
def test_calls_without_a_valid_token_get_401_with_a_bearer_challenge(client, header, detail, error):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/items", headers=headers)
    assert_problem(response, 401, detail)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="Decision Forum"')
    assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)


def test_a_revoked_token_and_a_deactivated_users_token_get_401(app, db_session, staff, make_token):
    secret = make_token(staff, ["items:read"])
    api = ApiClient(app.test_client(), secret)
    assert api.get("/api/v1/items").status_code == 200
    token = service.resolve_token(db_session, secret)
    service.revoke_token(db_session, staff, token)
    db_session.commit()
    assert_problem(api.get("/api/v1/items"), 401, "revoked")

    other = accounts.get_user_by_email(db_session, staff.email)
    second = make_token(other, ["items:read"])
    accounts.deactivate_user(db_session, None, staff.email)
    db_session.commit()
    # deactivation revokes the account's tokens for good (reactivation does not bring them back)
    assert_problem(ApiClient(app.test_client(), second).get("/api/v1/items"), 401, "revoked")


def test_the_token_must_carry_the_scope(api_as, staff):
    api = api_as(staff, ["items:read"])
    response = api.post("/api/v1/items", json={"title": "x", "category": "vendor_selection", "function": "procurement"})
    assert_problem(response, 403, "lacks the scope items:write")
    assert 'error="insufficient_scope", scope="items:write"' in response.headers["WWW-Authenticate"]


def test_a_role_change_takes_effect_at_the_next_request(app, db_session, make_user, make_token):
    executive = make_user(role="executive", function="product")
    api = ApiClient(app.test_client(), make_token(executive, ["items:read", "trail:read", "items:write"]))
    assert api.get("/api/v1/events").status_code == 200
    # The account is re-roled (there is no service for that yet; this stands for it).
    db_session.execute(update(User).where(User.id == executive.id).values(role="staff"))
    db_session.commit()
    assert_problem(api.get("/api/v1/events"), 403, "may not use trail:read")
    db_session.execute(update(User).where(User.id == executive.id).values(role="auditor", function_key=None))
    db_session.commit()
    response = api.post("/api/v1/items", json={"title": "x", "category": "vendor_selection", "function": "product"})
    assert_problem(response, 403, "may not use items:write")
    assert api.get("/api/v1/items").status_code == 200


def test_a_browser_session_does_not_authenticate_the_api(client, staff, login):
    assert login(staff).status_code == 302
    assert client.get("/items").status_code == 200  # the session works for pages
    assert_problem(client.get("/api/v1/items"), 401)
    response = client.post("/api/v1/items", json={"title": "x", "category": "vendor_selection", "function": "procurement"})
    assert_problem(response, 401)


def test_a_token_does_not_authenticate_pages(client, staff, make_token):
    secret = make_token(staff)
    for url in ("/", "/items", "/settings/tokens"):
        response = client.get(url, headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_api_responses_set_no_session_cookie(api_as, staff):
    response = api_as(staff).get("/api/v1/items")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_use_is_remembered_on_the_token(app, db_session, staff, make_token):
    secret = make_token(staff, ["items:read"])
    assert service.resolve_token(db_session, secret).last_used_at is None
    ApiClient(app.test_client(), secret).get("/api/v1/items")
    db_session.expire_all()
    assert service.resolve_token(db_session, secret).last_used_at is not None


def test_login_password_is_not_a_token(client, staff):
    response = client.get("/api/v1/items", headers={"Authorization": f"Bearer {PASSWORD}"})
    assert_problem(response, 401)
