"""Domain errors raised by services and turned into form errors or HTTP problems by views."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the change. ``field`` names the input at fault, when there is one."""

    status = 400

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field


class ValidationError(DomainError):
    status = 400


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """Someone else changed the record first, or the record is not in a state that allows this."""

    status = 409


class TooManyRequests(DomainError):
    """A limit on how often someone may do this was reached."""

    status = 429
