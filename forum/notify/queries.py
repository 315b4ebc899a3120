"""The header's unread count, loaded with the user (kept free of other areas' imports: the
page plumbing in forum.core.pages uses it)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.notify.models import Notification


def load_user(session: Session, user_id: int) -> User | None:
    """The user with their unread count (``user.unread_count``) in ONE statement: the header
    shows the count on every page without adding a statement to any page's budget."""
    unread = (
        select(func.count(Notification.id))
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .correlate(User).scalar_subquery()
    )
    row = session.execute(select(User, unread.label("unread")).where(User.id == user_id)).first()
    if row is None:
        return None
    user, count = row
    user.unread_count = count
    return user
