"""Reviews of an evidence run's failing cases, and edge cases proposed for the test team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.auth.models import User
from forum.core import clock
from forum.core.db import Base, UTCDateTime
from forum.evidence.models import EvidenceRun
from forum.items.models import DecisionItem


class Review(Base):
    """An executive went through the failing cases stored with an evidence run. Reviews are
    never edited: each one is a moment on the record (a second look is a second row)."""

    __tablename__ = "evidence_reviews"
    __table_args__ = (
        CheckConstraint("cases_shown >= 0", name="cases_shown_not_negative"),
        Index("ix_evidence_reviews_item_reviewer", "item_id", "reviewer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evidence_runs.id"), index=True)
    # The run's item, kept here so a decision's reviews are one query by item.
    item_id: Mapped[int] = mapped_column(ForeignKey("decision_items.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    cases_shown: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    run: Mapped[EvidenceRun] = relationship(lazy="raise")
    reviewer: Mapped[User] = relationship(lazy="raise")

    @property
    def nothing_failed(self) -> bool:
        return self.cases_shown == 0


class ProposedCase(Base):
    """An edge case someone in the forum asks the test team to cover on an item."""

    __tablename__ = "proposed_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("decision_items.id"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    example_input: Mapped[str] = mapped_column(Text)
    # What the model answered when someone tried the input (a hands-on probe); empty otherwise.
    observed_output: Mapped[str] = mapped_column(Text, default="", server_default="")
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    item: Mapped[DecisionItem] = relationship(lazy="raise")
    proposed_by: Mapped[User] = relationship(lazy="raise")

    @property
    def case_id(self) -> str:
        return f"proposed-{self.id}"
