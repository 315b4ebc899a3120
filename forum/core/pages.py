"""Page plumbing shared by every blueprint: template filters, domain errors as pages, and error
pages in the one layout."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask, abort, current_app, flash, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, SecurityError

from forum.core import bodies, derived, policy
from forum.core.errors import DomainError
from forum.core.markdown import render as render_markdown


def can(action: str | policy.Action) -> bool:
    """For templates: whether the person logged in may take ``action`` (a name from the
    permission table, ``can('manage_agenda')``); an unknown name is an error, not a quiet no."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return policy.allows(user, policy.Action(action))


# The section of the site each header link stands for, by the start of the path: the first that
# matches is the current page's link (aria-current), checked in this order.
SECTIONS = (
    ("new", lambda path: path == "/items/new"),
    ("items", lambda path: path.startswith("/items")),
    ("home", lambda path: path == "/"),
    ("queue", lambda path: path == "/escalations"),
    ("meetings", lambda path: path.startswith("/meetings")),
    ("decisions", lambda path: path.startswith("/decisions")),
    ("systems", lambda path: path.startswith("/systems")),
    ("actions", lambda path: path == "/actions"),
    ("health", lambda path: path == "/health"),
    ("admin", lambda path: path.startswith("/admin")),
    ("trail", lambda path: path.startswith("/trail")),
    ("inbox", lambda path: path.startswith("/inbox")),
    ("settings", lambda path: path.startswith("/settings")),
)
HEADER = "forum.site-header"


def site_header() -> Markup:
    """For the layout: the header's links, search and account menu for the person logged in. It
    reads the same for everyone with the same role, name, function and unread count on the same
    section of the site, so each worker renders it once per such combination (a bounded store)
    and serves it with the request's own CSRF token in the logout form: the header's thirty links
    took a millisecond of every page."""
    user = current_user._get_current_object()
    current = next((name for name, matches in SECTIONS if matches(request.path)), "")
    key = (user.role, user.display_name, user.function_key, user.function_label if user.function_key else "",
           getattr(user, "unread_count", 0) or 0, current)
    store = current_app.extensions.get(HEADER)
    if store is None:
        store = current_app.extensions.setdefault(HEADER, derived.Store(512))
    found, html = store.get(key)
    if not found:
        with derived.csrf_slot():
            html = render_template("_site_header.html", current=current, unread=key[4])
        store.put(key, html)
    return derived.with_token(html)


def filter_args() -> dict[str, str]:
    """The request's arguments that are filters or search terms: every one with a value but the
    page number (a list's links and kept forms carry these)."""
    return {k: v for k, v in request.args.items() if k != "page" and v}


def kept_filters(session, template: str, query: dict[str, str], valid: bool = True, **context) -> Markup:
    """A page's form of filters or search terms: a GET form (no CSRF token) whose fields show the
    values of ``query`` (the request's arguments that are filters). For valid values it reads the
    same for every viewer, so it is kept rendered per set of values until the trail moves
    (forum.core.derived): its fields, a select of every kind or function among them, took up to
    two fifths of such a page. A form with errors (``valid`` false) is rendered afresh."""

    def render() -> str:
        return render_template(template, query=query, **context)

    if not valid:
        return derived.afresh(render())
    return derived.rendered(session, ("filters", template, tuple(sorted(query.items()))), lambda: [render()])[0]


def abort_for(error: DomainError):
    """Turn a domain error that has no form to show it into an HTTP error page."""
    abort(error.status, description=error.reason)


def flash_error(error: DomainError) -> None:
    flash(error.reason, "error")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")


def format_date(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


def format_money(value: int | None) -> str:
    return "" if value is None else f"{value:,}".replace(",", "\u202f")


def iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


ERROR_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    503: "Unavailable",
    500: "Something went wrong",
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        markdown=render_markdown, datetime=format_datetime, date=format_date,
        money=format_money, iso=iso,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["site_header"] = site_header

    @app.context_processor
    def _globals():
        return {"current_path": request.path}

    def _error_page(status: int, message: str):
        return (
            render_template(
                "errors/error.html", status=status, title=ERROR_TITLES.get(status, "Error"),
                message=message,
            ),
            status,
        )

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return _error_page(
            400,
            "The form's security token is missing or no longer valid. Go back, reload the page "
            "and submit the form again.",
        )

    @app.before_request
    def _explain_untrusted_host():
        # Werkzeug refused the Host header (TRUSTED_HOSTS): say which address to use, on the
        # pages and in the API's problem documents alike.
        if isinstance(request.routing_exception, SecurityError):
            request.routing_exception.description = (
                f"This forum does not answer to the host named in the request "
                f"({request.environ.get('HTTP_HOST', '')[:100]!r}). Use {app.config['BASE_URL']} "
                "(an administrator adds other names with FORUM_TRUSTED_HOSTS).")

    @app.errorhandler(SecurityError)
    def _untrusted_host(error: SecurityError):
        # Plain text, not the page layout: no link can be built for a host the forum refuses.
        return app.response_class(f"400 Bad request: {error.description}\n", status=400, mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        default = {
            403: "You do not have permission to do this.",
            404: "The page you asked for does not exist, or you may not see it.",
        }
        description = error.description
        generic = type(error).description
        if description == generic and error.code == 413:
            description = bodies.too_large_message(app) or description
        message = default.get(error.code, description) if description == generic else description
        return _error_page(error.code, message)

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        return _error_page(error.status, error.reason)

    @app.errorhandler(500)
    def _server_error(error):
        return _error_page(
            500, "An unexpected error stopped this request. Nothing was saved. Try again, and if "
            "it happens again tell your administrator the time it happened.",
        )
