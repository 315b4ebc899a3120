"""One model-test result attached to a decision item: what was read from it, and the original file
in pieces."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.auth.models import User
from forum.core import clock
from forum.core.db import Base, UTCDateTime
from forum.items.models import DecisionItem


class EvidenceRun(Base):
    __tablename__ = "evidence_runs"
    __table_args__ = (
        CheckConstraint(
            "passed >= 0 AND failed >= 0 AND errored >= 0 AND skipped >= 0", name="counts_not_negative"
        ),
        CheckConstraint(
            "edge_total >= edge_passed + edge_skipped AND edge_passed >= 0 AND edge_skipped >= 0",
            name="edge_counts_consistent",
        ),
        CheckConstraint("size >= 0", name="size_not_negative"),
        Index("ix_evidence_runs_item_suite", "item_id", "suite", "id"),
        # What a system's page counts per version tested (forum.register.queries.version_history),
        # read from the index instead of each run's wide row: 4.7 → 2.8 ms for the busiest
        # system's 702 runs at 100,026 items on SQLite.
        Index("ix_evidence_runs_item_version", "item_id", "model_version", "run_at", "uploaded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("decision_items.id"), index=True)
    # The original file, as uploaded, is stored in pieces: EvidenceChunk (service.open_original).
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    format: Mapped[str] = mapped_column(String(30))
    # Where the counts come from: cases / stated / none (forum.evidence.parsers.result)
    counting: Mapped[str] = mapped_column(String(10), default="cases", server_default="cases")
    suite: Mapped[str] = mapped_column(String(200))
    model_id: Mapped[str] = mapped_column(String(200), default="")
    model_version: Mapped[str] = mapped_column(String(80), default="")
    run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    passed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    errored: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    pass_rate: Mapped[float | None] = mapped_column(Float)
    edge_total: Mapped[int] = mapped_column(Integer)
    edge_passed: Mapped[int] = mapped_column(Integer)
    edge_skipped: Mapped[int] = mapped_column(Integer, default=0)
    # {tag: {passed, failed, errored, skipped}}
    tag_counts: Mapped[dict] = mapped_column(JSON)
    # {name: number or null}
    metrics: Mapped[dict] = mapped_column(JSON)
    # [{id, status, tags, edge, input, expected, output, reason}], at most 20, texts truncated
    failing_cases: Mapped[list] = mapped_column(JSON)
    notes: Mapped[list] = mapped_column(JSON)
    # {"baseline": {run_id, passed, rated} | null, "tier": …, "gates": [{key, status, label, detail}]}
    gate_results: Mapped[dict] = mapped_column(JSON)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    item: Mapped[DecisionItem] = relationship(lazy="raise")
    uploaded_by: Mapped[User] = relationship(lazy="raise")

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errored + self.skipped

    @property
    def rated(self) -> int:
        """Rows that count towards the pass rate (skipped ones do not)."""
        return self.passed + self.failed + self.errored

    @property
    def edge_rated(self) -> int:
        return self.edge_total - self.edge_skipped

    @property
    def edge_pass_rate(self) -> float | None:
        return self.edge_passed / self.edge_rated if self.edge_rated > 0 else None

    @property
    def tested_at(self) -> datetime | None:
        """When the test ran, as the file states it; None when it does not (freshness is then
        unknown: the upload time says nothing about when the model was tested)."""
        return self.run_at

    @property
    def counted(self) -> bool:
        """The run has pass and fail counts (per case, or stated exactly by the file)."""
        return self.counting != "none"

    @property
    def per_case(self) -> bool:
        """The run's counts come from its cases (so tags, edge cases and failing cases are known)."""
        return self.counting == "cases"

    @property
    def subject(self) -> str:
        return f"evidence:{self.id}"

    def __repr__(self) -> str:
        return f"<EvidenceRun {self.id} item={self.item_id} {self.format} {self.suite!r}>"


CHUNK_BYTES = 1024 * 1024  # every piece but a file's last holds exactly this many bytes


class EvidenceChunk(Base):
    """A piece of a run's original file: piece ``n`` holds bytes ``n * CHUNK_BYTES`` up to
    ``(n + 1) * CHUNK_BYTES``. Stored and read one piece at a time, so that neither an upload
    nor a download holds a whole file in memory (nor the database driver a copy of it); an
    offset is found without reading the pieces before it. CHUNK_BYTES must not change while
    pieces written with another size exist."""

    __tablename__ = "evidence_chunks"

    run_id: Mapped[int] = mapped_column(ForeignKey("evidence_runs.id"), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
