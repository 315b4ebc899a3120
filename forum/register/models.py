"""What the register keeps beyond the systems themselves: obligations confirmed as met."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.core import clock
from forum.core.db import Base, UTCDateTime


class ObligationRecord(Base):
    """An obligation of a framework (forum.systems.frameworks) confirmed as met for a system, by
    whom and when, with what shows it: an evidence run, a decision, a document — at least one."""

    __tablename__ = "obligation_records"
    __table_args__ = (UniqueConstraint("system_id", "framework", "obligation", name="uq_obligation_records_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("ai_systems.id"), index=True)
    framework: Mapped[str] = mapped_column(String(40))
    obligation: Mapped[str] = mapped_column(String(60))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_by: Mapped[str] = mapped_column(String(254))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_runs.id"))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    document_url: Mapped[str] = mapped_column(String(500), default="")
    note: Mapped[str] = mapped_column(String(500), default="")


class GroupCount(Base):
    """How many of the items still to bring into the register (forum.register.grouping) name one
    model — by vendor and model as grouped: lower case, spaces around trimmed — and how many of
    them are decided. Kept current as items change, in the change's transaction
    (grouping.count_changes), so that the grouping page reads one page of groups instead of
    every item still to group; ``grouping.recount`` counts them again from the items."""

    __tablename__ = "register_groups"

    model_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    vendor_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    items: Mapped[int] = mapped_column(Integer, default=0)
    decided: Mapped[int] = mapped_column(Integer, default=0)
