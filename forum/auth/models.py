"""Users and the organisation's functions (procurement, product, risk, …)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.core import clock
from forum.core.db import Base, UTCDateTime
from forum.core.policy import ROLES as ROLES  # the roles, for the CLI and the accounts service
from forum.core.policy import Action, roles_for

#: A password hash that no password matches: accounts waiting for their set-password link.
UNUSABLE_PASSWORD_PREFIX = "!"

ROLE_LABELS = {
    "staff": "Staff",
    "executive": "Executive",
    "auditor": "Auditor",
    "admin": "Administrator",
}
#: How often a user wants a digest of what happened (stored here, sent by the notifications area).
DIGEST_FREQUENCIES = {
    "never": "Never",
    "daily": "Daily",
    "weekly": "Weekly",
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
        # One account per person at the identity provider (forum.auth.oidc).
        Index("uq_users_identity", "identity_issuer", "identity_subject", unique=True),
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
    # Notification preferences, shown and stored on the settings page.
    email_notifications: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    digest_frequency: Mapped[str] = mapped_column(String(10), default="weekly", server_default="weekly")
    # The person at the organisation's identity provider (single sign-on): its issuer and the
    # subject it names them by. Both empty: the account logs in with a password only.
    identity_issuer: Mapped[str | None] = mapped_column(String(255))
    identity_subject: Mapped[str | None] = mapped_column(String(255))

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

    #: The secret key of the login this user object was loaded through (forum.auth.sessions):
    #: set when a login starts or a request's session is loaded, never stored.
    login_key = None  # str
    login_session_id = None  # int
    login_last_seen = None  # datetime

    def get_id(self) -> str:
        """"<id>:<login key>": what the session and remember-me cookies hold. The key names a
        server-side LoginSession, so logging out (here or everywhere), a password change and
        deactivation end every copy of the cookies."""
        if not self.login_key:
            raise RuntimeError("a user is logged in through forum.auth.sessions.start, which gives the key")
        return f"{self.id}:{self.login_key}"

    # Roles -------------------------------------------------------------------------------
    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def function_label(self) -> str:
        return self.function.label if self.function else ""

    @classmethod
    def holding(cls, action: Action):
        """SQL condition: the account's role may take ``action`` (the policy table, not role names).
        Whether the account is active is a separate condition."""
        return cls.role.in_(sorted(roles_for(action)))

    @property
    def has_password(self) -> bool:
        """False until the person sets a password through their set-password link."""
        return not self.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX)

    @property
    def signs_in_with_provider(self) -> bool:
        return bool(self.identity_subject)

    @property
    def digest_label(self) -> str:
        return DIGEST_FREQUENCIES.get(self.digest_frequency, self.digest_frequency)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class SetPasswordLink(Base):
    """A one-time link with which a person sets their password. Only the SHA-256 of the token is
    kept; the token itself is shown once to the administrator who hands it over."""

    __tablename__ = "set_password_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<SetPasswordLink user={self.user_id} expires={self.expires_at:%Y-%m-%d %H:%M}>"


class LoginSession(Base):
    """One login: a browser that logged in, until it logs out (or is logged out). Its cookies
    carry a random key whose hash is stored here; a request whose key names no open login is not
    logged in. An open login unused for IDLE_DAYS is over too."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # logout, logout_everywhere, password_changed, deactivated
    ended_reason: Mapped[str] = mapped_column(String(30), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    # "password" or "oidc". A login through the identity provider ends at expires_at (the person
    # signs in again and their groups are read again) and keeps the provider's ID token, which
    # logging out hands back to the provider to end its session too.
    method: Mapped[str] = mapped_column(String(20), default="password", server_default="password")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    id_token: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user={self.user_id}{' ended' if self.ended_at else ''}>"


class FailedLogin(Base):
    """A log-in refused for a wrong password (or an unknown address), kept per e-mail address as
    typed (lower case): the account's consecutive failures make its next attempt wait
    (forum.auth.throttle), and the owner sees them on the settings page. Kept for
    throttle.KEEP_DAYS. Keyed by the address, not the account, so an address with no account
    waits the same way and the delay does not tell who has one."""

    __tablename__ = "failed_logins"
    __table_args__ = (Index("ix_failed_logins_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class AccessRequest(Base):
    """Someone the identity provider vouched for whom the forum did not let in: their groups map
    to no role (or no function), or their e-mail address belongs to an existing account that an
    administrator has not linked to them. Administrators see the open ones; a later successful
    sign-in, a link or a dismissal closes it."""

    __tablename__ = "access_requests"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_access_requests_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254), default="")
    display_name: Mapped[str] = mapped_column(String(120), default="")
    groups: Mapped[list] = mapped_column(JSON, default=list)
    # no_role, no_function, email_taken
    reason: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # signed_in (their groups were fixed), linked, dismissed
    closed_how: Mapped[str] = mapped_column(String(20), default="")

    def __repr__(self) -> str:
        return f"<AccessRequest {self.email or self.subject} {self.reason}>"


class UsedSignInState(Base):
    """The ``state`` of each sign-in the provider has sent back (its SHA-256): a second answer
    with the same state — a replayed redirect — is refused. Kept for a day."""

    __tablename__ = "used_sign_in_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
