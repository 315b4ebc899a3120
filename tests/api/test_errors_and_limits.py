"""Every error of the API is an RFC 9457 problem; rate limits per token and per address for
failed authentication answer 429 with Retry-After, in memory and on Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from forum.api import hooks
from forum.app import create_app
from forum.core import db
from tests.api.conftest import ApiClient, assert_problem
from tests.conftest import IN_CI

REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def test_every_error_status_is_a_problem_document(app, api_as, staff, make_item, make_user, monkeypatch):
    item = make_item(staff, status="open")
    escalated = make_item(staff, status="escalated")
    api = api_as(staff)
    reader = api_as(staff, ["items:read"])
    cases = {
        400: api.get("/api/v1/items?limit=0"),
        401: app.test_client().get("/api/v1/items"),
        403: reader.post("/api/v1/items", json={}),
        404: api.get("/api/v1/items/424242"),
        405: api.open("/api/v1/items", method="DELETE"),
        409: api.patch(f"/api/v1/items/{escalated.id}", json={"title": "x"}, headers={"If-Match": f'"{escalated.version}"'}),
        412: api.patch(f"/api/v1/items/{item.id}", json={"title": "x"}, headers={"If-Match": '"99"'}),
        413: api.post("/api/v1/items", data=b"{" + b" " * (1024 * 1024) + b"}", content_type="application/json"),
        415: api.post("/api/v1/items", data=b"<item/>", content_type="application/xml"),
        428: api.patch(f"/api/v1/items/{item.id}", json={"title": "x"}),
    }
    assert_problem(api.post(f"/api/v1/items/{item.id}/evidence", data=b"results"), 415, "unknown format")
    for status, response in cases.items():
        body = assert_problem(response, status)
        assert body["instance"].startswith("/api/v1/")
    assert cases[405].headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert_problem(api.get("/api/v1/no/such/thing"), 404, "no API endpoint")

    def broken(*args):
        raise RuntimeError("a bug in another area")

    monkeypatch.setattr(hooks, "item_extras", broken)
    body = assert_problem(api.get(f"/api/v1/items/{item.id}"), 500, "nothing was saved")
    assert "a bug" not in body["detail"]


def test_nul_characters_anywhere_are_refused_without_a_server_error(api_as, staff):
    api = api_as(staff)
    assert_problem(api.get("/api/v1/items?q=\x00"), 400, "NUL")
    assert_problem(api.get("/api/v1/items?\x00=1"), 400, "NUL")
    assert_problem(api.post("/api/v1/items", json={"title": "\x00", "category": "model_update", "function": "risk"}),
                   400, field="title")
    assert_problem(api.post("/api/v1/items", json={"\x00": 1}), 400)


@pytest.fixture
def limited(app_config):
    """An app with low limits: 3 calls a minute per token, 2 failed authentications per address."""

    def factory(**extra):
        application = create_app({**app_config, "RATELIMIT_API": "3 per minute",
                                  "RATELIMIT_AUTH_FAILURES": "2 per minute", **extra})
        return application

    apps = []
    yield lambda **extra: apps.append(factory(**extra)) or apps[-1]
    for application in apps:
        db.get_engine(application).dispose()


def _check_limits(application, make_token, staff, make_user, address: str):
    environ = {"REMOTE_ADDR": address}
    first = ApiClient(application.test_client(), make_token(staff, ["items:read"]))
    for _ in range(3):
        assert first.get("/api/v1/items", environ_base=environ).status_code == 200
    refused = first.get("/api/v1/items", environ_base=environ)
    body = assert_problem(refused, 429, "Rate limit exceeded")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Retry after" in body["detail"]
    # another token has its own count
    second = ApiClient(application.test_client(), make_token(make_user(), ["items:read"]))
    assert second.get("/api/v1/items", environ_base=environ).status_code == 200

    # failed authentication, per address: two 401s, then 429 even for a valid token
    bad = ApiClient(application.test_client(), "dfk_wrong")
    other = {"REMOTE_ADDR": address + "1"}
    assert bad.get("/api/v1/items", environ_base=other).status_code == 401
    assert bad.get("/api/v1/items", environ_base=other).status_code == 401
    assert_problem(bad.get("/api/v1/items", environ_base=other), 429)
    assert_problem(second.get("/api/v1/items", environ_base=other), 429)
    # a different address is unaffected
    assert second.get("/api/v1/items", environ_base={"REMOTE_ADDR": address + "2"}).status_code == 200


def test_rate_limits_in_memory(limited, make_token, staff, make_user):
    _check_limits(limited(), make_token, staff, make_user, "10.9.8.7")


def test_successful_calls_do_not_count_as_failed_authentication(limited, make_token, staff):
    application = limited(RATELIMIT_API="100 per minute")
    api = ApiClient(application.test_client(), make_token(staff, ["items:read"]))
    for _ in range(5):
        assert api.get("/api/v1/items").status_code == 200


def _redis_reachable() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def test_rate_limits_shared_through_redis(limited, make_token, staff, make_user):
    why = _redis_reachable()
    if why:
        message = f"Redis at {REDIS_URL} is unreachable ({why})"
        if IN_CI:
            pytest.fail(message + "; in CI (CI=true) that is a failure, not a skip.")
        pytest.skip(message + "; start Redis or set FORUM_TEST_REDIS_URL.")
    # Two app instances share the counts through Redis, as several processes would.
    address = f"10.{uuid.uuid4().int % 200}.{uuid.uuid4().int % 200}.{uuid.uuid4().int % 200}"
    one = limited(RATELIMIT_STORAGE_URI=REDIS_URL)
    secret = make_token(staff, ["items:read"])
    for _ in range(3):
        assert ApiClient(one.test_client(), secret).get("/api/v1/items", environ_base={"REMOTE_ADDR": address}).status_code == 200
    from forum.core.extensions import limiter

    assert type(limiter.storage).__name__ == "RedisStorage"
    refused = ApiClient(one.test_client(), secret).get("/api/v1/items", environ_base={"REMOTE_ADDR": address})
    assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) >= 1
