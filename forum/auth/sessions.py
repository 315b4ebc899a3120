"""Login sessions kept on the server: what makes a logout end the session.

The session cookie and the remember-me cookie hold ``"<user id>:<key>"``; the key is random and
only its SHA-256 is stored (LoginSession.key_hash), so neither the database nor its backups hold
a usable cookie. A request is logged in only while its key names an open login of an active
account, checked in the same statement that loads the user (forum.notify.queries.load_user). So
logging out ends that login, "log out everywhere" and a password change end the others,
deactivation ends all of them — and a copy of an old cookie, session or remember-me, opens
nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import Flask, g
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from forum.auth.models import LoginSession, User
from forum.core import clock, db

IDLE_DAYS = 30  # an open login unused this long is over (the remember-me cookie lasts as long)
TOUCH_EVERY = timedelta(minutes=5)  # how stale "last seen" may get before a request refreshes it
MAX_LISTED = 20
_KEY = re.compile(r"[A-Za-z0-9_-]{32,64}")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_id(session_id: str) -> tuple[int, str] | None:
    """``"<user id>:<key>"`` from a cookie, or None when it is not that shape."""
    user_id, _, key = (session_id or "").partition(":")
    if not user_id.isdigit() or len(user_id) > 10 or not _KEY.fullmatch(key):
        return None
    return int(user_id), key


def start(session: Session, user: User, user_agent: str = "", address: str = "", *, method: str = "password",
          lasts: timedelta | None = None, id_token: str | None = None) -> str:
    """Open a login for ``user``; returns its key (set on the user for its cookies). ``lasts``:
    the login ends that long after it started, however much it is used (single sign-on)."""
    key = secrets.token_urlsafe(32)
    now = clock.now()
    login = LoginSession(user_id=user.id, key_hash=key_hash(key), created_at=now, last_seen_at=now,
                         user_agent=(user_agent or "")[:200], address=(address or "")[:64], method=method,
                         expires_at=now + lasts if lasts else None, id_token=id_token)
    session.add(login)
    session.flush()
    user.login_key, user.login_session_id = key, login.id
    return key


def idle_since(now: datetime | None = None) -> datetime:
    return (now or clock.now()) - timedelta(days=IDLE_DAYS)


def touch(session: Session, login_session_id: int, last_seen_at: datetime | None) -> None:
    """Note that the login was used now, at most every TOUCH_EVERY (not a write per request).

    The write waits for the end of the request (``init_app``: just before its commit), so a
    request never holds its login's row while it queues for the write lock of a change
    (forum.core.db.lock_for_change) — a password change holding that lock ends every login of
    the account, and would otherwise wait for the very request that waits for it."""
    now = clock.now()
    if last_seen_at is None or now - last_seen_at >= TOUCH_EVERY:
        g._forum_login_touch = (login_session_id, now)


def init_app(app: Flask) -> None:
    """Write the pending ``touch`` at the end of each request (registered after the commit hook
    of forum.core.db, so it runs before it: Flask calls after-request functions last first)."""

    @app.after_request
    def _write_touch(response):
        pending = g.pop("_forum_login_touch", None)
        if pending is not None:
            login_session_id, now = pending
            db.session().execute(update(LoginSession).where(LoginSession.id == login_session_id)
                                 .values(last_seen_at=now))
        return response


def end(session: Session, login_session_id: int | None, reason: str = "logout") -> LoginSession | None:
    """End the login; returns it (its method and ID token tell whether the identity provider's
    session should end too), or None when there was none."""
    if login_session_id is None:
        return None
    session.execute(update(LoginSession).where(LoginSession.id == login_session_id,
                                               LoginSession.ended_at.is_(None))
                    .values(ended_at=clock.now(), ended_reason=reason))
    return session.get(LoginSession, login_session_id)


def end_all(session: Session, user_id: int, reason: str, keep: int | None = None) -> int:
    """End every open login of the user but ``keep``; returns how many ended."""
    query = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(LoginSession.id != keep)
    return session.execute(query.values(ended_at=clock.now(), ended_reason=reason)).rowcount or 0


def open_logins(session: Session, user: User) -> list[LoginSession]:
    """The user's open logins, most recently used first (at most MAX_LISTED)."""
    return list(session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None),
                                   LoginSession.last_seen_at >= idle_since(),
                                   or_(LoginSession.expires_at.is_(None), LoginSession.expires_at > clock.now()))
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc()).limit(MAX_LISTED)))


_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Chromium/", "Chromium"),
             ("Safari/", "Safari"), ("curl/", "curl"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("Linux", "Linux"))


def browser_name(user_agent: str | None) -> str:
    """"Firefox on Windows" from a User-Agent header: a label for the list of logins, no more."""
    text = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in text), "A browser")
    system = next((name for marker, name in _SYSTEMS if marker in text), "")
    return f"{browser} on {system}" if system else browser
