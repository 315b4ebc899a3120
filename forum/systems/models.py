"""AI systems and the versions they ran."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.auth.models import OrgFunction
from forum.core import clock
from forum.core.db import Base, UTCDateTime

#: The EU AI Act's categories ("" while not classified).
EU_AI_ACT = {
    "": "Not classified yet",
    "prohibited": "Prohibited practice (Art. 5)",
    "high_risk": "High-risk (Art. 6)",
    "transparency": "Transparency obligations (Art. 50)",
    "minimal": "Minimal risk",
}
#: Where a high-risk system is high-risk: an area of Annex III, or a product's safety component.
HIGH_RISK_AREAS = {
    "": "—",
    "biometrics": "Annex III 1: biometrics",
    "critical_infrastructure": "Annex III 2: critical infrastructure",
    "education": "Annex III 3: education and vocational training",
    "employment": "Annex III 4: employment and workers' management",
    "essential_services": "Annex III 5: access to essential services and benefits",
    "law_enforcement": "Annex III 6: law enforcement",
    "migration": "Annex III 7: migration, asylum and border control",
    "justice": "Annex III 8: administration of justice and democratic processes",
    "product_safety": "Annex I: safety component of a regulated product",
}
GPAI_ROLES = {
    "": "No general-purpose AI model of ours",
    "provider": "We provide the general-purpose AI model",
    "deployer": "We build on a general-purpose AI model",
}
RISK_TIERS = {"": "Not set", "low": "Low", "medium": "Medium", "high": "High"}

DEPLOYMENT_STATUSES = {
    "evaluating": "Evaluating",
    "pilot": "Pilot",
    "production": "In production",
    "retired": "Retired",
}


class AISystem(Base):
    """An AI system: a vendor's (or the organisation's own) model put to a use."""

    __tablename__ = "ai_systems"
    __table_args__ = (
        CheckConstraint("status IN ('evaluating', 'pilot', 'production', 'retired')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    vendor: Mapped[str] = mapped_column(String(120), default="")
    model_name: Mapped[str] = mapped_column(String(120), default="")
    version_in_use: Mapped[str] = mapped_column(String(80), default="")
    owner_function_key: Mapped[str] = mapped_column(ForeignKey("org_functions.key"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="evaluating")
    intended_use: Mapped[str] = mapped_column(Text, default="")
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    special_categories: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Risk classification (forum.systems.frameworks turns it into obligations).
    eu_ai_act: Mapped[str] = mapped_column(String(20), default="", server_default="")
    high_risk_area: Mapped[str] = mapped_column(String(40), default="", server_default="")
    gpai_role: Mapped[str] = mapped_column(String(20), default="", server_default="")
    risk_tier: Mapped[str] = mapped_column(String(10), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Optimistic lock, as on items: a change made from an older copy is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The trail seq of the last change confined to this system (a result file for one of its
    # items: forum.systems.service.record_confined), never written by the system's forms: its
    # page is kept until this or the trail head's shared_seq moves (forum.core.derived ``scope``).
    changed_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    owner_function: Mapped[OrgFunction] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return DEPLOYMENT_STATUSES.get(self.status, self.status)

    @property
    def subject(self) -> str:
        return f"system:{self.id}"

    @property
    def classification_label(self) -> str:
        label = EU_AI_ACT.get(self.eu_ai_act, self.eu_ai_act)
        if self.eu_ai_act == "high_risk" and self.high_risk_area:
            label += f" — {HIGH_RISK_AREAS.get(self.high_risk_area, self.high_risk_area)}"
        return label

    @property
    def model_label(self) -> str:
        parts = [p for p in (self.vendor, self.model_name) if p]
        text = " ".join(parts) or "—"
        return f"{text} {self.version_in_use}".strip() if self.version_in_use else text

    def __repr__(self) -> str:
        return f"<AISystem {self.name}>"


class SystemVersion(Base):
    """A version the system ran from ``recorded_at`` on (the newest is the one in use)."""

    __tablename__ = "system_versions"
    __table_args__ = (
        # A system's versions in the order they were recorded: its history, and which version was
        # in use at a moment (the latest recorded at or before it: one probe per decision when
        # its page groups the decisions by version).
        Index("ix_system_versions_system_recorded", "system_id", "recorded_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("ai_systems.id"))
    version: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    recorded_by: Mapped[str] = mapped_column(String(254), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
