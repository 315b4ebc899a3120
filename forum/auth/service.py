"""Account rules: creating, deactivating and authenticating users; the organisation's functions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from forum import clock
from forum.auth.models import ROLES, OrgFunction, User
from forum.errors import Conflict, NotFound, ValidationError
from forum.trail.service import record

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FUNCTION_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
MIN_PASSWORD_LENGTH = 8
# A hash of a random password, checked when the e-mail is unknown so that a failed login takes
# the same time whether or not the account exists.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0d7f")


@dataclass
class NewUser:
    email: str
    display_name: str
    role: str
    password: str
    function: str | None = None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    """scrypt, Werkzeug's current default, with a per-password salt."""
    return generate_password_hash(password, method="scrypt")


def get_function(session: Session, key: str) -> OrgFunction | None:
    return session.get(OrgFunction, key)


def list_functions(session: Session) -> list[OrgFunction]:
    return list(session.scalars(select(OrgFunction).order_by(OrgFunction.label)))


def create_function(session: Session, actor: User | None, key: str, label: str) -> OrgFunction:
    key = (key or "").strip().lower()
    label = (label or "").strip()
    if not FUNCTION_KEY_RE.match(key):
        raise ValidationError(
            "Use 2–40 lower-case letters, digits, '-' or '_', starting with a letter.", "key"
        )
    if not label or len(label) > 80:
        raise ValidationError("Give the function a name of 1–80 characters.", "label")
    if session.get(OrgFunction, key) is not None:
        raise Conflict(f"A function with the key {key!r} already exists.", "key")
    org_function = OrgFunction(key=key, label=label, created_at=clock.now())
    session.add(org_function)
    record(session, actor, "function.created", f"function:{key}", {"key": key, "label": label})
    return org_function


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(session: Session, actor: User | None, data: NewUser) -> User:
    email = normalise_email(data.email)
    name = (data.display_name or "").strip()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationError("Enter a valid e-mail address.", "email")
    if not name or len(name) > 120:
        raise ValidationError("Enter a display name of 1–120 characters.", "display_name")
    if data.role not in ROLES:
        raise ValidationError(f"Unknown role {data.role!r}; choose one of {', '.join(ROLES)}.", "role")
    function_key = (data.function or "").strip() or None
    if function_key is not None and session.get(OrgFunction, function_key) is None:
        raise ValidationError(f"Unknown function {function_key!r}.", "function")
    if data.role == "staff" and function_key is None:
        raise ValidationError("Staff members belong to a function.", "function")
    if len(data.password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.", "password"
        )
    if get_user_by_email(session, email) is not None:
        raise Conflict(f"An account for {email} already exists.", "email")
    user = User(
        email=email,
        display_name=name,
        role=data.role,
        function_key=function_key,
        password_hash=hash_password(data.password),
        active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    record(
        session, actor, "user.created", f"user:{user.id}",
        {"email": email, "display_name": name, "role": data.role, "function": function_key},
    )
    return user


def deactivate_user(session: Session, actor: User | None, email: str) -> User:
    user = get_user_by_email(session, email)
    if user is None:
        raise NotFound(f"No account for {normalise_email(email)}.", "email")
    if not user.active:
        raise Conflict(f"{user.email} is already deactivated.", "email")
    if user.role == "admin":
        remaining = session.scalar(
            select(func.count()).select_from(User).where(
                User.role == "admin", User.active.is_(True), User.id != user.id
            )
        )
        if not remaining:
            raise Conflict("The last active administrator cannot be deactivated.", "email")
    user.active = False
    session.flush()
    record(
        session, actor, "user.deactivated", f"user:{user.id}",
        {"email": user.email, "active": {"before": True, "after": False}},
    )
    return user


class LoginRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def authenticate(session: Session, email: str, password: str) -> User:
    """The user with these credentials, or LoginRefused with a message fit to show."""
    user = get_user_by_email(session, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        raise LoginRefused("Wrong e-mail address or password.")
    if not check_password_hash(user.password_hash, password or ""):
        raise LoginRefused("Wrong e-mail address or password.")
    if not user.active:
        raise LoginRefused("This account has been deactivated. Ask an administrator to reactivate it.")
    return user


def note_login(session: Session, user: User) -> None:
    """Remember the time of the last login (account metadata, not a trail event)."""
    user.last_login_at = clock.now()
    session.flush()
