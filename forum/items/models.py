"""The decision item: an AI decision that procurement, product and risk bring to the forum."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.auth.models import OrgFunction, User
from forum.core import clock
from forum.core.db import Base, UTCDateTime
from forum.systems.models import AISystem

CATEGORIES = {
    "vendor_selection": "Vendor selection",
    "model_deployment": "Model deployment",
    "model_update": "Model update",
    "use_case_approval": "Use-case approval",
    "policy_exception": "Policy exception",
    "incident_follow_up": "Incident follow-up",
}

STATUSES = {
    "draft": "Draft",
    "open": "Open",
    "escalated": "Escalated",
    "scheduled": "Scheduled",
    "decided": "Decided",
    "closed": "Closed",
}


def _in_list(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class DecisionItem(Base):
    __tablename__ = "decision_items"
    __table_args__ = (
        CheckConstraint(_in_list("status", STATUSES), name="status_known"),
        CheckConstraint(_in_list("category", CATEGORIES), name="category_known"),
        CheckConstraint("exposure IS NULL OR exposure >= 0", name="exposure_not_negative"),
        # The item list by status, newest first, a page read in index order; with the id, which
        # PostgreSQL's index entries do not carry by themselves, from the index alone (the last
        # page of 38,000 open items: 81 → 6 ms cold on PostgreSQL).
        Index("ix_decision_items_status_created", "status", "created_at", "id"),
        # A filer's items, and their counts by status (the staff home page) from the index alone:
        # 10.6 ms → 0.9 ms for a filer of 11,000 items on SQLite.
        Index("ix_decision_items_filer_status", "filer_id", "status"),
        # … and newest first (the items a person takes part in, forum.home).
        Index("ix_decision_items_filer_id", "filer_id", "id"),
        # … and newest filed first, with the status (a person's own items on their home page,
        # from the index alone): SQLite read all 11,000 items of a prolific filer through the
        # index above and sorted them by filing time (12 → 0.1 ms).
        Index("ix_decision_items_filer_created", "filer_id", "created_at", "id", "status"),
        # The standing (forum/weighing/standing.py) with the status, read from the index alone by
        # the counts and orders over all open and escalated items (the escalation queue, its
        # counts by tier, the home pages' divergent and drifted items, drifted systems): a row
        # of the table carries the title and summary, the index entry only these. Cold, at
        # 100,000 items: the executive home page 156 → 109 ms on SQLite and 149 → 65 ms on
        # PostgreSQL, the queue 109 → 66 and 108 → 52 ms. The id is last so that PostgreSQL,
        # whose index entries do not carry the row's id as SQLite's do, can use it alone too.
        # created_at too: the home pages' lists (the newest items whose ratings diverge, or that
        # await my function) sort what the index finds without reading the rows: the executive
        # home page 142 → 98 ms cold on SQLite at 100,000 items.
        Index("ix_decision_items_standing", "status", "weight_max", "weight_min", "objection", "evidence_fail",
              "evidence_drift", "evidence_stale_at", "exposure", "needed_by", "system_id", "created_at", "id"),
        # The escalation queue in its order, one status at a time (forum.weighing.queue): a page
        # is the first entries of each status's range, not a sort of the whole queue (its first
        # page sorted about 60,000 items at 100,000 items).
        Index("ix_decision_items_escalation_queue", "status", "queue_order", "needed_by", "id"),
        # The items whose evidence goes stale today (forum.health.tallies.open_counts: the
        # executive home page's counts add them to the kept tallies).
        Index("ix_decision_items_evidence_stale_at", "evidence_stale_at"),
        # A system's items newest first (forum.register.queries.system_items: the system's page
        # reads its newest few and counts them in the index; with the system's id alone, every
        # item row of the system was read to sort them: 3.7 → 0.2 ms for the 1,190 items of the
        # busiest system at 100,026 items on SQLite).
        Index("ix_decision_items_system_newest", "system_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40), index=True)
    function_key: Mapped[str] = mapped_column(ForeignKey("org_functions.key"), index=True)
    vendor: Mapped[str] = mapped_column(String(120), default="")
    model_name: Mapped[str] = mapped_column(String(120), default="")
    model_version: Mapped[str] = mapped_column(String(80), default="")
    # The AI system of the register the item is about (forum.systems): its vendor, model and
    # version are the item's, and a new version recorded on the system reaches the item.
    system_id: Mapped[int | None] = mapped_column(ForeignKey("ai_systems.id"))  # indexed with created_at
    # Financial exposure in whole currency units (the organisation's reporting currency).
    exposure: Mapped[int | None] = mapped_column(BigInteger)
    needed_by: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    filer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    # The item's standing, derived from its ratings, positions and evidence runs and kept current
    # in the same transaction by forum.weighing.standing (which says what each column means): the
    # escalation queue and the tier / divergence filters read these instead of recomputing.
    weight_max: Mapped[int | None] = mapped_column(Integer, index=True)
    weight_min: Mapped[int | None] = mapped_column(Integer)
    objection: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    evidence_fail: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    evidence_drift: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    evidence_stale_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evidence_unknown: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The basis of the item's decision, while it stands (decided or closed): when it was decided
    # and on which model version. Drift is measured against it (forum.evidence.gates
    # .drifted_since_decision); unset before a decision, after revalidation, and on items decided
    # before the basis was kept.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_model_version: Mapped[str | None] = mapped_column(String(80))
    # The last meeting that took the item up sent it back (deferred, more evidence needed) rather
    # than settling it: an escalated item so marked is carried forward to the next meeting and
    # comes first in the agenda's picker. Kept by the lifecycle (forum.items.service.CARRIES).
    carried_forward: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The escalation queue's first sort key (tier, then whether a needed-by date is set), part of
    # the standing (forum.weighing.standing; forum.weighing.rules.Scale.order_of).
    queue_order: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")

    filer: Mapped[User] = relationship(lazy="raise")
    function: Mapped[OrgFunction] = relationship(lazy="raise")
    system: Mapped[AISystem | None] = relationship(lazy="raise")

    # The version counter doubles as SQLAlchemy's optimistic lock: an UPDATE that finds the row
    # at another version raises StaleDataError instead of overwriting a concurrent change.
    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def subject(self) -> str:
        return f"item:{self.id}"

    def __repr__(self) -> str:
        return f"<DecisionItem {self.id} {self.status} {self.title!r}>"


# The meeting page's "add an item" picker: escalated items carried forward first, then the longest
# waiting, read in index order a page at a time. Before, ordering by "carried forward" asked each
# of 25,000 escalated items for its latest entry's decision.
Index("ix_decision_items_queue", DecisionItem.status, DecisionItem.carried_forward.desc(),
      DecisionItem.updated_at, DecisionItem.id)
