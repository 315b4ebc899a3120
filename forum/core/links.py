"""Absolute links for people outside the request: built from BASE_URL, never from the Host header.

A link in an e-mail, an API answer's ``url`` field, the OpenAPI ``servers`` entry or a one-time
set-password link travels beyond the page that made it. Built from the request's Host header, a
forged header (``Host: evil.example``) would hand out links to someone else's site — with a
one-time token in them. So they come from the configured BASE_URL (forum.core.config), which
names the forum's root page, path prefix included.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request, url_for


def base_url() -> str:
    """The forum's address without a trailing slash, e.g. ``https://forum.example.org``."""
    return str(current_app.config["BASE_URL"]).rstrip("/")


def external_url(endpoint: str, **values) -> str:
    """The absolute address of ``endpoint``: BASE_URL followed by the route's path."""
    path = url_for(endpoint, **values)
    prefix = request.script_root if has_request_context() else ""
    if prefix and path.startswith(prefix):
        path = path[len(prefix):]  # BASE_URL carries the prefix already
    return base_url() + path
