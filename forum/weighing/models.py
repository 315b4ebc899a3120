"""The forum on an item: each function's weight rating and position, the discussion, escalations.

Ratings and positions hold the *current* one per (item, function): a later rating or position by
the same function replaces the row, and the trail keeps every version (the event carries before
and after). Comments keep their current text; their earlier texts are in the trail too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.auth.models import OrgFunction, User
from forum.core import clock
from forum.core.db import Base, UTCDateTime

STANCES = {
    "support": "Support",
    "support_with_conditions": "Support with conditions",
    "concerns": "Concerns",
    "object": "Object",
}


class WeightRating(Base):
    """One function's current rubric scores for an item."""

    __tablename__ = "weight_ratings"
    __table_args__ = (
        UniqueConstraint("item_id", "function_key", name="uq_weight_ratings_item_function"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        # A person's ratings, newest item first: the items they take part in (forum.home).
        Index("ix_weight_ratings_rater_item", "rater_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("decision_items.id"))
    function_key: Mapped[str] = mapped_column(ForeignKey("org_functions.key"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # {criterion key: score}, as checked against the rubric when rated.
    scores: Mapped[dict] = mapped_column(JSON)
    # The sum of the scores, kept as a column so that lists filter and sort by tier in SQL.
    total: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    rater: Mapped[User] = relationship(lazy="raise")
    function: Mapped[OrgFunction] = relationship(lazy="raise")


class Position(Base):
    """One function's current stance on an item."""

    __tablename__ = "positions"
    __table_args__ = (
        UniqueConstraint("item_id", "function_key", name="uq_positions_item_function"),
        CheckConstraint(
            "stance IN ({})".format(", ".join(repr(s) for s in STANCES)), name="stance_known"
        ),
        Index("ix_positions_author_item", "author_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("decision_items.id"))
    function_key: Mapped[str] = mapped_column(ForeignKey("org_functions.key"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stance: Mapped[str] = mapped_column(String(40))
    rationale: Mapped[str] = mapped_column(Text)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    author: Mapped[User] = relationship(lazy="raise")
    function: Mapped[OrgFunction] = relationship(lazy="raise")

    @property
    def stance_label(self) -> str:
        return STANCES.get(self.stance, self.stance)


class Comment(Base):
    """A Markdown comment in an item's discussion."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_item_created", "item_id", "created_at"),
                      Index("ix_comments_author_item", "author_id", "item_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("decision_items.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The author's function when writing (None for executives without one).
    function_key: Mapped[str | None] = mapped_column(ForeignKey("org_functions.key"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship(lazy="raise")
    function: Mapped[OrgFunction | None] = relationship(lazy="raise")


class Escalation(Base):
    """Why an item went to the executives: a person with a reason (or, later, a rule), and when.

    The escalation's trail event is the item's ``item.status_changed`` event written by the
    lifecycle transition, whose note is this reason: one action, one event."""

    __tablename__ = "escalations"
    __table_args__ = (
        CheckConstraint("actor_id IS NOT NULL OR rule IS NOT NULL", name="person_or_rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("decision_items.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rule: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(Text)
    # The escalation-recommended reasons that held at the time (a snapshot for the executives).
    recommended: Mapped[list] = mapped_column(JSON, default=list)
    escalated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    actor: Mapped[User | None] = relationship(lazy="raise")
