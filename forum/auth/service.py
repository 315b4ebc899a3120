"""Account rules: creating, changing, deactivating and authenticating users; set-password links;
the organisation's functions.

Every change writes exactly one trail event (``user.*`` or ``function.*``) with before/after; a
refused change writes nothing. No event ever carries a password, a hash or a link's token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from forum.auth import passwords, sessions
from forum.auth.models import (
    DIGEST_FREQUENCIES,
    ROLES,
    UNUSABLE_PASSWORD_PREFIX,
    OrgFunction,
    SetPasswordLink,
    User,
)
from forum.core import clock
from forum.core.derived import cached
from forum.core.errors import Conflict, DomainError, NotFound, ValidationError
from forum.core.paging import Page, paginate
from forum.trail.service import record

FUNCTION_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
MAX_NAME = 120
MAX_LABEL = 80
#: The functions every install starts with (reference data, created by `forum init`).
DEFAULT_FUNCTIONS = (
    ("procurement", "Procurement"),
    ("product", "Product"),
    ("risk", "Risk & Compliance"),
)
# A hash of a random password, checked when the e-mail is unknown so that a failed login takes
# the same time whether or not the account exists.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0d7f")


class LinkGone(DomainError):
    """A set-password link that existed but can no longer be used (expired or used)."""

    status = 410


@dataclass
class NewUser:
    email: str
    display_name: str
    role: str
    password: str | None = None
    function: str | None = None


@dataclass
class Invitation:
    """A new set-password link. ``token`` exists only here: the database keeps its hash."""

    user: User
    token: str
    expires_at: datetime


@dataclass
class UserFilters:
    role: str = ""
    function: str = ""
    active: str = ""  # "", "yes" or "no"
    text: str = ""  # part of the e-mail address or the name


def normalise_email(email: str) -> str:
    """An address as accounts are stored and looked up: trimmed, lower-case."""
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    """The address of a new account, normalised (normalise_email); ValidationError unless it is
    a valid address for mail on the internet (email-validator's syntax rules, no DNS lookup)."""
    email = normalise_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(f"Enter a valid e-mail address. {error}", "email") from error
    return email


def hash_password(password: str) -> str:
    """scrypt, Werkzeug's current default, with a per-password salt."""
    return generate_password_hash(password, method="scrypt")


def _unusable_password() -> str:
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(16)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _before_after(before, after) -> dict:
    return {"before": before, "after": after}


# ------------------------------------------------------------------------------------ functions
def get_function(session: Session, key: str) -> OrgFunction | None:
    return session.get(OrgFunction, key)


def list_functions(session: Session) -> list[OrgFunction]:
    return list(session.scalars(select(OrgFunction).order_by(OrgFunction.label)))


class FunctionLabel(NamedTuple):
    key: str
    label: str


def function_labels(session: Session) -> tuple[FunctionLabel, ...]:
    """Every function's key and label, by label: what filters, forms and the item page show of
    the functions. Kept in the derived cache until the trail moves (creating or renaming a
    function writes an event), so the pages that show them spend no statement on them."""
    return cached(session, "function labels", lambda: tuple(
        FunctionLabel(key, label) for key, label in
        session.execute(select(OrgFunction.key, OrgFunction.label).order_by(OrgFunction.label, OrgFunction.key))))


def _clean_label(label: str | None) -> str:
    label = (label or "").strip()
    if not label or len(label) > MAX_LABEL:
        raise ValidationError(f"Give the function a name of 1–{MAX_LABEL} characters.", "label")
    return label


def create_function(session: Session, actor: User | None, key: str, label: str) -> OrgFunction:
    key = (key or "").strip().lower()
    if not FUNCTION_KEY_RE.match(key):
        raise ValidationError(
            "Use 2–40 lower-case letters, digits, '-' or '_', starting with a letter.", "key"
        )
    label = _clean_label(label)
    if session.get(OrgFunction, key) is not None:
        raise Conflict(f"A function with the key {key!r} already exists.", "key")
    org_function = OrgFunction(key=key, label=label, created_at=clock.now())
    session.add(org_function)
    record(session, actor, "function.created", f"function:{key}", {"key": key, "label": label})
    return org_function


def rename_function(session: Session, actor: User | None, key: str, label: str) -> dict:
    """Change a function's label (its key never changes: items and users refer to it).
    Returns the changes, empty when the label is the same."""
    org_function = session.get(OrgFunction, key)
    if org_function is None:
        raise NotFound(f"There is no function {key!r}.", "key")
    label = _clean_label(label)
    if label == org_function.label:
        return {}
    changes = {"label": _before_after(org_function.label, label)}
    org_function.label = label
    session.flush()
    record(session, actor, "function.updated", f"function:{key}", {"key": key, "changes": changes})
    return changes


# ---------------------------------------------------------------------------------------- users
def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no account {user_id}.")
    return user


def _check_role_and_function(session: Session, role: str, function: str | None) -> str | None:
    if role not in ROLES:
        raise ValidationError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.", "role")
    function_key = (function or "").strip() or None
    if function_key is not None and session.get(OrgFunction, function_key) is None:
        raise ValidationError(f"Unknown function {function_key!r}.", "function")
    if role == "staff" and function_key is None:
        raise ValidationError("Staff members belong to a function.", "function")
    return function_key


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationError(f"Enter a display name of 1–{MAX_NAME} characters.", "display_name")
    return name


def _new_user(session: Session, data: NewUser, password_hash: str) -> User:
    """Check ``data`` and add the user (flushed, no event yet)."""
    email = check_email(data.email)
    name = _clean_name(data.display_name)
    function_key = _check_role_and_function(session, data.role, data.function)
    if get_user_by_email(session, email) is not None:
        raise Conflict(f"An account for {email} already exists.", "email")
    user = User(
        email=email, display_name=name, role=data.role, function_key=function_key,
        password_hash=password_hash, active=True, created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    return user


def _created_data(user: User) -> dict:
    return {"email": user.email, "display_name": user.display_name, "role": user.role,
            "function": user.function_key}


def create_user(session: Session, actor: User | None, data: NewUser, *,
                enforce_policy: bool = True) -> User:
    """Create an account with the password in ``data``.

    ``enforce_policy=False`` is for the demo seed ONLY (forum_seed.demo), whose published demo
    password is shorter than the policy allows; the CLI and the pages always enforce it.
    """
    if enforce_policy:
        passwords.check(data.password)
    elif not data.password:
        raise ValidationError("Give the account a password.", "password")
    user = _new_user(session, data, hash_password(data.password))
    record(session, actor, "user.created", f"user:{user.id}", _created_data(user))
    return user


def invite_user(session: Session, actor: User | None, data: NewUser, ttl: timedelta) -> Invitation:
    """Create an account without a password, and a one-time link with which its owner sets one."""
    user = _new_user(session, data, _unusable_password())
    token, expires_at = _add_link(session, user, ttl)
    record(session, actor, "user.created", f"user:{user.id}",
           _created_data(user) | {"set_password_link_expires_at": _iso(expires_at)})
    return Invitation(user=user, token=token, expires_at=expires_at)


def update_access(session: Session, actor: User | None, user: User, role: str,
                  function: str | None) -> dict:
    """Change a user's role and function; returns the changes (empty when none)."""
    function_key = _check_role_and_function(session, role, function)
    changes = {}
    if role != user.role:
        changes["role"] = _before_after(user.role, role)
    if function_key != user.function_key:
        changes["function"] = _before_after(user.function_key, function_key)
    if not changes:
        return {}
    if "role" in changes and user.role == "admin":
        if actor is not None and actor.id == user.id:
            raise ValidationError(
                "You cannot change your own role; ask another administrator.", "role"
            )
        if user.active:
            _ensure_another_active_admin(
                session, user, "The last active administrator cannot be given another role: "
                "make someone else an administrator first.", "role",
            )
    user.role = role
    user.function_key = function_key
    session.flush()
    session.expire(user, ["function"])
    record(session, actor, "user.updated", f"user:{user.id}", {"email": user.email, "changes": changes})
    return changes


def _ensure_another_active_admin(session: Session, user: User, message: str, field: str) -> None:
    """Refuse unless an active administrator other than ``user`` remains. The rows are locked
    (PostgreSQL) so that two administrators cannot demote each other at the same moment."""
    others = session.scalars(
        select(User.id)
        .where(User.role == "admin", User.active.is_(True), User.id != user.id)
        .with_for_update()
    ).all()
    if not others:
        raise Conflict(message, field)


def _find(session: Session, email: str) -> User:
    user = get_user_by_email(session, email)
    if user is None:
        raise NotFound(f"No account for {normalise_email(email)}.", "email")
    return user


def deactivate_user(session: Session, actor: User | None, email: str) -> User:
    user = _find(session, email)
    if not user.active:
        raise Conflict(f"{user.email} is already deactivated.", "email")
    if actor is not None and actor.id == user.id:
        raise ValidationError(
            "You cannot deactivate your own account; ask another administrator.", "email"
        )
    if user.role == "admin":
        _ensure_another_active_admin(
            session, user, "The last active administrator cannot be deactivated.", "email"
        )
    user.active = False
    session.flush()
    sessions.end_all(session, user.id, "deactivated")
    record(
        session, actor, "user.deactivated", f"user:{user.id}",
        {"email": user.email, "active": _before_after(True, False)},
    )
    return user


def reactivate_user(session: Session, actor: User | None, email: str) -> User:
    user = _find(session, email)
    if user.active:
        raise Conflict(f"{user.email} is already active.", "email")
    user.active = True
    session.flush()
    record(
        session, actor, "user.reactivated", f"user:{user.id}",
        {"email": user.email, "active": _before_after(False, True)},
    )
    return user


def list_users(session: Session, filters: UserFilters, page: int = 1, per_page: int = 25) -> Page:
    """Accounts by name, filtered and paginated (two statements; functions are joined)."""
    query = select(User)
    if filters.role:
        if filters.role not in ROLES:
            raise ValidationError(f"Unknown role {filters.role!r}.", "role")
        query = query.where(User.role == filters.role)
    if filters.function:
        query = query.where(User.function_key == filters.function)
    if filters.active:
        if filters.active not in ("yes", "no"):
            raise ValidationError("Choose active, deactivated or either.", "active")
        query = query.where(User.active.is_(filters.active == "yes"))
    text = filters.text.strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.email.like(pattern, escape="\\"),
                                func.lower(User.display_name).like(pattern, escape="\\")))
    query = query.order_by(func.lower(User.display_name), User.id)
    return paginate(session, query, page, per_page)


# -------------------------------------------------------------------------- settings (self-service)
def update_profile(session: Session, actor: User, display_name: str) -> dict:
    name = _clean_name(display_name)
    if name == actor.display_name:
        return {}
    changes = {"display_name": _before_after(actor.display_name, name)}
    actor.display_name = name
    session.flush()
    record(session, actor, "user.updated", f"user:{actor.id}", {"email": actor.email, "changes": changes})
    return changes


def update_notifications(session: Session, actor: User, email_notifications: bool,
                         digest_frequency: str) -> dict:
    if digest_frequency not in DIGEST_FREQUENCIES:
        raise ValidationError(
            f"Unknown digest frequency {digest_frequency!r}; choose one of "
            f"{', '.join(DIGEST_FREQUENCIES)}.", "digest_frequency",
        )
    wanted = {"email_notifications": bool(email_notifications), "digest_frequency": digest_frequency}
    changes = {key: _before_after(getattr(actor, key), value)
               for key, value in wanted.items() if getattr(actor, key) != value}
    if not changes:
        return {}
    for key, value in wanted.items():
        setattr(actor, key, value)
    session.flush()
    record(session, actor, "user.updated", f"user:{actor.id}", {"email": actor.email, "changes": changes})
    return changes


def _set_password(session: Session, user: User, password: str, via: str) -> None:
    """Store a new password and end every session of the user (the caller may renew its own)."""
    user.password_hash = hash_password(password)
    session.flush()
    sessions.end_all(session, user.id, "password_changed")
    record(session, user, "user.password_set", f"user:{user.id}", {"email": user.email, "via": via})


def change_password(session: Session, actor: User, current_password: str, new_password: str) -> None:
    """The user's own password change: the current password is required."""
    if not actor.has_password or not check_password_hash(actor.password_hash, current_password or ""):
        raise ValidationError("The current password is wrong.", "current_password")
    passwords.check(new_password, "new_password")
    _set_password(session, actor, new_password, "settings")


# --------------------------------------------------------------------------- set-password links
def _add_link(session: Session, user: User, ttl: timedelta) -> tuple[str, datetime]:
    """Replace the user's unused links with a new one; returns (token, expiry)."""
    if ttl <= timedelta(0):
        raise ValidationError("A set-password link must live for some time.", "ttl")
    session.execute(
        delete(SetPasswordLink).where(SetPasswordLink.user_id == user.id,
                                      SetPasswordLink.used_at.is_(None))
    )
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(SetPasswordLink(user_id=user.id, token_hash=_token_hash(token), created_at=now,
                                expires_at=now + ttl))
    session.flush()
    return token, now + ttl


def issue_set_password_link(session: Session, actor: User | None, user: User,
                            ttl: timedelta) -> Invitation:
    """A new one-time link for ``user`` (a lost password, or an expired first link); earlier
    unused links stop working."""
    if not user.active:
        raise Conflict(f"{user.email} is deactivated; reactivate the account first.", "email")
    token, expires_at = _add_link(session, user, ttl)
    record(session, actor, "user.password_link_issued", f"user:{user.id}",
           {"email": user.email, "expires_at": _iso(expires_at)})
    return Invitation(user=user, token=token, expires_at=expires_at)


def find_set_password_link(session: Session, token: str) -> SetPasswordLink:
    """The usable link for ``token``: NotFound when there is none, LinkGone when it expired or
    was used, so the page can say which."""
    link = None
    if token and len(token) <= 100:
        link = session.scalar(
            select(SetPasswordLink).where(SetPasswordLink.token_hash == _token_hash(token))
        )
    if link is None:
        raise NotFound(
            "This set-password link is not valid. It may have been mistyped, or replaced by a "
            "newer link; ask your administrator for a new one."
        )
    if link.used_at is not None:
        raise LinkGone(
            "This set-password link has already been used. Log in with the password you set, or "
            "ask your administrator for a new link."
        )
    if clock.now() >= link.expires_at:
        raise LinkGone(
            f"This set-password link expired on {link.expires_at:%d %b %Y at %H:%M} UTC. Ask your "
            "administrator for a new one."
        )
    if not link.user.active:
        raise LinkGone("This account has been deactivated. Ask an administrator to reactivate it.")
    return link


def set_password_with_link(session: Session, token: str, password: str) -> User:
    """Use a set-password link: the password is set per policy and the link is spent."""
    link = find_set_password_link(session, token)
    passwords.check(password)
    link.used_at = clock.now()
    _set_password(session, link.user, password, "set-password link")
    return link.user


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# -------------------------------------------------------------------------------------- login
class LoginRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def authenticate(session: Session, email: str, password: str) -> User:
    """The user with these credentials, or LoginRefused with a message fit to show."""
    user = get_user_by_email(session, email)
    if user is None or not user.has_password:
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
