"""Bearer-token authentication of API calls. Browser sessions play no part here: an API view
never looks at the session cookie, only at the Authorization header."""

from __future__ import annotations

from flask import g, request
from flask_limiter.util import get_remote_address

from forum.api import service
from forum.api.problems import ApiProblem
from forum.auth.models import User
from forum.core import db

REALM = 'Bearer realm="Decision Forum"'


def _bearer_text() -> str | None:
    """The token text of an ``Authorization: Bearer …`` header; None when there is no header;
    "" when the header is not a bearer credential."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return value.strip()


def authenticate(scope: str) -> User:
    """The token's user when the request carries an active token with ``scope`` whose user's
    role still allows it; a 401 or 403 problem otherwise. Refreshes the token's last use."""
    text = _bearer_text()
    if text is None:
        raise ApiProblem(401, "Send a personal API token: Authorization: Bearer <token>. "
                         "Create one at /settings/tokens.", headers={"WWW-Authenticate": REALM})
    session = db.session()
    try:
        token = service.resolve_token(session, text)
    except service.TokenRefused as refused:
        challenge = f'{REALM}, error="invalid_token"' if text else f'{REALM}, error="invalid_request"'
        detail = refused.reason if text else "The Authorization header must be: Bearer <token>."
        raise ApiProblem(401, detail, headers={"WWW-Authenticate": challenge}) from None
    user = token.user
    if scope not in token.scope_list:
        raise ApiProblem(
            403, f"The token {token.name!r} lacks the scope {scope} (it has: {', '.join(token.scope_list)}).",
            headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'},
        )
    if not service.role_allows(user, scope):
        raise ApiProblem(
            403, f"{user.email} is {user.role_label.lower()}; that role may not use {scope} "
            "(a token never does more than its user may).",
        )
    service.note_use(session, token)
    g.api_token = token
    return user


def rate_limit_key() -> str:
    """Whom the per-token limit counts: the token (by its hash), or the address without one."""
    text = _bearer_text()
    if text:
        return "token:" + service.hash_token(text)[:32]
    return "ip:" + (get_remote_address() or "unknown")
