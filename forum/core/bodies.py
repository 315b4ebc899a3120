"""Request bodies larger than the app-wide limit, for the routes that take them.

MAX_CONTENT_LENGTH bounds every request body. A route that accepts larger ones (an evidence
upload) declares its own limit with ``@body_limit``; the application sets it on the request
before any before-request hook runs, because the CSRF check reads a form body before the view
does and would otherwise refuse it under the app-wide limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask, abort, request


@dataclass(frozen=True)
class BodyLimit:
    limit: Callable[[Mapping], int]  # bytes, from the app's configuration
    too_large: Callable[[Mapping], str] | None = None  # what a refused person reads


def body_limit(limit: Callable[[Mapping], int], too_large: Callable[[Mapping], str] | None = None):
    """Mark a view: its request body may be ``limit(app.config)`` bytes, and a larger one is
    refused with ``too_large(app.config)``. Decorators that wrap the view with functools.wraps
    carry the mark to the registered function."""

    def mark(view):
        view.body_limit = BodyLimit(limit, too_large)
        return view

    return mark


def _declared(app: Flask) -> BodyLimit | None:
    return getattr(app.view_functions.get(request.endpoint), "body_limit", None)


def apply(app: Flask) -> None:
    """Before any before-request hook: set the route's own limit on the request, and refuse a
    body whose declared length is over it without reading it."""
    declared = _declared(app)
    if declared is None:
        return
    request.max_content_length = declared.limit(app.config)
    if request.content_length is not None and request.content_length > request.max_content_length:
        abort(413, description=too_large_message(app))


def too_large_message(app: Flask) -> str | None:
    """The route's own words for a body over its limit, if it has any."""
    declared = _declared(app)
    return declared.too_large(app.config) if declared and declared.too_large else None
