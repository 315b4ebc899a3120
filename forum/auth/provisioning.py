"""Who a person signing in through the identity provider is in the forum, and what they may do.

Accounts are matched by the provider's subject (issuer + ``sub``), never by e-mail alone. The
role and function come from the person's groups (FORUM_OIDC_ROLES, FORUM_OIDC_FUNCTIONS) at
every sign-in, so leaving a group at the provider takes its role or function away at the next
sign-in; each change is a ``user.updated`` trail event with before/after, like an
administrator's. A first sign-in whose groups map to a role creates the account (``user.created``).

Refused, with nothing created: a deactivated account (whatever the provider says), groups that
map to no role (or, for staff, to no function), and an e-mail address that belongs to an account
not yet linked to this identity — only an administrator links them. Each refusal is a
``user.sign_in_refused`` event, and the last three leave an access request the administrators
see. Every sign-in is a ``user.signed_in`` event.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forum.auth.models import UNUSABLE_PASSWORD_PREFIX, AccessRequest, OrgFunction, UsedSignInState, User
from forum.auth.oidc import Identity, Provider
from forum.core import clock
from forum.core.errors import Conflict, NotFound
from forum.core.paging import Page, paginate
from forum.trail.service import record

#: The trail's actor of changes the provider's claims make.
PROVIDER_ACTOR = "identity-provider"
REASONS = {
    "deactivated": "The account is deactivated",
    "no_role": "No group maps to a forum role",
    "no_function": "No group maps to a function (staff need one)",
    "email_taken": "The e-mail address belongs to an account not linked to this sign-in",
    "no_email": "The provider gave no e-mail address",
}
STATE_KEEP = timedelta(days=1)


class Refused(Exception):
    """The person may not sign in. ``message`` is what they are told."""

    def __init__(self, reason: str, message: str, request: AccessRequest | None = None):
        super().__init__(message)
        self.reason, self.message, self.request = reason, message, request


def spend_state(session: Session, state: str) -> bool:
    """Mark a sign-in's state used; False when it was used before (a replayed answer). Runs
    under the write lock; old states are forgotten as new ones come."""
    digest = hashlib.sha256(state.encode()).hexdigest()
    session.execute(delete(UsedSignInState).where(UsedSignInState.used_at < clock.now() - STATE_KEEP))
    if session.get(UsedSignInState, digest) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(UsedSignInState(state_hash=digest, used_at=clock.now()))
    except IntegrityError:
        return False
    return True


def _access_for(session: Session, provider: Provider, identity: Identity) -> tuple[str | None, str | None, str]:
    """(role, function, refusal reason or "") for the person's groups."""
    role = provider.role_for(identity.groups)
    if role is None:
        return None, None, "no_role"
    function = provider.function_for(identity.groups)
    if function is not None and session.get(OrgFunction, function) is None:
        function = None  # a mapping to a function that does not exist (yet): none
    if role == "staff" and function is None:
        return role, None, "no_function"
    return role, function, ""


def _request_access(session: Session, identity: Identity, reason: str) -> AccessRequest:
    now = clock.now()
    request = session.scalar(select(AccessRequest).where(AccessRequest.issuer == identity.issuer,
                                                         AccessRequest.subject == identity.subject))
    if request is None:
        request = AccessRequest(issuer=identity.issuer, subject=identity.subject, first_at=now, attempts=0)
        session.add(request)
    request.email, request.display_name = identity.email[:254], identity.name[:120]
    request.groups, request.reason = list(identity.groups)[:50], reason
    request.attempts = (request.attempts or 0) + 1
    request.last_at, request.closed_at, request.closed_how = now, None, ""
    session.flush()
    return request


def _refuse(session: Session, identity: Identity, reason: str, message: str, user: User | None = None) -> Refused:
    """Record the refusal (and, for someone without an account, their access request)."""
    request = None
    data = {"reason": reason, "issuer": identity.issuer, "email": identity.email}
    if user is None:
        request = _request_access(session, identity, reason)
        data["access_request"] = request.id
        subject = f"access-request:{request.id}"
    else:
        subject = f"user:{user.id}"
    record(session, PROVIDER_ACTOR, "user.sign_in_refused", subject, data)
    return Refused(reason, message, request)


def _message(reason: str, provider: Provider) -> str:
    if reason == "no_role":
        return ("You are signed in at the identity provider, but you do not have access to the forum yet: "
                "none of your groups is given a role here. An administrator has been told.")
    if reason == "no_function":
        return ("You are signed in at the identity provider, but none of your groups names your function "
                "(procurement, product, risk …), which staff need. An administrator has been told.")
    if reason == "email_taken":
        return ("An account with your e-mail address already exists here. An administrator must link it to "
                f"{provider.name} before you can sign in this way.")
    return "This account has been deactivated. Ask an administrator to reactivate it."


def _close_request(session: Session, identity: Identity, how: str) -> None:
    request = session.scalar(select(AccessRequest).where(AccessRequest.issuer == identity.issuer,
                                                         AccessRequest.subject == identity.subject,
                                                         AccessRequest.closed_at.is_(None)))
    if request is not None:
        request.closed_at, request.closed_how = clock.now(), how


def _change(user: User, field: str, after, changes: dict) -> None:
    before = getattr(user, field)
    if before != after:
        changes[{"function_key": "function"}.get(field, field)] = {"before": before, "after": after}
        setattr(user, field, after)


def sign_in(session: Session, provider: Provider, identity: Identity) -> User:
    """The account the provider's person signs in to, created or brought up to date from their
    claims; Refused (recorded) when they may not. Runs under the write lock."""
    user = session.scalar(select(User).where(User.identity_issuer == identity.issuer,
                                             User.identity_subject == identity.subject))
    role, function, reason = _access_for(session, provider, identity)
    if user is not None and not user.active:
        raise _refuse(session, identity, "deactivated", _message("deactivated", provider), user)
    if user is None:
        if identity.email and session.scalar(select(User.id).where(User.email == identity.email)) is not None:
            raise _refuse(session, identity, "email_taken", _message("email_taken", provider))
        if not identity.email:
            raise _refuse(session, identity, "no_email", "The identity provider did not tell the forum your "
                          f"e-mail address (claim {provider.email_claim!r}). Tell an administrator.")
    if reason:
        raise _refuse(session, identity, reason, _message(reason, provider), user)
    name = (identity.name or identity.email)[:120]
    if user is None:
        user = User(email=identity.email, display_name=name, role=role, function_key=function,
                    password_hash=UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(16), active=True,
                    created_at=clock.now(), identity_issuer=identity.issuer, identity_subject=identity.subject)
        session.add(user)
        session.flush()
        record(session, PROVIDER_ACTOR, "user.created", f"user:{user.id}",
               {"email": user.email, "display_name": user.display_name, "role": role, "function": function,
                "source": "oidc", "issuer": identity.issuer})
    else:
        changes: dict = {}
        _change(user, "role", role, changes)
        _change(user, "function_key", function, changes)
        if identity.name:
            _change(user, "display_name", name, changes)
        if identity.email and identity.email != user.email and session.scalar(
                select(User.id).where(User.email == identity.email)) is None:
            _change(user, "email", identity.email, changes)
        if changes:
            session.flush()
            session.expire(user, ["function"])
            record(session, PROVIDER_ACTOR, "user.updated", f"user:{user.id}",
                   {"email": user.email, "changes": changes, "source": "oidc"})
    _close_request(session, identity, "signed_in")
    user.last_login_at = clock.now()
    record(session, user, "user.signed_in", f"user:{user.id}",
           {"email": user.email, "method": "oidc", "issuer": identity.issuer})
    return user


def record_failure(session: Session, provider: Provider, reason: str) -> None:
    """A sign-in this forum started whose answer could not be trusted or used (a bad token, a
    refused code): on the trail, without any identity from the untrusted answer."""
    record(session, PROVIDER_ACTOR, "user.sign_in_refused", "sign-in:oidc",
           {"reason": reason, "issuer": provider.issuer})


# ---------------------------------------------------------------------------- access requests
def open_requests(session: Session, page: int = 1, per_page: int = 25) -> Page:
    return paginate(session, select(AccessRequest).where(AccessRequest.closed_at.is_(None))
                    .order_by(AccessRequest.last_at.desc(), AccessRequest.id.desc()), page, per_page)


def count_open(session: Session) -> int:
    return session.scalar(select(func.count(AccessRequest.id)).where(AccessRequest.closed_at.is_(None))) or 0


def get_request(session: Session, request_id: int) -> AccessRequest:
    request = session.get(AccessRequest, request_id)
    if request is None:
        raise NotFound(f"There is no access request {request_id}.")
    return request


def account_to_link(session: Session, request: AccessRequest) -> User | None:
    """The existing account with the request's e-mail address (an ``email_taken`` request)."""
    if not request.email:
        return None
    return session.scalar(select(User).where(User.email == request.email))


def link(session: Session, actor: User, request: AccessRequest) -> User:
    """An administrator's decision: the account with the request's e-mail address is this person
    at the provider from now on (they sign in there; the role follows their groups)."""
    if request.closed_at is not None:
        raise Conflict("This access request is already closed.")
    user = account_to_link(session, request)
    if user is None:
        raise Conflict(f"No account has the address {request.email or '(none given)'} any more.")
    if user.identity_subject:
        raise Conflict(f"{user.email} is already linked to a sign-in at {user.identity_issuer}.")
    before = {"issuer": user.identity_issuer, "subject": user.identity_subject}
    user.identity_issuer, user.identity_subject = request.issuer, request.subject
    request.closed_at, request.closed_how = clock.now(), "linked"
    session.flush()
    record(session, actor, "user.updated", f"user:{user.id}",
           {"email": user.email, "changes": {"identity": {
               "before": None if before["subject"] is None else f"{before['issuer']} {before['subject']}",
               "after": f"{request.issuer} {request.subject}"}}})
    return user


def dismiss(session: Session, actor: User, request: AccessRequest) -> None:
    if request.closed_at is not None:
        raise Conflict("This access request is already closed.")
    request.closed_at, request.closed_how = clock.now(), "dismissed"
    session.flush()
    record(session, actor, "user.access_request_dismissed", f"access-request:{request.id}",
           {"email": request.email, "issuer": request.issuer, "reason": request.reason})
