"""The API's read and write glue into the other areas. The views of forum/api/views.py call these
functions for everything beyond an item's own columns: an item's weighing (tier, divergence,
flags, escalation reasons, positions, ratings) and its latest evidence per suite, the SQL
condition of ?tier=, attaching and reading evidence, and meetings with their agenda and
decisions. Each returns plain dicts in the shapes of forum/api/schemas.py; the views validate
them through those models, so a shape mistake fails a test and keys the schemas do not declare
are dropped. The API tests replace single functions here to exercise the views alone.

Exceptions these functions raise, and what the client gets:
  forum.core.errors.ValidationError / PermissionDenied / NotFound / Conflict -> 400 / 403 / 404 / 409
  UnsupportedFormat (below) -> 415          TooLarge (below) -> 413
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from forum.agenda.entries import recusals_of
from forum.agenda.models import Action, AgendaEntry, Decision, Meeting, Recusal
from forum.api import service as api_service
from forum.auth.models import User
from forum.core import clock
from forum.core.errors import DomainError, NotFound
from forum.evidence import gates
from forum.evidence import service as evidence
from forum.evidence.models import EvidenceRun
from forum.evidence.parsers import FORMAT_LABELS
from forum.evidence.parsers import UnknownFormat as UnknownFormatError
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC
from forum.weighing import queries as weighing_queries
from forum.weighing import rules, weigh
from forum.weighing.models import Position, WeightRating


class UnsupportedFormat(DomainError):
    """The evidence file's format is unknown or not detectable (HTTP 415)."""

    status = 415


class TooLarge(DomainError):
    """The evidence file is larger than the area accepts (HTTP 413)."""

    status = 413


@dataclass
class Upload:
    """An evidence file as received: a seekable binary file holding it (the request body
    spooled to a temporary file, or the multipart upload), the file name (multipart only), the
    declared media type, and the ?format= override (None: detect from the content)."""

    file: BinaryIO
    filename: str | None
    media_type: str | None
    format: str | None


@dataclass
class EvidenceFile:
    """The original file of an evidence run, for GET /api/v1/evidence/{id}/file: its bytes, or a
    seekable binary file of ``size`` bytes that is streamed."""

    data: bytes | BinaryIO
    media_type: str
    filename: str
    size: int | None = None


# ------------------------------------------------------------------------------------ weighing
def _weighing_settings() -> rules.ForumSettings:
    return rules.ForumSettings.from_config(current_app.config)


def _gate_dict(gate) -> dict:
    return {"name": gate.key, "status": gate.status, "detail": gate.detail}


def _run_dict(run, gates_now) -> dict:
    return {
        "id": run.id, "item_id": run.item_id, "format": run.format, "suite": run.suite,
        "model": run.model_id, "model_version": run.model_version, "run_at": run.run_at,
        "counting": run.counting, "metrics": run.metrics or {}, "total": run.total, "passed": run.passed, "failed": run.failed, "errored": run.errored,
        "skipped": run.skipped, "pass_rate": run.pass_rate, "edge_total": run.edge_total,
        "edge_passed": run.edge_passed, "edge_pass_rate": run.edge_pass_rate,
        "sha256": run.sha256, "gates": [_gate_dict(g) for g in gates_now],
    }


def item_extras(session: Session, viewer: User, items: list[DecisionItem]) -> dict[int, dict]:
    """Weight, positions, flags and evidence of several items: the weighing area's (ratings,
    positions, the evidence escalation rule), the positions and ratings with their authors, and
    the latest evidence run per suite with its gates — a fixed number of queries for any page."""
    if not items:
        return {}
    ids = [item.id for item in items]
    weighings = weigh.weigh(session, items, _weighing_settings())
    extras: dict[int, dict] = {item_id: {"positions": [], "ratings": [], "evidence": []} for item_id in ids}
    for position in session.scalars(
        select(Position).where(Position.item_id.in_(ids)).options(joinedload(Position.author))
        .order_by(Position.function_key)
    ):
        extras[position.item_id]["positions"].append({
            "function": position.function_key, "stance": position.stance,
            "rationale": position.rationale, "by": position.author.email, "at": position.taken_at,
        })
    for rating in session.scalars(
        select(WeightRating).where(WeightRating.item_id.in_(ids)).order_by(WeightRating.function_key)
    ):
        tier = RUBRIC.tier_for(rating.total)
        extras[rating.item_id]["ratings"].append({
            "function": rating.function_key, "scores": rating.scores, "total": rating.total,
            "tier": tier.key if tier else None,
        })
    latest = (
        select(func.max(EvidenceRun.id)).where(EvidenceRun.item_id.in_(ids))
        .group_by(EvidenceRun.item_id, EvidenceRun.suite).scalar_subquery()
    )
    by_id = {item.id: item for item in items}
    now = clock.now()
    revalidate: set[int] = set()
    incomplete: set[int] = set()
    for run in session.scalars(select(EvidenceRun).where(EvidenceRun.id.in_(latest)).order_by(EvidenceRun.suite)):
        item = by_id[run.item_id]
        w = weighings[item.id]
        gates_now = evidence.recheck(run, item, w.tier.key if w.tier else None, now)
        extras[item.id]["evidence"].append(_run_dict(run, gates_now))
        if any(g.status == "unknown" for g in gates_now):
            incomplete.add(item.id)
        tier = w.tier.key if w.tier else None
        if item.status in ("decided", "closed") and any(
            gates.drifted_since_decision(g, run, item, tier) for g in gates_now
        ):
            revalidate.add(item.id)
    for item_id, w in weighings.items():
        flags = []
        if w.recommended:
            flags.append("escalation_recommended")
        if w.divergent:
            flags.append("weight_divergence")
        if item_id in revalidate:
            flags.append("revalidation_required")
        if item_id in incomplete:
            flags.append("evidence_incomplete")
        extras[item_id].update(
            tier=w.tier.key if w.tier else None, divergence=w.divergent, flags=flags,
            escalation_reasons=[reason.text for reason in w.reasons],
        )
    return extras


def tier_condition(tier: str) -> ColumnElement[bool]:
    """A SQL condition on DecisionItem selecting the items whose current tier is ``tier``, for
    the ?tier= filter of GET /api/v1/items (SQL, so that cursor pages stay full)."""
    return weighing_queries.tier_condition(tier)


# ------------------------------------------------------------------------------------ evidence
def read_evidence(actor: User, item: DecisionItem, upload: Upload) -> evidence.ResultFile:
    """Read and check an uploaded result file before the write lock: who may attach it, its
    format, its size. ``?format=`` does not force a parser: the content is detected as always,
    and a file that turns out to be another format than the one named is refused with 415, so
    a pipeline learns that it sent the wrong file. Nothing is stored (``ingest_evidence``)."""
    evidence.check_attach(actor, item)
    if upload.format is not None and upload.format not in FORMAT_LABELS:
        raise UnsupportedFormat(
            f"Unknown format {upload.format!r}; use one of: {', '.join(sorted(FORMAT_LABELS))}.", "format"
        )
    try:
        result = evidence.read_result_file(
            upload.filename or "results", upload.file, limits=evidence.upload_limits(current_app.config),
        )
    except evidence.EvidenceRefused as refused:
        if isinstance(refused.__cause__, UnknownFormatError):
            raise UnsupportedFormat(refused.reason, "file") from refused
        if refused.status == 413:
            raise TooLarge(refused.reason, "file") from refused
        raise
    if upload.format is not None and result.parsed.format != upload.format:
        raise UnsupportedFormat(
            f"The file was read as {FORMAT_LABELS[result.parsed.format]}, not {FORMAT_LABELS[upload.format]} "
            "as the format parameter says. Nothing was stored.", "format",
        )
    return result


def ingest_evidence(session: Session, actor: User, item: DecisionItem, result: evidence.ResultFile) -> dict:
    """Store a result file read by ``read_evidence`` as an EvidenceRun of ``item`` through the
    evidence service (its one trail event included), under the write lock, and return the run
    with its gates."""
    run = evidence.store_evidence(session, actor, item, result)
    return _run_dict(run, evidence.recheck(run, item, evidence.item_tier(session, item)))


def get_evidence(session: Session, viewer: User, evidence_id: int) -> dict | None:
    """The EvidenceRun dict if it exists and ``viewer`` may see its item; None otherwise (404)."""
    try:
        run, item = evidence.get_run(session, viewer, evidence_id)
    except NotFound:
        return None
    return _run_dict(run, evidence.recheck(run, item, evidence.item_tier(session, item)))


def evidence_file(session: Session, viewer: User, evidence_id: int) -> EvidenceFile | None:
    """The original file of an evidence run, or None (404), under the same visibility rule."""
    try:
        run, _item = evidence.get_run(session, viewer, evidence_id)
    except NotFound:
        return None
    return EvidenceFile(data=evidence.open_original(session, run), media_type=run.content_type,
                        filename=evidence.download_name(run), size=run.size)


# ------------------------------------------------------------------------------------ meetings
def _meeting_options():
    decisions = selectinload(Meeting.entries).selectinload(AgendaEntry.decisions)
    return (
        selectinload(Meeting.entries).selectinload(AgendaEntry.presenter),
        selectinload(Meeting.entries).selectinload(AgendaEntry.item).joinedload(DecisionItem.filer),
        selectinload(Meeting.entries).selectinload(AgendaEntry.recusals).joinedload(Recusal.user),
        decisions.selectinload(Decision.deciders),
        decisions.selectinload(Decision.actions).joinedload(Action.owner),
    )


def _meeting_dict(meeting: Meeting) -> dict:
    entries = []
    for entry in sorted(meeting.entries, key=lambda e: e.position):
        current = max(entry.decisions, key=lambda d: d.revision, default=None)
        decision = None
        if current is not None:
            decision = {
                "outcome": current.outcome, "rationale": current.rationale,
                "conditions": current.conditions,
                "deciders": sorted(user.email for user in current.deciders),
                "recused": [note.email for note in recusals_of(entry)],
                "actions": [
                    {"text": a.text, "owner": a.owner.email, "due": a.due_on, "done": a.done}
                    for a in sorted(current.actions, key=lambda a: a.id)
                ],
            }
        entries.append({
            "item_id": entry.item_id, "order": entry.position,
            "time_box_minutes": entry.time_box_minutes,
            "presenter": entry.presenter.email if entry.presenter else None, "decision": decision,
        })
    return {"id": meeting.id, "title": meeting.title, "status": meeting.status,
            "starts_at": meeting.starts_at, "entries": entries}


def list_meetings(
    session: Session, viewer: User, cursor: str | None, limit: int
) -> tuple[list[dict], str | None]:
    """One page of meetings, latest start first (every logged-in role may read meetings), and
    the cursor of the next page (None at the end): keyset on (starts_at, id), a fixed number of
    queries per page. ValidationError(reason, "cursor") for a damaged cursor."""
    query = select(Meeting).options(*_meeting_options()).order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    if cursor:
        at, last_id = api_service.decode_cursor(cursor)
        query = query.where(or_(Meeting.starts_at < at, and_(Meeting.starts_at == at, Meeting.id < last_id)))
    rows = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = api_service.encode_cursor(rows[-1].starts_at, rows[-1].id) if more and rows else None
    return [_meeting_dict(m) for m in rows], next_cursor


def get_meeting(session: Session, viewer: User, meeting_id: int) -> dict | None:
    """One meeting (shape as in list_meetings), or None (404)."""
    meeting = session.scalar(select(Meeting).where(Meeting.id == meeting_id).options(*_meeting_options()))
    return _meeting_dict(meeting) if meeting is not None else None
