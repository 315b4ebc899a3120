"""The settings page, password changes that end other sessions, session rotation at login, and
set-password links through the browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.auth import service as accounts
from forum.auth import sessions
from forum.auth.models import LoginSession, SetPasswordLink, User
from forum.core import db
from forum.trail.models import Event
from tests.auth.helpers import clock_moved, count, last_event
from tests.conftest import PASSWORD

NEW_PASSWORD = "purple otter rides a tram"


@pytest.fixture
def staff(make_user, login):
    user = make_user(name="Pat Procurement")
    login(user)
    return user


def change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/settings/password", data={
        "current_password": current, "new_password": new, "confirm": new if confirm is None else confirm})


def test_the_settings_page_shows_every_section(client, staff):
    response = client.get("/settings")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for heading in ("Profile", "Password", "Notifications", "API tokens"):
        assert f">{heading}</h2>" in page
    assert 'value="Pat Procurement"' in page
    assert 'href="/settings/tokens"' in page
    assert 'href="/settings"' in page  # the link near the user's name


def test_settings_need_a_login(client, functions):
    assert client.get("/settings").status_code == 302
    assert client.post("/settings/profile", data={"display_name": "X"}).status_code == 302


def test_change_the_display_name(client, staff, db_session):
    response = client.post("/settings/profile", data={"display_name": "Pat P."})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(User, staff.id).display_name == "Pat P."
    assert last_event(db_session).kind == "user.updated"
    assert "Pat P." in client.get("/settings").get_data(as_text=True)


def test_an_empty_display_name_is_refused(client, staff, db_session):
    before = count(db_session, Event)
    response = client.post("/settings/profile", data={"display_name": "   "})
    assert response.status_code == 400
    assert "Enter a display name" in response.get_data(as_text=True)
    assert count(db_session, Event) == before
    assert db_session.get(User, staff.id).display_name == "Pat Procurement"


def test_notification_preferences_are_stored_and_shown(client, staff, db_session):
    response = client.post("/settings/notifications", data={"digest_frequency": "daily"})
    assert response.status_code == 302
    db_session.expire_all()
    user = db_session.get(User, staff.id)
    assert (user.email_notifications, user.digest_frequency) == (False, "daily")
    page = client.get("/settings").get_data(as_text=True)
    assert '<option selected value="daily">' in page
    refused = client.post("/settings/notifications", data={"digest_frequency": "hourly"})
    assert refused.status_code == 400
    assert "Not a valid choice" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"current": "wrong password!"}, "The current password is wrong."),
        ({"new": "short"}, "at least 12 characters"),
        ({"new": "qwerty123456"}, "commonly used passwords"),
        ({"confirm": "something else entirely"}, "The two passwords differ."),
        ({"current": ""}, "Enter your current password."),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(client, staff, db_session, data, message):
    before = count(db_session, Event)
    response = change(client, **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(db_session, Event) == before
    assert accounts.authenticate(db_session, staff.email, PASSWORD)
    assert client.get("/settings").status_code == 200  # still logged in


def test_a_password_change_ends_the_other_sessions_but_not_this_one(app, client, staff, db_session):
    other = app.test_client()  # the same person on another device
    other.post("/login", data={"email": staff.email, "password": PASSWORD})
    assert other.get("/settings").status_code == 200

    response = change(client)

    assert response.status_code == 302
    assert client.get("/settings").status_code == 200
    assert other.get("/settings").status_code == 302
    event = last_event(db_session)
    assert (event.kind, event.data) == ("user.password_set", {"email": staff.email, "via": "settings"})
    assert NEW_PASSWORD not in event.data_json
    # the new password works, the old one no longer does
    assert other.post("/login", data={"email": staff.email, "password": PASSWORD}).status_code == 401
    assert other.post("/login", data={"email": staff.email, "password": NEW_PASSWORD}).status_code == 302


def test_a_remembered_login_on_another_device_ends_too(app, client, staff):
    other = app.test_client()
    other.post("/login", data={"email": staff.email, "password": PASSWORD, "remember": "y"})
    assert other.get_cookie("remember_token") is not None

    change(client)
    other.delete_cookie("session")  # the browser was closed; only the remember cookie is left

    assert other.get("/settings").status_code == 302


def test_login_starts_a_new_session_and_keeps_next(app, client, make_user):
    user = make_user()
    with client.session_transaction() as fixated:
        fixated["planted"] = "by an attacker"
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "next": "/settings"})
    assert response.headers["Location"] == "/settings"
    with client.session_transaction() as session:
        assert "planted" not in session
        user_id, key = session["_user_id"].split(":")
    assert user_id == str(user.id)
    with app.app_context():
        login = db.session().scalar(select(LoginSession).where(LoginSession.key_hash == sessions.key_hash(key)))
        assert login.user_id == user.id and login.ended_at is None


@pytest.mark.parametrize("form", ["{id}", "{id}:1", "{id}:" + "A" * 43])
def test_a_session_id_that_names_no_login_does_not_load(client, make_user, form):
    user = make_user()
    with client.session_transaction() as session:
        session["_user_id"] = form.format(id=user.id)  # older forms, and a key never issued
        session["_fresh"] = True
    assert client.get("/settings").status_code == 302


# --------------------------------------------------------------------------- set-password links
@pytest.fixture
def invitation(db_session, make_user):
    admin = make_user("admin", function=None)
    result = accounts.invite_user(db_session, admin, accounts.NewUser(
        email="new@example.com", display_name="Nia New", role="staff", function="risk"),
        timedelta(hours=72))
    db_session.commit()
    return result


def set_password(client, token, password=NEW_PASSWORD, confirm=None):
    return client.post(f"/set-password/{token}",
                       data={"new_password": password, "confirm": confirm or password})


def test_the_link_page_sets_the_password_and_sends_to_the_login(client, invitation, db_session):
    page = client.get(f"/set-password/{invitation.token}")
    assert page.status_code == 200
    assert "Welcome, Nia New" in page.get_data(as_text=True)

    response = set_password(client, invitation.token)

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.post("/login", data={"email": "new@example.com", "password": NEW_PASSWORD}).status_code == 302
    assert last_event(db_session).kind == "user.password_set"


def test_a_used_link_is_gone(client, invitation, db_session):
    set_password(client, invitation.token)
    before = count(db_session, Event)

    for response in (client.get(f"/set-password/{invitation.token}"),
                     set_password(client, invitation.token, "yet another long password")):
        assert response.status_code == 410
        assert "already been used" in response.get_data(as_text=True)
    assert count(db_session, Event) == before
    assert accounts.authenticate(db_session, "new@example.com", NEW_PASSWORD)


def test_an_expired_link_is_gone_and_stores_nothing(client, invitation, db_session):
    with clock_moved(timedelta(hours=72, seconds=1)):
        page = client.get(f"/set-password/{invitation.token}")
        posted = set_password(client, invitation.token)
    for response in (page, posted):
        assert response.status_code == 410
        assert "expired on" in response.get_data(as_text=True)
    assert count(db_session, Event) == 3 + 2  # functions, admin, invited user: no password_set
    assert db_session.scalars(select_link()).one().used_at is None
    assert not db_session.get(User, invitation.user.id).has_password


def select_link():
    from sqlalchemy import select

    return select(SetPasswordLink)


def test_an_unknown_link_is_not_found(client, invitation):
    response = client.get("/set-password/not-a-real-token")
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)


@pytest.mark.parametrize(("password", "confirm", "message"), [
    ("short", None, "at least 12 characters"),
    ("qwerty123456", None, "commonly used passwords"),
    (NEW_PASSWORD, "a different long one", "The two passwords differ."),
])
def test_a_weak_password_on_the_link_page_is_refused_and_the_link_kept(client, invitation, db_session,
                                                                       password, confirm, message):
    response = set_password(client, invitation.token, password, confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get(f"/set-password/{invitation.token}").status_code == 200
    assert last_event(db_session).kind == "user.created"


def test_the_settings_and_admin_forms_carry_their_csrf_token(app_config, make_user):
    from forum.app import create_app
    from forum.core import db
    from tests.conftest import csrf_token_from

    protected = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    try:
        admin = make_user("admin", function=None)
        client = protected.test_client()
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token})
        assert client.post("/settings/profile", data={"display_name": "No Token"}).status_code == 400
        token = csrf_token_from(client.get("/settings").get_data(as_text=True))
        assert client.post("/settings/profile", data={"display_name": "With Token", "csrf_token": token}).status_code == 302
        token = csrf_token_from(client.get("/admin/users/new").get_data(as_text=True))
        created = client.post("/admin/users/new", data={"email": "t@example.com", "display_name": "T",
                                                        "role": "auditor", "csrf_token": token})
        assert created.status_code == 201
        token = csrf_token_from(client.get(f"/admin/users/{admin.id}").get_data(as_text=True))
        assert client.post(f"/admin/users/{admin.id}/link", data={"csrf_token": token}).status_code == 200
    finally:
        db.get_engine(protected).dispose()
