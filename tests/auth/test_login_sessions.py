"""A logout ends the session (issue: no input gives a 500 …, point 3): logins are kept on the
server, so that a copy of an old session cookie or remember-me cookie opens nothing after
logout, "log out everywhere else", a password change or deactivation; and a deactivated
account's API tokens stay revoked after reactivation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.api import service as api_service
from forum.auth import service as accounts
from forum.auth import sessions
from forum.auth.models import LoginSession
from forum.core import clock
from tests.auth.helpers import clock_moved
from tests.conftest import PASSWORD, csrf_token_from


@pytest.fixture
def staff(make_user):
    return make_user(function="product", email="sam@example.com")


def log_in(app, user, remember=False):
    client = app.test_client()
    data = {"email": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    return client


def copy_cookies(source, names=("session", "remember_token")):
    """A second browser holding copies of ``source``'s cookies (what a thief would have)."""
    thief = source.application.test_client()
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


def logout(client):
    page = client.get("/settings").get_data(as_text=True)
    return client.post("/logout", data={"csrf_token": csrf_token_from(page)})


def test_a_copied_session_cookie_opens_nothing_after_logout(app, staff):
    browser = log_in(app, staff)
    thief = copy_cookies(browser, ("session",))
    assert thief.get("/settings").status_code == 200  # the copy works while the login is open
    assert logout(browser).status_code == 302
    assert thief.get("/settings").status_code == 302
    assert browser.get("/settings").status_code == 302


def test_a_copied_remember_cookie_alone_opens_nothing_after_logout(app, staff):
    browser = log_in(app, staff, remember=True)
    thief = copy_cookies(browser, ("remember_token",))
    assert thief.get("/settings").status_code == 200  # remember-me logs the copy in
    logout(browser)
    fresh = copy_cookies(browser, ())
    fresh.set_cookie("remember_token", thief.get_cookie("remember_token").value)
    assert fresh.get("/settings").status_code == 302


def test_log_out_everywhere_else_ends_the_other_logins_and_keeps_this_one(app, staff, db_session):
    laptop, phone = log_in(app, staff), log_in(app, staff, remember=True)
    page = laptop.get("/settings").get_data(as_text=True)
    assert "Where you are logged in" in page and "Log out everywhere else" in page
    response = laptop.post("/settings/sessions/end-others", data={"csrf_token": csrf_token_from(page)},
                           follow_redirects=True)
    assert "Logged out on 1 other device." in response.get_data(as_text=True)
    assert laptop.get("/settings").status_code == 200
    assert phone.get("/settings").status_code == 302
    ended = db_session.scalars(select(LoginSession).where(LoginSession.user_id == staff.id,
                                                          LoginSession.ended_at.is_not(None))).all()
    assert [login.ended_reason for login in ended] == ["logout_everywhere"]


def test_log_out_everywhere_needs_the_form_token(app, staff):
    laptop, phone = log_in(app, staff), log_in(app, staff)
    app.config["WTF_CSRF_ENABLED"] = True
    assert laptop.post("/settings/sessions/end-others", data={}).status_code == 400
    assert phone.get("/settings").status_code == 200


def test_deactivation_ends_every_login_and_revokes_tokens_for_good(app, staff, make_user, db_session):
    admin = make_user(role="admin", function=None)
    browser = log_in(app, staff, remember=True)
    _token, secret = api_service.create_token(db_session, staff, staff, api_service.NewToken("ci", ["items:read"]))
    db_session.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/items", headers=headers).status_code == 200

    accounts.deactivate_user(db_session, admin, staff.email)
    db_session.commit()
    assert browser.get("/settings").status_code == 302
    accounts.reactivate_user(db_session, admin, staff.email)
    db_session.commit()

    assert copy_cookies(browser).get("/settings").status_code == 302  # old cookies stay dead
    assert api.get("/api/v1/items", headers=headers).status_code == 401  # the token stays revoked
    assert log_in(app, staff).get("/settings").status_code == 200  # a new login works


def test_a_login_unused_for_the_idle_limit_is_over(app, staff):
    browser = log_in(app, staff, remember=True)
    with clock_moved(timedelta(days=sessions.IDLE_DAYS + 1)):
        assert browser.get("/settings").status_code == 302


def test_a_login_is_touched_at_most_every_few_minutes(app, staff, db_session):
    browser = log_in(app, staff)
    login = db_session.scalar(select(LoginSession).where(LoginSession.user_id == staff.id))
    first = login.last_seen_at
    browser.get("/settings")
    db_session.expire_all()
    assert db_session.get(LoginSession, login.id).last_seen_at == first
    later = clock.now() + sessions.TOUCH_EVERY
    with clock.override(lambda: later):
        browser.get("/settings")
    db_session.expire_all()
    assert db_session.get(LoginSession, login.id).last_seen_at > first


def test_the_browser_is_named_in_the_list_of_logins():
    assert sessions.browser_name("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0") \
        == "Firefox on Windows"
    assert sessions.browser_name("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1") \
        == "Safari on iPhone"
    assert sessions.browser_name("") == "A browser"
