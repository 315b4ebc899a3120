"""The health figures' tallies: counts kept current as changes happen (forum.health.tallies), so
that the health page reads a few small rows instead of the whole history."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.core.db import Base


class HealthTally(Base):
    """One count: ``metric`` (what is counted), ``period`` (a month "2026-11", a quarter
    "2026 Q4", or "" for all time) and ``key`` (a person's id, a tier and a cycle-time bucket,
    or ""). The row ("counted", "", "") says the tallies have been counted from the history."""

    __tablename__ = "health_tallies"

    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class HealthCycle(Base):
    """A decided item's cycle time as tallied (its month, its tier then, its bucket), so that a
    later change of its tier moves it from one tier's tally to the other's."""

    __tablename__ = "health_cycles"

    item_id: Mapped[int] = mapped_column(ForeignKey("decision_items.id", ondelete="CASCADE"), primary_key=True)
    period: Mapped[str] = mapped_column(String(10))
    tier: Mapped[str] = mapped_column(String(40))
    bucket: Mapped[int] = mapped_column(Integer)


class HealthItemPart(Base):
    """What one item adds to the evidence tallies now (its current runs by day and version match;
    when decided, its freshness), so that a change to the item takes exactly that back out."""

    __tablename__ = "health_item_parts"

    item_id: Mapped[int] = mapped_column(ForeignKey("decision_items.id", ondelete="CASCADE"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
