"""Personal API tokens: hashed bearer tokens with scopes, owned by a user, revocable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.auth.models import User
from forum.core import clock
from forum.core.db import Base, UTCDateTime


class ApiToken(Base):
    """A bearer token. Only the SHA-256 of the secret is stored; the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # Space-separated, like OAuth scopes: "items:read evidence:write".
    scopes: Mapped[str] = mapped_column(String(200))
    # Lowercase hex SHA-256 of the whole token text (prefix included).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token ("dfk_AbC1…"), so a person can tell tokens apart.
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="raise")

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def subject(self) -> str:
        return f"token:{self.id}"

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.name!r} {self.scopes!r}>"
