"""Model endpoints per system version, and probes with their answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.auth.models import User
from forum.core import clock
from forum.core.db import Base, UTCDateTime

VERDICTS = {"acceptable": "Acceptable", "unacceptable": "Not acceptable"}


class ModelEndpoint(Base):
    """Where a version of a system answers: an OpenAI-compatible chat-completions API. The API key
    is never stored: ``key_variable`` names the environment variable of the forum's processes that
    holds it."""

    __tablename__ = "model_endpoints"
    __table_args__ = (UniqueConstraint("system_id", "version", name="uq_model_endpoints_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("ai_systems.id"), index=True)
    version: Mapped[str] = mapped_column(String(80))  # the system version it serves
    base_url: Mapped[str] = mapped_column(String(500))  # e.g. https://gateway.example.com/v1
    model: Mapped[str] = mapped_column(String(200))  # the model name the API expects
    key_variable: Mapped[str] = mapped_column(String(100), default="")  # "" : no key
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=20)
    per_user_per_hour: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by: Mapped[str] = mapped_column(String(254))

    @property
    def label(self) -> str:
        return f"{self.version} ({self.model})"


class Probe(Base):
    """A prompt run against one or two versions of a system. Unsaved (``saved_at`` null) until
    its runner judges the answers and saves it: only then is it on the trail."""

    __tablename__ = "probes"

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("ai_systems.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("decision_items.id"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    run_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    run_by: Mapped[User] = relationship(lazy="joined")
    answers: Mapped[list[ProbeAnswer]] = relationship(lazy="selectin", order_by="ProbeAnswer.position",
                                                      cascade="all, delete-orphan")


class ProbeAnswer(Base):
    """One version's answer to a probe's prompt (or the error it gave), and its verdict."""

    __tablename__ = "probe_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    probe_id: Mapped[int] = mapped_column(ForeignKey("probes.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 0: the version in use, 1: the candidate
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("model_endpoints.id"))
    version: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str] = mapped_column(String(500), default="")
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    # The edge case an unacceptable answer was turned into (forum.proximity), if it was.
    proposed_case_id: Mapped[int | None] = mapped_column(ForeignKey("proposed_cases.id"))

    @property
    def verdict_label(self) -> str:
        return VERDICTS.get(self.verdict, "")
