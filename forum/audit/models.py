"""Checkpoints: the trail's head (seq and hash) written down at a moment, to check later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.core import clock
from forum.core.db import Base, UTCDateTime


class Checkpoint(Base):
    """The head of the chain as it was when an auditor (or `forum trail checkpoint`) recorded it.

    Verification reports whether the chain still holds event ``seq`` with ``hash``, so cutting
    off the newest events, or rewriting the chain up to here, is detected. Recording a checkpoint
    appends a ``trail.checkpoint_recorded`` event *after* reading the head: the checkpoint names
    the event before its own. The table is only a convenience: an auditor who publishes the
    printed ``SEQ:HASH`` elsewhere can check it with ``forum trail verify --checkpoint``.
    """

    __tablename__ = "trail_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Who recorded it, as the trail names actors: an email, or "system" for the CLI.
    created_by: Mapped[str] = mapped_column(String(254))
    note: Mapped[str] = mapped_column(String(500), default="")
    # An Ed25519 signature (base64) of the checkpoint's statement (forum.trail.signing) and the
    # id of the key that made it, when `forum trail checkpoint` ran with a signing key; else None.
    signature: Mapped[str | None] = mapped_column(String(100), default=None)
    key_id: Mapped[str | None] = mapped_column(String(16), default=None)

    @property
    def token(self) -> str:
        """``SEQ:HASH``, the form `forum trail verify --checkpoint` takes."""
        return f"{self.seq}:{self.hash}"

    def __repr__(self) -> str:
        return f"<Checkpoint {self.seq} {self.hash[:12]}>"
