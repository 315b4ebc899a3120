"""Behind reverse proxies (FORUM_PROXY_COUNT): the client address is the forwarded one, so the
per-address limits count each client, not the proxy; without the setting the header is ignored."""

from __future__ import annotations

from forum.app import create_app
from forum.core import db


def _failed_logins(app, forwarded_for: str, times: int) -> list[int]:
    client = app.test_client()
    return [
        client.post("/login", data={"email": "nobody@example.com", "password": "wrong password!"},
                    headers={"X-Forwarded-For": forwarded_for}).status_code
        for _ in range(times)
    ]


def test_with_a_trusted_proxy_each_forwarded_client_has_its_own_login_limit(app_config):
    app = create_app({**app_config, "PROXY_COUNT": 1, "RATELIMIT_LOGIN_FAILURES": "3 per minute"})
    try:
        assert _failed_logins(app, "203.0.113.7", 4) == [401, 401, 401, 429]
        assert _failed_logins(app, "203.0.113.8", 1) == [401]  # another client behind the proxy
    finally:
        db.get_engine(app).dispose()


def test_without_the_setting_a_forged_header_does_not_escape_the_limit(app_config):
    app = create_app({**app_config, "RATELIMIT_LOGIN_FAILURES": "3 per minute"})
    try:
        assert _failed_logins(app, "203.0.113.7", 3) == [401, 401, 401]
        assert _failed_logins(app, "203.0.113.8", 1) == [429]  # the same (direct) client
    finally:
        db.get_engine(app).dispose()
