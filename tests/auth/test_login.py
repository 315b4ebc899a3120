"""Login and logout through the pages, including forged next= URLs and deactivated accounts."""

import pytest

from tests.conftest import PASSWORD


def test_pages_need_a_login_and_remember_where_you_were_going(client, functions):
    response = client.get("/items")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_with_good_credentials_lands_on_home(client, make_user, login):
    user = make_user(name="Pat Procurement")
    response = login(user)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Pat Procurement" in home.get_data(as_text=True)


def test_wrong_password_is_refused_with_a_message(client, make_user, login):
    user = make_user()
    response = login(user, password="not the password")
    assert response.status_code == 401
    assert "Wrong e-mail address or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still logged out


def test_unknown_email_gets_the_same_message(client, functions):
    response = client.post("/login", data={"email": "nobody@example.com", "password": "whatever123"})
    assert response.status_code == 401
    assert "Wrong e-mail address or password." in response.get_data(as_text=True)


def test_deactivated_account_cannot_log_in(client, make_user, login):
    user = make_user(active=False)
    response = login(user)
    assert response.status_code == 401
    assert "deactivated" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_deactivation_ends_an_open_session(client, make_user, login, db_session):
    from forum.auth.service import deactivate_user

    user = make_user()
    login(user)
    assert client.get("/").status_code == 200
    deactivate_user(db_session, None, user.email)
    db_session.commit()
    assert client.get("/").status_code == 302


def test_missing_fields_are_named(client, functions):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter your e-mail address." in text
    assert "Enter your password." in text


def test_local_next_path_is_followed(client, make_user):
    user = make_user()
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "next": "/items?status=open"}
    )
    assert response.headers["Location"] == "/items?status=open"


@pytest.mark.parametrize(
    "forged",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
     "http:/evil.example", " //evil.example", "items"],
)
def test_forged_next_is_ignored(client, make_user, forged):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": forged})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_forged_next_in_the_query_string_is_not_put_into_the_form(client, functions):
    page = client.get("/login?next=https://evil.example/").get_data(as_text=True)
    assert "evil.example" not in page


def test_logout_needs_post_and_ends_the_session(client, make_user, login):
    user = make_user()
    login(user)
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_failed_logins_are_rate_limited_with_a_clear_message(app_config, make_user):
    from forum.app import create_app
    from forum.core import db

    limited = create_app(dict(app_config, RATELIMIT_LOGIN_FAILURES="3 per minute"))
    try:
        user = make_user()
        client = limited.test_client()
        for _ in range(3):
            assert client.post("/login", data={"email": user.email, "password": "wrong password!"}).status_code == 401
        refused = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert refused.status_code == 429
        assert "Too many failed log-ins" in refused.get_data(as_text=True)
        assert limited.test_client().get("/login").status_code == 200  # reading the page is not limited
    finally:
        db.get_engine(limited).dispose()


def test_successful_logins_do_not_count_against_the_limit(app_config, make_user):
    from forum.app import create_app
    from forum.core import db

    limited = create_app(dict(app_config, RATELIMIT_LOGIN_FAILURES="2 per minute"))
    try:
        user = make_user()
        for _ in range(4):
            response = limited.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
            assert response.status_code == 302
    finally:
        db.get_engine(limited).dispose()
