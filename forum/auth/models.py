"""Users and the organisation's functions (procurement, product, risk, …)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum import clock
from forum.db import Base, UTCDateTime

ROLES = ("staff", "executive", "auditor", "admin")
ROLE_LABELS = {
    "staff": "Staff",
    "executive": "Executive",
    "auditor": "Auditor",
    "admin": "Administrator",
}


class OrgFunction(Base):
    """A function of the organisation whose staff file items and take positions."""

    __tablename__ = "org_functions"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def __repr__(self) -> str:
        return f"<OrgFunction {self.key}>"


class User(Base):
    """A person using the forum. Never deleted: deactivated, so the trail keeps its actors."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('staff', 'executive', 'auditor', 'admin')", name="role_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    function_key: Mapped[str | None] = mapped_column(ForeignKey("org_functions.key"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    function: Mapped[OrgFunction | None] = relationship(lazy="joined")

    # Flask-Login protocol ---------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    # Roles -------------------------------------------------------------------------------
    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def function_label(self) -> str:
        return self.function.label if self.function else ""

    @property
    def can_file_items(self) -> bool:
        return self.active and self.role in ("staff", "executive")

    @property
    def can_read_trail(self) -> bool:
        return self.active and self.role in ("executive", "auditor")

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
