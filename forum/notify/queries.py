"""The header's unread count, loaded with the user (kept free of other areas' imports: the
page plumbing in forum.core.pages uses it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from forum.auth.models import LoginSession, User
from forum.core import clock
from forum.notify.models import Notification

# Built once: the statement runs on every request, and building it took a fifth of its time.
_UNREAD = (
    select(func.count(Notification.id))
    .where(Notification.user_id == User.id, Notification.read_at.is_(None))
    .correlate(User).scalar_subquery()
)
_LOGIN = (
    select(User, _UNREAD.label("unread"), LoginSession.id, LoginSession.last_seen_at)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(User.id == bindparam("user_id"), LoginSession.key_hash == bindparam("key_hash"),
           LoginSession.ended_at.is_(None), LoginSession.last_seen_at >= bindparam("idle_since"),
           or_(LoginSession.expires_at.is_(None), LoginSession.expires_at > bindparam("now")))
)


def load_user(session: Session, user_id: int, key_hash: str, idle_since: datetime) -> User | None:
    """The user of an open login (forum.auth.sessions: the login whose key hashes to
    ``key_hash``, not ended, used since ``idle_since``) with their unread count
    (``user.unread_count``), in ONE statement: the header shows the count on every page, and the
    login is checked on every request, without adding a statement to any page's budget. Sets
    ``user.login_session_id`` and ``user.login_last_seen``; None when there is no such login."""
    row = session.execute(_LOGIN, {"user_id": user_id, "key_hash": key_hash, "idle_since": idle_since,
                                   "now": clock.now()}).first()
    if row is None:
        return None
    user, count, login_id, last_seen = row
    user.unread_count = count
    user.login_session_id, user.login_last_seen = login_id, last_seen
    return user
