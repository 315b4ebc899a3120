"""Follows, notifications, the e-mail outbox, e-mail opt-outs per kind, and sent reminders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.auth.models import User
from forum.core import clock
from forum.core.db import Base, UTCDateTime

#: What a notification is about; each kind can be switched off for e-mail (in-app is always on).
KINDS = {
    "item_state": "An item I filed or follow changes state",
    "position_requested": "My function is asked for a position",
    "action_assigned": "I am made owner of a follow-up action",
    "meeting_published": "A meeting I attend is published",
    "evidence_gate_failed": "Evidence on an item I follow fails a gate",
    "action_due": "Reminder: an action I own is due soon or overdue",
    "positions_missing": "Reminder: my function's position is missing three days before a meeting",
}

OUTBOX_STATUSES = ("pending", "sent", "failed")


def _in_list(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Follow(Base):
    """A user follows an item: they hear when it changes state or its evidence fails a gate."""

    __tablename__ = "item_follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("decision_items.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Notification(Base):
    """One message to one user: always in the inbox, by e-mail too when configured and wanted."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(_in_list("kind", KINDS), name="kind_known"),
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    # What it is about, in the trail's notation (item:42, meeting:3), and where to read more.
    subject: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="raise")

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def unread(self) -> bool:
        return self.read_at is None


class OutboxMessage(Base):
    """The e-mail of one notification, waiting to be sent. Written in the transaction of the
    change; delivered after the commit, retried with backoff, attempts counted."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        CheckConstraint(_in_list("status", OUTBOX_STATUSES), name="status_known"),
        Index("ix_notification_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    notification: Mapped[Notification] = relationship(lazy="raise")


class EmailOptOut(Base):
    """A kind of notification the user does not want by e-mail (they still see it in the inbox)."""

    __tablename__ = "notification_email_optouts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)


class ReminderSent(Base):
    """A reminder already sent: ``forum reminders run`` never sends the same key twice to a user."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # e.g. "action:12:due_soon", "action:12:overdue", "positions:meeting:3:item:7"
    key: Mapped[str] = mapped_column(String(200))
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
