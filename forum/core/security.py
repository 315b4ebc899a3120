"""Security headers on every response; the Content-Security-Policy forbids inline script."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, request


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """The policy: everything from the forum's own origin, no inline script. ``form_targets``:
    further origins a form may lead to — the identity provider's, where logging out (a form)
    redirects to end its session too; browsers apply form-action to that redirect."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            " ".join(("form-action", "'self'", *form_targets)),
            "frame-ancestors 'none'",
        ]
    )


CSP = content_security_policy()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# The JSON API validates its own query strings and bodies (refusing NUL with a problem document),
# and its raw result-file bodies must not be parsed as a form (curl --data-binary sends them
# form-encoded): this check leaves its paths alone.
SELF_VALIDATING_PATHS = ("/api/v1/",)


def _refuse_nul_characters() -> None:
    """NUL cannot be stored in PostgreSQL text and is never meaningful in a form or a query: refuse
    it up front, naming the field, instead of failing deep in the database."""
    if "\x00" in request.path:
        abort(400, description="The address contains a NUL character, which is not allowed.")
    if request.path.startswith(SELF_VALIDATING_PATHS):
        return
    for source, values in (("query", request.args), ("form", request.form)):
        for name, value in values.items(multi=True):
            if "\x00" in name or "\x00" in value:
                abort(400, description=f"The {source} field {name.strip(chr(0))!r} contains a NUL "
                      "character, which is not allowed. Remove it and try again.")


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul_characters)
    issuer = str(app.config.get("OIDC_ISSUER") or "").strip()
    policy = content_security_policy((_origin(issuer),)) if issuer else CSP

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
