"""Errors of the JSON API as RFC 9457 problem details (application/problem+json).

Every error an API view can meet — a refused token, bad input, a domain rule, an HTTP error
raised by Werkzeug or Flask-Limiter, an unexpected exception — leaves as one problem document:
``{"type", "title", "status", "detail"}`` plus ``errors: [{"field", "reason"}]`` for bad input.
"""

from __future__ import annotations

import json
import time
from typing import NamedTuple

from flask import Blueprint, current_app, request
from pydantic import ValidationError as PydanticValidationError
from werkzeug.exceptions import HTTPException

from forum.core.errors import DomainError

PROBLEM_MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/v1/"


class ProblemType(NamedTuple):
    """A kind of problem by its status. The type URI is the API page's anchor for it."""

    slug: str  # /api#problem-<slug>
    title: str
    description: str  # when it happens, for the OpenAPI document and the API page


PROBLEMS: dict[int, ProblemType] = {
    400: ProblemType("invalid-request", "Invalid request",
                     "The query, path or body is malformed or breaks a rule; `errors` names each field and why."),
    401: ProblemType("unauthenticated", "Authentication required",
                     "No bearer token, an unknown or revoked token, or a token whose user is deactivated."),
    403: ProblemType("forbidden", "Not allowed",
                     "The token lacks the scope, or the user's role does not allow the action."),
    404: ProblemType("not-found", "Not found",
                     "No such resource, or one the token's user may not see (drafts of others)."),
    405: ProblemType("method-not-allowed", "Method not allowed",
                     "The path exists but not with this method."),
    409: ProblemType("conflict", "Conflict",
                     "The resource is not in a state that allows the change (e.g. an item past open)."),
    412: ProblemType("precondition-failed", "Precondition failed",
                     "If-Match names a version that is no longer the item's current version."),
    413: ProblemType("too-large", "Request too large",
                     "The body is larger than the server accepts."),
    415: ProblemType("unsupported-media-type", "Unsupported media type",
                     "The body's media type, or an evidence file's format, is not one the server reads."),
    428: ProblemType("precondition-required", "Precondition required",
                     "The change needs an If-Match header with the item's version."),
    429: ProblemType("rate-limited", "Too many requests",
                     "Too many calls for the token, or too many failed authentications from the address. "
                     "Retry after the number of seconds in Retry-After."),
    503: ProblemType("unavailable", "Unavailable",
                     "The forum records no change for now (its decision trail needs an operator's repair)."),
    500: ProblemType("server-error", "Server error",
                     "An unexpected failure; nothing was saved."),
}


def problem_type(status: int) -> str:
    return f"/api#problem-{PROBLEMS[status].slug}" if status in PROBLEMS else "about:blank"


class ApiProblem(Exception):
    """Raised by API code to end the request with a problem document."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None,
                 headers: dict[str, str] | None = None, title: str | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.title = title or (PROBLEMS[status].title if status in PROBLEMS else "Error")

    def response(self):
        body = {
            "type": problem_type(self.status),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": request.path,
        }
        if self.errors:
            body["errors"] = self.errors
        response = current_app.response_class(
            json.dumps(body, ensure_ascii=False), status=self.status, mimetype=PROBLEM_MEDIA_TYPE
        )
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def invalid(field: str, reason: str, detail: str | None = None) -> ApiProblem:
    return ApiProblem(400, detail or f"{field}: {reason}", errors=[{"field": field, "reason": reason}])


def _reason(error: dict) -> str:
    if error["type"] == "string_pattern_mismatch" and "\\x00" in str(error.get("ctx", {}).get("pattern", "")):
        return "Contains a NUL character, which is not allowed."
    if error["type"] == "extra_forbidden":
        return "Unknown field."
    if error["type"] == "missing":
        return "Required."
    return error["msg"] + "."


def from_validation(error: PydanticValidationError, where: str) -> ApiProblem:
    """A pydantic validation error of the query or the body as a 400 with one entry per fault."""
    errors = []
    for item in error.errors(include_url=False, include_input=False):
        if item["type"] == "json_invalid":
            message = str(item.get("ctx", {}).get("error", item["msg"]))
            return ApiProblem(400, f"The body is not valid JSON: {message}.",
                              errors=[{"field": "body", "reason": f"Not valid JSON: {message}."}])
        field = ".".join(str(part) for part in item["loc"]) or where
        errors.append({"field": field, "reason": _reason(item)})
    summary = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
    return ApiProblem(400, f"The {where} has {len(errors)} problem{'s' if len(errors) != 1 else ''}: {summary}",
                      errors=errors)


def from_domain(error: DomainError) -> ApiProblem:
    errors = [{"field": error.field, "reason": error.reason}] if error.field and error.status == 400 else None
    return ApiProblem(error.status, error.reason, errors=errors)


def from_http(error: HTTPException) -> ApiProblem:
    status = error.code or 500
    headers = {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    if status == 429:
        headers["Retry-After"] = str(_retry_after())
    detail = error.description or PROBLEMS[status].description if status in PROBLEMS else ""
    if status == 413:
        limit = request.max_content_length  # the app-wide limit, or the route's own (evidence)
        detail = f"The body is larger than the server accepts ({limit:,} bytes)." if limit else detail
    if status == 429:
        detail = f"Rate limit exceeded ({error.description}). Retry after {headers['Retry-After']} seconds."
    if status == 404 and error.description == type(error).description:
        detail = f"There is no API endpoint {request.path}. The endpoints are listed at /api."
    return ApiProblem(status, detail, headers=headers)


def _retry_after() -> int:
    from forum.core.extensions import limiter

    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


def register(bp: Blueprint) -> None:
    """Problem documents for everything raised inside the blueprint's views, and for requests
    under /api/v1/ that match no route (404) or not with this method (405)."""

    @bp.errorhandler(ApiProblem)
    def _problem(error: ApiProblem):
        return error.response()

    @bp.errorhandler(DomainError)
    def _domain(error: DomainError):
        return from_domain(error).response()

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return from_http(error).response()

    @bp.errorhandler(Exception)
    def _unexpected(error: Exception):
        current_app.logger.exception("unexpected error in %s %s", request.method, request.path)
        return ApiProblem(500, PROBLEMS[500].description).response()

    @bp.before_app_request
    def _unrouted():
        error = request.routing_exception
        if error is not None and request.path.startswith(API_PREFIX) and isinstance(error, HTTPException):
            if error.code is not None and error.code >= 400:
                return from_http(error).response()
        return None

