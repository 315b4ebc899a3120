"""Rules of notifications: following items, writing notifications (and their e-mail in the
outbox) in the transaction of the change that caused them, the inbox, and e-mail preferences.

Who hears what is decided in ``forum.notify.triggers`` (a listener of the trail); this module
only knows how to follow, notify and read. Nobody is ever notified of their own change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy import Select, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core import clock
from forum.core.errors import NotFound, PermissionDenied, ValidationError
from forum.core.paging import Page, paginate
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.notify.models import KINDS, EmailOptOut, Follow, Notification, OutboxMessage
from forum.trail.service import record

#: session.info key: the app whose outbox got new messages in this transaction (for the
#: after-commit delivery in forum.notify.mail).
OUTBOX_PENDING = "forum.notify.outbox_pending"


def setting(name: str, default):
    """An application setting when there is an app (requests, CLI, seed), else the default."""
    if has_app_context():
        return current_app.config.get(name, default)
    return default


# ---------------------------------------------------------------------------------- follows
# Built once: the item page asks it on every view.
_FOLLOWING = select(Follow.user_id).where(Follow.user_id == bindparam("user_id"), Follow.item_id == bindparam("item_id"))


def is_following(session: Session, user: User, item_id: int) -> bool:
    return session.execute(_FOLLOWING, {"user_id": user.id, "item_id": item_id}).first() is not None


def followed_items_query(user: User) -> Select:
    """The ids of the items the user follows as a SQL select, to use inside ``IN (…)`` or a
    union: it costs no statement of its own."""
    return select(Follow.item_id).where(Follow.user_id == user.id)


def followed_item_ids(session: Session, user: User) -> set[int]:
    """Ids of the items the user follows, in one statement."""
    return set(session.scalars(followed_items_query(user)))


def followers_and_filer(session: Session, item: DecisionItem, leaving_out: Iterable[int] = ()) -> list[User]:
    """The people who hear of an item's changes: its followers and its filer, but those in
    ``leaving_out``, in one statement."""
    query = select(User).where(or_(User.id == item.filer_id,
                                   User.id.in_(select(Follow.user_id).where(Follow.item_id == item.id))))
    leaving_out = set(leaving_out)
    if leaving_out:
        query = query.where(User.id.not_in(leaving_out))
    return list(session.scalars(query))


def ensure_following(session: Session, user_id: int, item_id: int) -> bool:
    """Make the user follow the item as a side effect of their own change (filing, rating,
    taking a position, commenting): part of that change, so no event of its own."""
    if session.get(Follow, (user_id, item_id)) is not None:
        return False
    session.add(Follow(user_id=user_id, item_id=item_id, created_at=clock.now()))
    return True


def follow(session: Session, actor: User, item: DecisionItem) -> bool:
    """The actor follows the item; False when they already did (nothing written)."""
    if not actor.active:
        raise PermissionDenied("A deactivated account cannot follow items.")
    if not items.can_view(actor, item):
        raise NotFound(f"There is no item {item.id}.")
    if not ensure_following(session, actor.id, item.id):
        return False
    session.flush()
    record(session, actor, "user.followed_item", f"user:{actor.id}",
           {"email": actor.email, "item": item.id}, leaves_items=True)
    return True


def unfollow(session: Session, actor: User, item: DecisionItem) -> bool:
    """The actor stops following the item; False when they did not follow it."""
    following = session.get(Follow, (actor.id, item.id))
    if following is None:
        return False
    session.delete(following)
    session.flush()
    record(session, actor, "user.unfollowed_item", f"user:{actor.id}",
           {"email": actor.email, "item": item.id}, leaves_items=True)
    return True


# ------------------------------------------------------------------------------- notifying
@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    title: str
    link: str
    body: str = ""


def notify(session: Session, recipients: Iterable[User], message: Message,
           actor: User | str | None = None) -> list[Notification]:
    """Write ``message`` to each active recipient (never the actor), in the caller's
    transaction, and queue its e-mail for those who want this kind by e-mail when SMTP is
    configured. Three statements at most, whatever the number of recipients."""
    if message.kind not in KINDS:
        raise ValueError(f"unknown notification kind {message.kind!r}")
    actor_id = actor.id if isinstance(actor, User) else None
    actor_email = actor if isinstance(actor, str) else getattr(actor, "email", None)
    people = {u.id: u for u in recipients
              if u.active and u.id != actor_id and u.email != actor_email}
    if not people:
        return []
    now = clock.now()
    written = [
        Notification(user_id=user.id, kind=message.kind, subject=message.subject,
                     title=message.title[:300], body=message.body, link=message.link, created_at=now)
        for user in people.values()
    ]
    session.add_all(written)
    if setting("SMTP_URL", ""):
        wanting = [u.id for u in people.values() if u.email_notifications]
        opted_out = set(session.scalars(
            select(EmailOptOut.user_id).where(EmailOptOut.kind == message.kind,
                                              EmailOptOut.user_id.in_(wanting))
        )) if wanting else set()
        session.flush()
        queued = [OutboxMessage(notification_id=n.id, status="pending", attempts=0,
                                next_attempt_at=now, created_at=now)
                  for n in written if n.user_id in wanting and n.user_id not in opted_out]
        if queued:
            session.add_all(queued)
            if has_app_context():
                session.info[OUTBOX_PENDING] = current_app._get_current_object()
    session.flush()
    return written


# ---------------------------------------------------------------------------------- the inbox
def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def inbox(session: Session, user: User, page: int = 1, per_page: int = 20, *,
          unread_only: bool = False, kind: str = "") -> Page:
    """The user's notifications, newest first, optionally only the unread ones or one kind
    (two statements: count and page). An unknown kind is refused."""
    if kind and kind not in KINDS:
        raise ValidationError(f"There is no kind of notification {kind[:40]!r}; choose one of the listed kinds.",
                              "kind")
    conditions = [Notification.user_id == user.id]
    if unread_only:
        conditions.append(Notification.read_at.is_(None))
    if kind:
        conditions.append(Notification.kind == kind)
    query = (select(Notification).where(*conditions)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    return paginate(session, query, page, per_page)


def by_item(notifications) -> list[tuple[str, list]]:
    """A page of notifications grouped by what they are about (an item, a meeting …), each
    group where its newest notification stands."""
    groups: dict[str, list] = {}
    for notification in notifications:
        groups.setdefault(notification.subject, []).append(notification)
    return list(groups.items())


def mark_subject_read(session: Session, user: User, subject: str) -> int:
    """Mark the user's unread notifications about one subject read; returns how many."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.subject == subject,
               Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )
    return result.rowcount or 0


def mark_read(session: Session, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (someone else's is not disclosed: 404)."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound(f"There is no notification {notification_id} in your inbox.")
    if notification.read_at is None:
        notification.read_at = clock.now()
        session.flush()
    return notification


def mark_all_read(session: Session, user: User) -> int:
    """Mark every unread notification of the user read; returns how many there were."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )
    return result.rowcount or 0


# ----------------------------------------------------------------------- e-mail preferences
def email_kinds(session: Session, user: User) -> list[str]:
    """The kinds the user gets by e-mail (every kind they have not switched off)."""
    off = set(session.scalars(select(EmailOptOut.kind).where(EmailOptOut.user_id == user.id)))
    return [kind for kind in KINDS if kind not in off]


def set_email_kinds(session: Session, actor: User, wanted: Iterable[str]) -> dict:
    """Store which kinds the actor gets by e-mail; returns the change (empty when none)."""
    wanted = list(dict.fromkeys(wanted))
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise ValidationError(f"Unknown kind of notification: {', '.join(unknown)}.", "kinds")
    before = email_kinds(session, actor)
    after = [kind for kind in KINDS if kind in wanted]
    if before == after:
        return {}
    session.execute(delete(EmailOptOut).where(EmailOptOut.user_id == actor.id))
    session.add_all(EmailOptOut(user_id=actor.id, kind=kind) for kind in KINDS if kind not in wanted)
    session.flush()
    changes = {"email_kinds": {"before": before, "after": after}}
    record(session, actor, "user.updated", f"user:{actor.id}", {"email": actor.email, "changes": changes})
    return changes
