"""The executive agenda: meetings, their ordered entries, decisions with conditions, follow-up
actions, and declared conflicts (recusals)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.auth.models import User
from forum.core import clock
from forum.core.db import Base, UTCDateTime
from forum.items.models import DecisionItem

MEETING_STATUSES = {
    "draft": "Draft",
    "published": "Published",
    "in_session": "In session",
    "closed": "Closed",
}

OUTCOMES = {
    "approved": "Approved",
    "approved_with_conditions": "Approved with conditions",
    "rejected": "Rejected",
    "deferred": "Deferred",
    "more_evidence_needed": "More evidence needed",
}
#: Outcomes that settle the item (it moves to decided) ...
SETTLING_OUTCOMES = ("approved", "approved_with_conditions", "rejected")
#: ... and outcomes that send it back to the escalation queue, to be carried forward.
RETURNING_OUTCOMES = ("deferred", "more_evidence_needed")


def _in_list(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Meeting(Base):
    """An executive meeting and its agenda. Every agenda change also bumps ``version`` (the
    optimistic lock), so two executives rearranging one agenda at once cannot interleave."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(_in_list("status", MEETING_STATUSES), name="status_known"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    created_by: Mapped[User] = relationship(lazy="raise")
    entries: Mapped[list[AgendaEntry]] = relationship(
        back_populates="meeting", lazy="raise", order_by="AgendaEntry.position"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return MEETING_STATUSES.get(self.status, self.status)

    @property
    def subject(self) -> str:
        return f"meeting:{self.id}"

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.status} {self.title!r}>"


class AgendaEntry(Base):
    """One item on a meeting's agenda, at a position (1, 2, 3 … without gaps)."""

    __tablename__ = "agenda_entries"
    __table_args__ = (
        UniqueConstraint("meeting_id", "item_id"),
        CheckConstraint("time_box_minutes > 0", name="time_box_positive"),
        CheckConstraint("position > 0", name="position_positive"),
        # An item's latest entry (max(id) per item: the queue, the meeting's picker) is one
        # index lookup whatever the planner's statistics say.
        Index("ix_agenda_entries_item_id_id", "item_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("decision_items.id"))
    position: Mapped[int] = mapped_column(Integer)
    time_box_minutes: Mapped[int] = mapped_column(Integer)
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The earlier entry of the same item whose decision sent it back (deferred, more evidence).
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    meeting: Mapped[Meeting] = relationship(back_populates="entries", lazy="raise")
    item: Mapped[DecisionItem] = relationship(lazy="raise")
    presenter: Mapped[User | None] = relationship(lazy="raise")
    carried_from: Mapped[AgendaEntry | None] = relationship(remote_side=[id], lazy="raise")
    recusals: Mapped[list[Recusal]] = relationship(
        back_populates="entry", lazy="raise", order_by="Recusal.id"
    )
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="entry", lazy="raise", order_by="Decision.revision"
    )

    @property
    def decision(self) -> Decision | None:
        """The entry's decision as it stands: the latest revision (loaded with ``decisions``)."""
        return self.decisions[-1] if self.decisions else None


class Recusal(Base):
    """An executive's declared conflict of interest on an entry: they may not decide it.
    (The item's filer is recused as well, without a row: that follows from the item.)"""

    __tablename__ = "agenda_recusals"
    __table_args__ = (UniqueConstraint("entry_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("agenda_entries.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    entry: Mapped[AgendaEntry] = relationship(back_populates="recusals", lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")


decision_deciders = Table(
    "decision_deciders",
    Base.metadata,
    Column("decision_id", ForeignKey("decisions.id"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)


class Decision(Base):
    """The outcome recorded for an agenda entry. Never edited: a correction is a new row, an
    amendment, with the next ``revision`` and ``amends_id`` pointing at the row it corrects.

    The unique (entry_id, revision) constraint is what makes two executives recording the first
    decision of one entry at the same moment store exactly one (revision 1), and the same for two
    concurrent amendments of one revision.
    """

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("entry_id", "revision"),
        CheckConstraint(_in_list("outcome", OUTCOMES), name="outcome_known"),
        CheckConstraint("revision > 0", name="revision_positive"),
        Index("ix_decisions_outcome_recorded", "outcome", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("agenda_entries.id"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(30))
    rationale: Mapped[str] = mapped_column(Text)
    conditions: Mapped[str] = mapped_column(Text, default="")
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    # Why an amendment was made; empty for the original decision.
    amendment_reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    # Who had reviewed which evidence runs' failing cases when the decision was recorded
    # (forum.proximity.service.decision_snapshot); kept so later reviews do not change history.
    # Null on amendments (the original revision holds it) and on decisions recorded before
    # reviews existed.
    review_snapshot: Mapped[dict | None] = mapped_column(JSON)
    # The evidence the decision was taken on (forum.evidence.pack.basis): the item's model version
    # and each current run's gates then. Null on amendments and on decisions recorded before it
    # was kept.
    evidence_snapshot: Mapped[dict | None] = mapped_column(JSON)

    entry: Mapped[AgendaEntry] = relationship(back_populates="decisions", lazy="raise")
    recorded_by: Mapped[User] = relationship(lazy="raise")
    amends: Mapped[Decision | None] = relationship(remote_side=[id], lazy="raise")
    deciders: Mapped[list[User]] = relationship(
        secondary=decision_deciders, lazy="raise", order_by=User.display_name
    )
    actions: Mapped[list[Action]] = relationship(
        back_populates="decision", lazy="raise", order_by="Action.id"
    )

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    @property
    def settles(self) -> bool:
        return self.outcome in SETTLING_OUTCOMES

    @property
    def subject(self) -> str:
        return f"decision:{self.id}"


class Action(Base):
    """A follow-up from a decision: someone owns it, it is due on a date, it gets done."""

    __tablename__ = "decision_actions"
    __table_args__ = (
        Index("ix_decision_actions_open_due", "done", "due_on"),
        # One owner's open actions earliest due first (the home pages' "my open actions"): read
        # in the index's order, not all of them sorted (1,447 for an executive at 100,026 items:
        # 1.7 ms on SQLite).
        Index("ix_decision_actions_owner_open_due", "owner_id", "done", "due_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    decision: Mapped[Decision] = relationship(back_populates="actions", lazy="raise")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="raise")
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id], lazy="raise")

    def overdue(self, today: date) -> bool:
        return not self.done and self.due_on < today
