"""Events of the decision trail, and the one-row head that serialises appends."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.core.db import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class Event(Base):
    """One link of the chain. Never updated or deleted: database triggers refuse both."""

    __tablename__ = "events"
    # An item's events of one kind (the pre-read pack's escalation and status history): without
    # it SQLite chose the kind index and read every event of the kind (158 ms at 1.1 M events).
    # One subject's events newest first (an item's page, its history): (subject, seq) lets the
    # database read just those, where an index on the subject alone left PostgreSQL walking the
    # whole trail backwards by seq to find the newest ten of one subject (170 ms at 1.1 M events).
    __table_args__ = (Index("ix_events_subject_kind", "subject", "kind"),
                      Index("ix_events_subject_seq", "subject", "seq"))

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the trail browser's date filter
    actor: Mapped[str] = mapped_column(String(254), index=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(80))
    # The change as canonical JSON text (sorted keys, compact separators, no ASCII escaping).
    data_json: Mapped[str] = mapped_column("data", Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    @property
    def data(self) -> dict:
        return json.loads(self.data_json)

    def __repr__(self) -> str:
        return f"<Event {self.seq} {self.kind} {self.subject}>"


class TrailHead(Base):
    """The chain's head (last seq and hash). Appends lock this single row, so that concurrent
    writers on any number of app instances still produce one gap-free chain. It is a cache:
    verification never trusts it, only the events."""

    __tablename__ = "trail_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    # The seq of the last change that may have written items or AI systems: every change but
    # those recorded with ``leaves_items`` (a comment, a follow). Results derived from those rows
    # alone are kept until it moves (forum.core.derived, ``items_only``).
    items_seq: Mapped[int] = mapped_column(Integer, server_default="0")
    # The seq of the last of those changes that was not confined to one AI system (recorded with
    # ``confined``: a result file for one system's item moves that system's ``changed_seq``
    # instead). Results read per system are kept until it or their system's counter moves
    # (forum.core.derived, ``scope``).
    shared_seq: Mapped[int] = mapped_column(Integer, server_default="0")
