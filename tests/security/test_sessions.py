"""Session cookies: HttpOnly, SameSite=Lax, Secure when configured for HTTPS."""

from forum.app import create_app
from forum.core import db
from tests.conftest import PASSWORD


def session_cookie_header(app, user) -> str:
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert cookies, "login set no session cookie"
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite_lax(app, make_user):
    header = session_cookie_header(app, make_user())
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header  # plain HTTP by default, else local demos could not log in


def test_session_cookie_is_secure_when_served_over_https(app_config, make_user):
    secure_app = create_app(dict(app_config, SESSION_COOKIE_SECURE=True))
    try:
        header = session_cookie_header(secure_app, make_user())
        assert "Secure" in header
    finally:
        db.get_engine(secure_app).dispose()
