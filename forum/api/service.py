"""Rules of the API area: personal API tokens (create, revoke, resolve a bearer token), and the
keyset-paginated reads the API serves (items, trail events).

Services take the session and the acting user, add and flush, and never commit. Creating and
revoking a token each append one trail event, which never contains the token itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from forum.api.models import ApiToken
from forum.auth.models import OrgFunction, User
from forum.core import clock
from forum.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.core.policy import Action, allows
from forum.items.models import DecisionItem
from forum.items.service import hidden_subject, visible_to
from forum.systems.models import AISystem
from forum.systems.service import SystemFilters
from forum.systems.service import conditions as system_conditions
from forum.trail.models import Event
from forum.trail.service import record

TOKEN_PREFIX = "dfk_"
# 32 random bytes: 256 bits of entropy, 43 URL-safe characters after the prefix.
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 200
MAX_NAME = 80
MAX_ACTIVE_TOKENS = 20
# last_used_at is refreshed at most this often, so that busy pipelines do not write on every call.
LAST_USED_PRECISION = timedelta(minutes=1)

SCOPES: dict[str, str] = {
    "items:read": "Read decision items, evidence and meetings",
    "items:write": "File and edit decision items",
    "evidence:write": "Attach model-test result files to items",
    "trail:read": "Read the decision trail (executives and auditors only)",
    "systems:read": "Read the register of AI systems",
    "systems:write": "Add AI systems to the register, change them and record new versions",
}
#: What each scope lets a token do, as an action of the permission table (forum.core.policy).
SCOPE_ACTIONS: dict[str, Action] = {
    "items:read": Action.READ,
    "items:write": Action.FILE,
    "evidence:write": Action.TAKE_PART,
    "trail:read": Action.READ_TRAIL,
    "systems:read": Action.READ,
    "systems:write": Action.FILE,
}


def role_allows(user: User, scope: str) -> bool:
    """Whether the user's current role (and active flag) permits what ``scope`` grants. A token
    can never do more than its user can: this is checked when a token is created AND on every
    request, so a role change or deactivation takes effect at once."""
    action = SCOPE_ACTIONS.get(scope)
    return action is not None and allows(user, action)


def grantable_scopes(user: User) -> list[str]:
    return [scope for scope in SCOPES if role_allows(user, scope)]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Creating, revoking, listing
# ---------------------------------------------------------------------------------------------
@dataclass
class NewToken:
    name: str
    scopes: list[str]


def create_token(session: Session, actor: User | None, owner: User, data: NewToken) -> tuple[ApiToken, str]:
    """Create a token for ``owner``; returns the row and the secret token text, which is never
    stored nor shown again. ``actor`` is the owner (settings page) or None (the CLI)."""
    if actor is not None and actor.id != owner.id:
        raise PermissionDenied("You can only create API tokens for yourself.")
    if not owner.active:
        raise PermissionDenied(f"{owner.email} is deactivated and cannot have API tokens.", "user")
    name = (data.name or "").strip()
    if not name:
        raise ValidationError("Give the token a name, e.g. the pipeline that will use it.", "name")
    if len(name) > MAX_NAME:
        raise ValidationError(f"The name is {len(name)} characters long; the limit is {MAX_NAME}.", "name")
    if "\x00" in name:
        raise ValidationError("The name contains a NUL character, which is not allowed.", "name")
    scopes = list(dict.fromkeys(data.scopes or []))
    if not scopes:
        raise ValidationError("Choose at least one scope.", "scopes")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValidationError(
            f"Unknown scope {unknown[0]!r}; the scopes are: {', '.join(SCOPES)}.", "scopes"
        )
    refused = [s for s in scopes if not role_allows(owner, s)]
    if refused:
        raise PermissionDenied(
            f"The scope {refused[0]} is not available to {owner.role_label.lower()}s "
            f"(available: {', '.join(grantable_scopes(owner)) or 'none'}).",
            "scopes",
        )
    active = session.scalar(
        select(func.count()).select_from(ApiToken)
        .where(ApiToken.user_id == owner.id, ApiToken.revoked_at.is_(None))
    ) or 0
    if active >= MAX_ACTIVE_TOKENS:
        raise Conflict(
            f"{owner.email} already has {active} active tokens, the most allowed. "
            "Revoke one you no longer use first.", "name",
        )
    scopes = [s for s in SCOPES if s in scopes]  # canonical order
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(
        user_id=owner.id, name=name, scopes=" ".join(scopes), token_hash=hash_token(secret),
        hint=secret[:10], created_at=clock.now(),
    )
    session.add(token)
    session.flush()
    record(
        session, actor, "token.created", token.subject,
        {"user": owner.email, "name": name, "scopes": scopes},
    )
    return token, secret


def get_token(session: Session, token_id: int) -> ApiToken:
    token = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id).options(joinedload(ApiToken.user))
    )
    if token is None:
        raise NotFound(f"There is no API token {token_id}.", "token")
    return token


def revoke_token(session: Session, actor: User | None, token: ApiToken) -> ApiToken:
    """Revoke a token: its owner, an administrator, or the CLI (actor None) may."""
    if actor is not None and actor.id != token.user_id and not allows(actor, Action.ADMINISTER):
        raise PermissionDenied("You can only revoke your own API tokens.")
    if token.revoked_at is not None:
        raise Conflict(f"The token {token.name!r} is already revoked.", "token")
    token.revoked_at = clock.now()
    session.flush()
    record(
        session, actor, "token.revoked", token.subject,
        {"name": token.name, "revoked": {"before": False, "after": True}},
    )
    return token


def tokens_of(session: Session, owner: User, revoked_limit: int = MAX_ACTIVE_TOKENS) -> list[ApiToken]:
    """The owner's active tokens (at most MAX_ACTIVE_TOKENS) and the most recently revoked ones,
    newest first: a bounded list in two queries."""
    active = session.scalars(
        select(ApiToken).where(ApiToken.user_id == owner.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    revoked = session.scalars(
        select(ApiToken).where(ApiToken.user_id == owner.id, ApiToken.revoked_at.is_not(None))
        .order_by(ApiToken.revoked_at.desc(), ApiToken.id.desc()).limit(revoked_limit)
    ).all()
    return [*active, *revoked]


# ---------------------------------------------------------------------------------------------
# Resolving a bearer token
# ---------------------------------------------------------------------------------------------
class TokenRefused(Exception):
    """The bearer token is missing, unknown, revoked, or its user is deactivated (HTTP 401)."""

    def __init__(self, reason: str, error: str = "invalid_token"):
        super().__init__(reason)
        self.reason = reason
        self.error = error


# Built once: every API request reads its token so.
_TOKEN = select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash")).options(joinedload(ApiToken.user))


def resolve_token(session: Session, text: str | None) -> ApiToken:
    """The active token whose secret is ``text``, with its user loaded; TokenRefused otherwise.
    The user's active flag is read now, at every request."""
    if not text:
        raise TokenRefused("Send a personal API token: Authorization: Bearer <token>.", "")
    if len(text) > MAX_TOKEN_LENGTH or not text.startswith(TOKEN_PREFIX):
        raise TokenRefused("The token is not a Decision Forum API token.")
    token = session.scalar(_TOKEN, {"token_hash": hash_token(text)})
    if token is None:
        raise TokenRefused("The token is not valid.")
    if token.revoked_at is not None:
        raise TokenRefused("The token has been revoked.")
    if not token.user.active:
        raise TokenRefused("The token's user has been deactivated.")
    return token


def note_use(session: Session, token: ApiToken) -> None:
    """Remember when the token was last used (metadata, not a trail event; at most once a
    minute per token)."""
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
        session.flush()


# ---------------------------------------------------------------------------------------------
# Keyset pagination
# ---------------------------------------------------------------------------------------------
def encode_cursor(created_at: datetime, item_id: int) -> str:
    raw = json.dumps([created_at.isoformat(), item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (created_at, id) position a cursor stands for; ValidationError when it is damaged."""
    damaged = ValidationError("The cursor is damaged: use next_cursor exactly as it was sent.", "cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at_text, item_id = json.loads(raw)
        at = datetime.fromisoformat(at_text)
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise damaged from None
    if at.tzinfo is None or isinstance(item_id, bool) or not isinstance(item_id, int):
        raise damaged
    if not 0 < item_id < 2**31:
        raise damaged
    return at, item_id


@dataclass
class ItemQuery:
    status: str | None = None
    category: str | None = None
    function: str | None = None
    q: str | None = None
    tier_condition: ColumnElement[bool] | None = None


def list_items_after(
    session: Session, viewer: User, query: ItemQuery, cursor: str | None, limit: int
) -> tuple[list[DecisionItem], str | None]:
    """One page of the items the viewer may see, newest first, after ``cursor``.

    The order is the keyset (created_at, id), which never changes for an item, so a walk over
    all pages sees every item that existed when it began exactly once, even while others insert:
    new items sort before the walk's position (they are newer) and never shift the pages.
    """
    if query.function and session.get(OrgFunction, query.function) is None:
        raise ValidationError(f"Unknown function {query.function!r}.", "function")
    conditions = visible_to(viewer)
    if query.status:
        conditions.append(DecisionItem.status == query.status)
    if query.category:
        conditions.append(DecisionItem.category == query.category)
    if query.function:
        conditions.append(DecisionItem.function_key == query.function)
    if query.q:
        conditions.append(or_(
            DecisionItem.title.icontains(query.q, autoescape=True),
            DecisionItem.summary.icontains(query.q, autoescape=True),
        ))
    if query.tier_condition is not None:
        conditions.append(query.tier_condition)
    if cursor:
        at, last_id = decode_cursor(cursor)
        conditions.append(or_(
            DecisionItem.created_at < at,
            and_(DecisionItem.created_at == at, DecisionItem.id < last_id),
        ))
    rows = list(session.scalars(
        select(DecisionItem).where(*conditions)
        .options(joinedload(DecisionItem.filer), joinedload(DecisionItem.function))
        .order_by(DecisionItem.created_at.desc(), DecisionItem.id.desc())
        .limit(limit + 1)
    ))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return rows, next_cursor


def events_after(session: Session, viewer: User, after_seq: int, limit: int) -> tuple[list[Event], int | None]:
    """Trail events with seq > after_seq, in seq order; the seq to continue after, or None at
    the end. Only executives and auditors read the trail."""
    if not allows(viewer, Action.READ_TRAIL):
        raise PermissionDenied("Only executives and auditors read the decision trail.")
    hidden = hidden_subject(viewer, Event.subject)  # other people's drafts, for all but auditors
    visible = [] if hidden is None else [~hidden]
    rows = list(session.scalars(
        select(Event).where(Event.seq > after_seq, *visible).order_by(Event.seq).limit(limit + 1)
    ))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].seq if more else None)


def on_event(session: Session, *, actor, event, data: dict) -> None:
    """Deactivating an account revokes its API tokens for good: reactivation does not bring them
    back (its owner makes new ones). The ``user.deactivated`` event stands for the revocation; a
    trail receiver writes rows, never events (forum.trail.signals)."""
    if event.kind != "user.deactivated" or not event.subject.startswith("user:"):
        return
    user_id = int(event.subject.split(":", 1)[1])
    session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=clock.now()))


def list_systems_after(session: Session, filters: SystemFilters, cursor: str | None,
                       limit: int) -> tuple[list[AISystem], str | None]:
    """One page of the register, newest first, after ``cursor`` (the same keyset as items)."""
    if filters.owner and session.get(OrgFunction, filters.owner) is None:
        raise ValidationError(f"Unknown function {filters.owner!r}.", "owner")
    conditions = system_conditions(filters)
    if cursor:
        at, last_id = decode_cursor(cursor)
        conditions.append(or_(AISystem.created_at < at, and_(AISystem.created_at == at, AISystem.id < last_id)))
    rows = list(session.scalars(select(AISystem).where(*conditions)
                                .order_by(AISystem.created_at.desc(), AISystem.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].created_at, rows[-1].id) if more else None)
