"""Single sign-on with the organisation's OpenID Connect provider: the protocol side.

The authorisation code flow with PKCE (S256), ``state`` and ``nonce``, as Authlib implements it:
discovery, the token request, the ID token's signature against the provider's JWKS (fetched
again when a token names a key the forum has not seen: key rotation), its ``iss``, ``aud``,
``exp``/``iat`` (with OIDC_LEEWAY_SECONDS of leeway), ``nonce`` and ``at_hash``; userinfo when
the ID token lacks the e-mail or the groups. Nothing here parses or checks a JWT by hand.

What one sign-in started here must carry to its end (state, nonce, PKCE verifier, where to go
next) rides in the browser's signed session cookie, so a provider's answer is taken only in the
browser that asked for it; each state is spent once (forum.auth.provisioning.spend_state).

Who the person is then, and what they may do, is forum.auth.provisioning's business.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from forum.core.config import SettingsError
from forum.core.policy import ROLES

EXTENSION = "forum.oidc"
#: How long a sign-in may take from leaving the forum to coming back.
SIGN_IN_SECONDS = 600
#: Algorithms an ID token may be signed with: asymmetric only ("none" and the client-secret
#: HMACs are refused whatever the provider's discovery document lists).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class SignInFailed(Exception):
    """The provider's answer cannot be trusted or used. ``reason`` is a short code for the trail,
    ``message`` what the person is told (never a token or a secret)."""

    def __init__(self, reason: str, message: str, status: int = 400):
        super().__init__(message)
        self.reason, self.message, self.status = reason, message, status


@dataclass(frozen=True)
class Identity:
    """A person as the provider vouched for them in a checked ID token (and userinfo)."""

    issuer: str
    subject: str
    email: str
    name: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Provider:
    issuer: str
    name: str
    groups_claim: str
    email_claim: str
    name_claim: str
    roles: tuple[tuple[str, str], ...]
    functions: tuple[tuple[str, str], ...]
    leeway: int
    session_hours: int
    client: Any  # authlib's FlaskOAuth2App

    def role_for(self, groups) -> str | None:
        """The role of the first mapped group the person is in (the mapping's order decides)."""
        return next((role for group, role in self.roles if group in groups), None)

    def function_for(self, groups) -> str | None:
        return next((function for group, function in self.functions if group in groups), None)


def parse_mapping(raw: str, setting: str) -> tuple[tuple[str, str], ...]:
    """``"group=value, group=value"`` (commas, semicolons or new lines between pairs) or a JSON
    object ``{"group": "value"}`` (for group names with commas, like LDAP distinguished names)."""
    raw = (raw or "").strip()
    if not raw:
        return ()
    if raw.startswith("{"):
        try:
            loaded = json.loads(raw)
        except ValueError as exc:
            raise SettingsError(f"FORUM_{setting} is not a JSON object: {exc}.") from exc
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise SettingsError(f'FORUM_{setting} must map group names to names, e.g. {{"forum-risk": "risk"}}.')
        return tuple((str(k), v.strip()) for k, v in loaded.items())
    pairs = []
    for part in raw.replace(";", ",").replace("\n", ",").split(","):
        if not part.strip():
            continue
        group, sep, value = part.rpartition("=")
        if not sep or not group.strip() or not value.strip():
            raise SettingsError(f"FORUM_{setting}: {part.strip()!r} is not group=name "
                                "(e.g. forum-executives=executive).")
        pairs.append((group.strip(), value.strip()))
    return tuple(pairs)


def init_app(app: Flask) -> None:
    """Register the provider when FORUM_OIDC_ISSUER is set (the settings were checked by
    forum.core.config); the discovery document is read at the first sign-in, not at start-up."""
    app.extensions[EXTENSION] = None
    config = app.config
    issuer = str(config["OIDC_ISSUER"]).strip()
    if not issuer:
        return
    roles = parse_mapping(config["OIDC_ROLES"], "OIDC_ROLES")
    unknown = sorted({role for _, role in roles} - set(ROLES))
    if unknown:
        raise SettingsError(f"FORUM_OIDC_ROLES names unknown roles {', '.join(unknown)}; "
                            f"the roles are {', '.join(ROLES)}.")
    oauth = OAuth(app)
    client = oauth.register(
        "forum-oidc",
        client_id=config["OIDC_CLIENT_ID"],
        client_secret=config["OIDC_CLIENT_SECRET"],
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "default_timeout": config["OIDC_TIMEOUT_SECONDS"]},
    )
    app.extensions[EXTENSION] = Provider(
        issuer=issuer, name=str(config["OIDC_NAME"]).strip() or "your organisation's account",
        groups_claim=config["OIDC_GROUPS_CLAIM"], email_claim=config["OIDC_EMAIL_CLAIM"],
        name_claim=config["OIDC_NAME_CLAIM"], roles=roles,
        functions=parse_mapping(config["OIDC_FUNCTIONS"], "OIDC_FUNCTIONS"),
        leeway=int(config["OIDC_LEEWAY_SECONDS"]), session_hours=int(config["OIDC_SESSION_HOURS"]),
        client=client,
    )


def provider(app: Flask | None = None) -> Provider | None:
    """The configured provider, or None when single sign-on is off."""
    return (app or current_app).extensions.get(EXTENSION)


def _unreachable(provider_: Provider, error: Exception) -> SignInFailed:
    current_app.logger.warning("identity provider %s: %s", provider_.issuer, error)
    return SignInFailed("provider_unreachable", f"The sign-in service at {provider_.issuer} did not answer "
                        "properly. Try again in a minute; if it goes on, tell an administrator.", 502)


def metadata(provider_: Provider) -> dict:
    """The provider's discovery document, read once per process. Its ``issuer`` must be the
    configured one (OpenID Connect Discovery 1.0, section 4.3): a document that names another
    issuer is refused and not kept."""
    try:
        loaded = provider_.client.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise _unreachable(provider_, error) from error
    if loaded.get("issuer") != provider_.issuer:
        provider_.client.server_metadata.clear()
        current_app.logger.error("identity provider discovery names issuer %r, configured %r",
                                 loaded.get("issuer"), provider_.issuer)
        raise SignInFailed("wrong_issuer", "The sign-in service names another issuer than the one this forum "
                           "is set up for (FORUM_OIDC_ISSUER). Tell an administrator.", 502)
    return loaded


def begin(provider_: Provider, redirect_uri: str, next_path: str) -> tuple[str, dict]:
    """The provider's authorisation URL, and what the browser's session keeps until it returns."""
    metadata(provider_)
    try:
        made = provider_.client.create_authorization_url(redirect_uri)
    except (AuthlibBaseError, RuntimeError) as error:
        raise _unreachable(provider_, error) from error
    stash = {"state": made["state"], "nonce": made["nonce"], "code_verifier": made["code_verifier"],
             "redirect_uri": redirect_uri, "next": next_path, "started": int(time.time())}
    return made["url"], stash


def _claims_of(provider_: Provider, claims: dict) -> tuple[str, str, tuple[str, ...]]:
    email = claims.get(provider_.email_claim)
    name = claims.get(provider_.name_claim)
    groups = claims.get(provider_.groups_claim)
    if isinstance(groups, str):
        groups = groups.replace(",", " ").split()
    if not isinstance(groups, list):
        groups = []
    return (email if isinstance(email, str) else "", name if isinstance(name, str) else "",
            tuple(str(group) for group in groups))


def finish(provider_: Provider, args: dict, stash: dict) -> tuple[Identity, str]:
    """Check the provider's answer (``args``: the callback's query) against what ``begin`` kept,
    redeem its code and check the ID token; returns the person and the raw ID token (kept for
    logging out at the provider)."""
    if args.get("error"):
        detail = str(args.get("error_description") or args["error"])[:200]
        raise SignInFailed("provider_refused", f"The sign-in service did not sign you in: {detail}", 400)
    if time.time() - stash.get("started", 0) > SIGN_IN_SECONDS:
        raise SignInFailed("expired", "This sign-in took too long. Start again.", 400)
    code = args.get("code")
    if not code:
        raise SignInFailed("no_code", "The sign-in service sent no authorisation code back. Start again.", 400)
    meta = metadata(provider_)
    client = provider_.client
    try:
        token = client.fetch_access_token(redirect_uri=stash["redirect_uri"], code=code,
                                          code_verifier=stash["code_verifier"])
    except OAuthError as error:
        raise SignInFailed("code_refused", "The sign-in service would not redeem this sign-in "
                           f"({error.error}). Start again.", 400) from error
    except (requests.RequestException, ValueError) as error:
        raise _unreachable(provider_, error) from error
    raw = token.get("id_token")
    if not isinstance(raw, str) or not raw:
        raise SignInFailed("no_id_token", "The sign-in service sent no ID token: the forum asks for the "
                           "openid scope; tell an administrator.", 502)
    try:
        alg = extract_compact(raw.encode()).protected.get("alg")
    except (JoseError, ValueError) as error:
        raise SignInFailed("bad_id_token", "The sign-in service's ID token is malformed.", 400) from error
    if alg not in ALGORITHMS:
        raise SignInFailed("bad_id_token", f"The ID token is signed with {alg!r}, which the forum does not "
                           "accept (an asymmetric signature is required).", 400)
    try:
        checked = client.parse_id_token(
            token, nonce=stash["nonce"], leeway=provider_.leeway,
            claims_options={"iss": {"essential": True, "values": [provider_.issuer]}},
        )
    except (JoseError, AuthlibBaseError, ValueError) as error:
        raise SignInFailed("bad_id_token", f"The sign-in service's ID token was refused: {_why(error)}.",
                           400) from error
    except requests.RequestException as error:
        raise _unreachable(provider_, error) from error
    claims = dict(checked)
    email, name, groups = _claims_of(provider_, claims)
    if (not email or provider_.groups_claim not in claims) and meta.get("userinfo_endpoint"):
        try:
            info = dict(client.userinfo(token=token))
        except (requests.RequestException, ValueError, AuthlibBaseError) as error:
            raise _unreachable(provider_, error) from error
        if info.get("sub") != claims.get("sub"):
            raise SignInFailed("bad_userinfo", "The sign-in service's user information is about someone "
                               "else than its ID token.", 400)
        claims = {**info, **claims}
        email, name, groups = _claims_of(provider_, claims)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SignInFailed("bad_id_token", "The ID token names nobody (no sub claim).", 400)
    return Identity(issuer=provider_.issuer, subject=subject, email=email.strip().lower(),
                    name=name.strip(), groups=groups), raw


def _why(error: Exception) -> str:
    """A short reason for a refused token: the error's own words, never the token."""
    text = getattr(error, "description", None) or getattr(error, "error", None) or str(error) or type(error).__name__
    return str(text)[:160]


def logout_url(provider_: Provider, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """Where to send a browser so the provider ends its session too (RP-initiated logout), or
    None when the provider offers no end-session endpoint (or cannot be reached now)."""
    try:
        meta = metadata(provider_)
    except SignInFailed:
        return None
    if not meta.get("end_session_endpoint"):
        return None
    made = provider_.client.create_logout_url(post_logout_redirect_uri=post_logout_redirect_uri,
                                              id_token_hint=id_token or None,
                                              client_id=provider_.client.client_id)
    return made["url"]
