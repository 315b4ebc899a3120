"""Guessing one account's password from many addresses gets slower: a delay per e-mail address that
grows with consecutive failures, refusing early attempts with 429 and Retry-After, never locking
the owner out, the same for addresses without an account, and shown on the owner's settings page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from forum.auth import throttle
from forum.auth.models import FailedLogin
from forum.core import clock
from tests.conftest import PASSWORD

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def app_config(app_config):
    # The per-address limit is tested in test_login.py; here it must not get in the way.
    return {**app_config, "RATELIMIT_LOGIN_FAILURES": "1000 per minute"}


@pytest.fixture
def moving_clock():
    """A clock the test moves by hand: ``moving_clock.now`` is what the app reads."""

    class Clock:
        now = START

        def pass_(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)

    moved = Clock()
    with clock.override(lambda: moved.now):
        yield moved


def _try(client, email: str, password: str):
    return client.post("/login", data={"email": email, "password": password})


def test_five_failures_cost_nothing_then_each_attempt_waits_longer(client, make_user, moving_clock):
    user = make_user()
    for _ in range(throttle.FREE_FAILURES):
        assert _try(client, user.email, "wrong").status_code == 401
        moving_clock.pass_(0.1)

    refused = _try(client, user.email, "wrong")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert "Too many failed log-ins for this account. Wait 1 seconds" in refused.get_data(as_text=True)

    moving_clock.pass_(1)
    assert _try(client, user.email, "wrong").status_code == 401  # the sixth failure: 2 s now
    refused = _try(client, user.email, PASSWORD)  # even the right password waits
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "2")


def test_the_owner_gets_in_once_the_wait_is_over_and_the_count_starts_again(client, make_user, moving_clock,
                                                                            db_session):
    user = make_user()
    for _ in range(throttle.FREE_FAILURES):
        _try(client, user.email, "wrong")
    moving_clock.pass_(1)
    assert _try(client, user.email, "wrong").status_code == 401
    assert _try(client, user.email, PASSWORD).status_code == 429  # refused attempts are not counted
    moving_clock.pass_(3)

    assert _try(client, user.email, PASSWORD).status_code == 302
    client.post("/logout")
    # A success starts the count again: the next failure costs nothing.
    assert _try(client, user.email, "wrong").status_code == 401
    assert _try(client, user.email, "wrong").status_code == 401
    db_session.expire_all()
    kept = db_session.scalars(select(FailedLogin).where(FailedLogin.email == user.email)).all()
    assert len(kept) == throttle.FREE_FAILURES + 1 + 2  # the successful attempt left no record


def test_an_address_without_an_account_waits_the_same(client, make_user, moving_clock):
    user = make_user()
    answers = {}
    for email in (user.email, "nobody@example.com"):
        for _ in range(throttle.FREE_FAILURES):
            _try(client, email, "wrong")
        refused = _try(client, email, "wrong")
        answers[email] = (refused.status_code, refused.headers.get("Retry-After"))
    assert answers[user.email] == answers["nobody@example.com"] == (429, "1")


def test_the_delay_belongs_to_the_address_tried_not_to_others(client, make_user, moving_clock):
    target, other = make_user(), make_user()
    for _ in range(throttle.FREE_FAILURES):
        _try(client, target.email, "wrong")
    assert _try(client, target.email.upper(), PASSWORD).status_code == 429  # the same address
    assert _try(client, other.email, PASSWORD).status_code == 302


def test_the_delay_doubles_and_stops_at_five_minutes():
    assert [throttle.delay_after(n).total_seconds() for n in range(4, 10)] == [0, 1, 2, 4, 8, 16]
    assert throttle.delay_after(40) == throttle.delay_after(10_000) == timedelta(minutes=5)


def test_failures_older_than_a_day_no_longer_slow_anyone(client, make_user, moving_clock):
    user = make_user()
    for _ in range(throttle.FREE_FAILURES + 3):
        _try(client, user.email, "wrong")
        moving_clock.pass_(60)
    moving_clock.pass_(24 * 3600)
    assert _try(client, user.email, PASSWORD).status_code == 302


def test_an_attempt_is_on_record_before_its_password_is_checked(app, db_session):
    """Recorded and committed at once, so parallel attempts each see the ones before them."""
    reservation = throttle.reserve(app, "ada@example.com", "203.0.113.9", "curl/8")
    db_session.expire_all()
    row = db_session.get(FailedLogin, reservation.attempt_id)
    assert (row.email, row.address, reservation.wait_seconds) == ("ada@example.com", "203.0.113.9", 0)


def test_the_settings_page_lists_the_accounts_failed_logins(client, make_user, login, moving_clock):
    user, other = make_user(), make_user()
    client.post("/login", data={"email": user.email, "password": "wrong"},
                environ_base={"REMOTE_ADDR": "198.51.100.7"}, headers={"User-Agent": "Mozilla/5.0 Firefox/130.0"})
    client.post("/login", data={"email": other.email, "password": "wrong"},
                environ_base={"REMOTE_ADDR": "192.0.2.55"})
    moving_clock.pass_(1)
    login(user)

    page = client.get("/settings").get_data(as_text=True)
    assert "Failed log-ins" in page
    assert "1 failed log-in with your e-mail address in the last 30 days" in page
    assert "198.51.100.7" in page and "Firefox" in page
    assert "192.0.2.55" not in page  # another account's failures are not shown


def test_the_settings_page_says_when_there_were_none(client, make_user, login):
    login(make_user())
    assert "No failed log-ins with your e-mail address" in client.get("/settings").get_data(as_text=True)
