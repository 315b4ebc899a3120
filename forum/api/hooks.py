"""Where other areas plug into the API. Each function below is called by forum/api/views.py;
until its area is wired in, it answers what is true without that area (no tier, no positions, no
evidence, no meetings) or refuses honestly (evidence ingestion: 501 "not available yet").

To wire an area, replace the body of its function with a call into that area's service — a few
lines each; the contract (arguments, return shape, exceptions) is in each docstring. The views
validate every returned dict through the pydantic models of forum/api/schemas.py, so a shape
mistake shows up as a failing test, and keys the schemas do not declare are dropped.

Exceptions a hook may raise, and what the client gets:
  forum.errors.ValidationError / PermissionDenied / NotFound / Conflict -> 400 / 403 / 404 / 409
  UnsupportedFormat (below) -> 415          TooLarge (below) -> 413
  NotAvailable (below) -> 501 (the feature is not on this server yet)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.errors import DomainError
from forum.items.models import DecisionItem


class NotAvailable(Exception):
    """The area behind this endpoint is not wired in yet (HTTP 501)."""


class UnsupportedFormat(DomainError):
    """The evidence file's format is unknown or not detectable (HTTP 415)."""

    status = 415


class TooLarge(DomainError):
    """The evidence file is larger than the area accepts (HTTP 413)."""

    status = 413


@dataclass
class Upload:
    """An evidence file as received: the raw bytes, the file name (multipart only), the
    declared media type, and the ?format= override (None: detect from the content)."""

    data: bytes
    filename: str | None
    media_type: str | None
    format: str | None


@dataclass
class EvidenceFile:
    """The original bytes of an evidence run, for GET /api/v1/evidence/{id}/file."""

    data: bytes
    media_type: str
    filename: str


# --------------------------------------------------------------------------------- forum (#3)
def item_extras(session: Session, viewer: User, items: list[DecisionItem]) -> dict[int, dict]:
    """Weight, positions, flags and evidence of several items, in a bounded number of queries.

    Returns {item_id: {"tier": "tactical"|"operational"|"strategic"|None, "divergence": bool,
    "flags": [str], "escalation_reasons": [str], "positions": [{"function", "stance",
    "rationale", "by", "at"}], "ratings": [{"function", "scores": {criterion: int}, "total",
    "tier"}], "evidence": [EvidenceRun dict, latest per suite, with "gates"]}}. Items missing
    from the result, and keys missing from an entry, get the defaults (null / false / []).
    """
    return {}


def tier_condition(tier: str) -> ColumnElement[bool]:
    """A SQL condition on DecisionItem selecting the items whose current tier is ``tier``, for
    the ?tier= filter of GET /api/v1/items (it must be SQL so that cursor pages stay full).
    Until weight ratings exist no item has a tier, so no item matches."""
    return false()


# ------------------------------------------------------------------------------ evidence (#4)
def ingest_evidence(session: Session, actor: User, item: DecisionItem, upload: Upload) -> dict:
    """Parse ``upload``, store it as an EvidenceRun of ``item`` (with its one trail event),
    compute its gates, and return it as an EvidenceRun dict: {"id", "item_id", "format",
    "suite", "model", "model_version", "run_at", "total", "passed", "failed", "errored",
    "skipped", "pass_rate", "edge_total", "edge_passed", "edge_pass_rate", "sha256",
    "gates": [{"name", "status": "pass"|"warn"|"fail", "detail"}]}. Permission to attach
    evidence to this item is the evidence service's to check (raise PermissionDenied)."""
    raise NotAvailable(
        "Evidence ingestion is not available yet on this server: the result-file parsers are "
        "still being built. Nothing was stored."
    )


def get_evidence(session: Session, viewer: User, evidence_id: int) -> dict | None:
    """The EvidenceRun dict (as for ingest_evidence) if it exists and ``viewer`` may see its
    item; None otherwise (404). No evidence can exist before ingestion is wired."""
    return None


def evidence_file(session: Session, viewer: User, evidence_id: int) -> EvidenceFile | None:
    """The original file of an evidence run, or None (404), under the same visibility rule."""
    return None


# ------------------------------------------------------------------------------ meetings (#5)
def list_meetings(
    session: Session, viewer: User, cursor: str | None, limit: int
) -> tuple[list[dict], str | None]:
    """One page of meetings the viewer may see, and the cursor of the next page (None at the
    end). Each meeting: {"id", "title", "status", "starts_at", "entries": [{"item_id", "order",
    "time_box_minutes", "presenter", "decision": None | {"outcome", "rationale", "conditions",
    "deciders", "recused", "actions": [{"text", "owner", "due", "done"}]}}]}. Raise
    forum.errors.ValidationError(reason, "cursor") for a damaged cursor."""
    return [], None


def get_meeting(session: Session, viewer: User, meeting_id: int) -> dict | None:
    """One meeting (shape as in list_meetings), or None (404)."""
    return None
