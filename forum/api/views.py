"""The JSON API, version 1 (/api/v1): for CI pipelines and auditors' tools.

Authentication is a personal API token (``Authorization: Bearer dfk_…``, created at
/settings/tokens or with ``forum tokens create``); the browser session is never consulted, and
the blueprint is exempt from CSRF for that reason (a cookie cannot authenticate a call here).
Every error is an RFC 9457 problem (forum/api/problems.py). Routes, scopes and schemas are
declared once with ``@api.operation`` (forum/api/spec.py), which also generates the OpenAPI
document; the shapes are the pydantic models of forum/api/schemas.py.

What the API shows or changes beyond an item's own columns comes from the other areas through
forum/api/hooks.py (weighing, evidence, meetings).
"""

from __future__ import annotations

import io
import json
import tempfile
from typing import BinaryIO

from flask import Blueprint, current_app, request, url_for
from pydantic import BaseModel
from werkzeug.wsgi import wrap_file

from forum.api import hooks, problems, schemas, service
from forum.api.bearer import rate_limit_key
from forum.api.problems import ApiProblem
from forum.api.spec import RAW_BODY, Api
from forum.core import db
from forum.core.bodies import body_limit
from forum.core.errors import Conflict
from forum.core.extensions import csrf, limiter
from forum.core.links import base_url, external_url
from forum.evidence import service as evidence_service
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.items.service import ItemData
from forum.systems import service as systems
from forum.systems.models import AISystem
from forum.systems.service import SystemData, SystemFilters
from forum.trail.service import as_link

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Tokens, not cookies, authenticate here; a forged cross-site request carries no token.
csrf.exempt(bp)
problems.register(bp)

# One bucket per token across every endpoint; and per client address, failed authentications
# only — past that limit the address is refused (429) until the window ends.
limiter.shared_limit(lambda: current_app.config["RATELIMIT_API"], scope="api", key_func=rate_limit_key)(bp)
limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_AUTH_FAILURES"], scope="api-auth-failures",
    deduct_when=lambda response: response.status_code == 401,
)(bp)

api = Api(
    bp, title="Decision Forum API", version="1",
    description="Decision items, evidence from model tests, meetings and the decision trail. "
    "Authenticate with a personal API token: Authorization: Bearer <token>. "
    "Errors are RFC 9457 problem details (application/problem+json).",
)


def respond(model: BaseModel, status: int = 200, headers: dict | None = None):
    response = current_app.response_class(
        json.dumps(model.model_dump(mode="json"), ensure_ascii=False), status=status,
        mimetype="application/json",
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# ---------------------------------------------------------------------------------------- items
def _item_models(session, viewer, rows: list[DecisionItem]) -> list[schemas.Item]:
    extras = hooks.item_extras(session, viewer, rows) if rows else {}
    return [
        schemas.Item.model_validate({
            "id": item.id,
            "url": external_url("items.detail", item_id=item.id),
            "title": item.title, "summary": item.summary, "status": item.status,
            "category": item.category, "function": item.function_key, "vendor": item.vendor,
            "model_name": item.model_name, "model_version": item.model_version,
            "exposure": item.exposure, "needed_by": item.needed_by,
            "filer": {"email": item.filer.email, "name": item.filer.display_name},
            "created_at": item.created_at, "updated_at": item.updated_at, "version": item.version,
            "system": item.system_id, **extras.get(item.id, {}),
        })
        for item in rows
    ]


def _item_response(session, viewer, item_id: int, status: int = 200, headers: dict | None = None):
    session.expire_all()  # read back what the services wrote, relationships included
    item = items.get_item(session, viewer, item_id)
    model = _item_models(session, viewer, [item])[0]
    return respond(model, status, {"ETag": f'"{item.version}"', **(headers or {})})


@api.operation("GET", "/items", summary="List decision items", tag="items", scope="items:read",
               query=schemas.ItemListQuery, response=schemas.ItemPage)
def list_items(user, query: schemas.ItemListQuery):
    """Items the token's user may see, newest first, in pages: pass next_cursor back as cursor
    until it is null. A walk never repeats or skips an item, even while items are filed."""
    session = db.session()
    rows, next_cursor = service.list_items_after(
        session, user,
        service.ItemQuery(
            status=query.status, category=query.category, function=query.function, q=query.q,
            tier_condition=hooks.tier_condition(query.tier) if query.tier else None,
        ),
        query.cursor, query.limit,
    )
    return respond(schemas.ItemPage(items=_item_models(session, user, rows), next_cursor=next_cursor))


@api.operation("POST", "/items", summary="File a decision item (a draft)", tag="items",
               scope="items:write", body=schemas.ItemCreate, response=schemas.Item, status=201,
               errors=(413, 415), response_headers={"Location": "The item's API URL.", "ETag": "The item's version."})
def create_item(user, body: schemas.ItemCreate):
    session = db.session()
    item = items.create_item(session, user, ItemData(**body.model_dump()))
    return _item_response(session, user, item.id, 201,
                          {"Location": url_for("api.get_item", item_id=item.id)})


@api.operation("GET", "/items/<int:item_id>", summary="One decision item", tag="items",
               scope="items:read", response=schemas.Item, errors=(404,),
               response_headers={"ETag": "The item's version, for If-Match."})
def get_item(item_id: int, user):
    """The item with its weight (tier, divergence), flags, positions, ratings and latest
    evidence per suite."""
    return _item_response(db.session(), user, item_id)


def _expected_version(current: int, what: str = "item", path: str = "items") -> int:
    """The version the client saw, from If-Match: 428 when missing, 412 when stale."""
    header = request.headers.get("If-Match")
    if header is None or not header.strip() or header.strip() == "*":
        raise ApiProblem(428, f"Send If-Match with the {what}'s version (the ETag of GET "
                         f"/api/v1/{path}/{{id}}, e.g. If-Match: \"{current}\") so that a change "
                         f"made since you read the {what} is not overwritten.")
    tags = [t.strip() for t in header.split(",")]
    versions = {t.strip('"') for t in tags if not t.startswith("W/")}
    if str(current) not in versions:
        raise ApiProblem(412, f"The {what} has changed: it is at version {current}, not {header.strip()}. "
                         "Read it again and reapply your change.")
    return current


@api.operation("PATCH", "/items/<int:item_id>", summary="Change a decision item", tag="items",
               scope="items:write", body=schemas.ItemPatch, response=schemas.Item,
               errors=(404, 409, 412, 413, 415, 428),
               request_headers={"If-Match": "The item's version (its ETag), e.g. \"3\"."},
               response_headers={"ETag": "The item's new version."})
def update_item(item_id: int, user, body: schemas.ItemPatch):
    """Change the given fields (absent ones are kept). Requires If-Match with the item's
    version: 428 without it, 412 when someone changed the item since. Changing model_version
    makes evidence of the older version stale; after escalation (escalated, scheduled, decided,
    closed) model_version is the one field that can still change: a model update."""
    session = db.session()
    item = items.get_item(session, user, item_id)
    expected = _expected_version(item.version)
    current = items.current_values(item)  # the item's system too: a change of its title keeps it
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    try:
        if set(changes) == {"model_version"} and items.can_update_model(user, item):
            # past escalation only the model version changes: a model update
            items.update_model_version(session, user, item, changes["model_version"] or "", expected)
        else:
            items.update_item(session, user, item, ItemData(**(current | changes)), expected)
    except Conflict as error:
        if error.field == "version":
            raise ApiProblem(412, error.reason) from None
        raise
    return _item_response(session, user, item_id)


# -------------------------------------------------------------------------------------- systems
def _system_model(system: AISystem) -> schemas.System:
    return schemas.System.model_validate({
        "id": system.id, "url": external_url("register.detail", system_id=system.id), "name": system.name,
        "vendor": system.vendor, "model_name": system.model_name, "version_in_use": system.version_in_use,
        "owner_function": system.owner_function_key, "status": system.status, "intended_use": system.intended_use,
        "personal_data": system.personal_data, "special_categories": system.special_categories,
        "eu_ai_act": system.eu_ai_act, "high_risk_area": system.high_risk_area, "gpai_role": system.gpai_role,
        "risk_tier": system.risk_tier, "created_at": system.created_at, "updated_at": system.updated_at, "version": system.version,
    })


def _system_response(session, system_id: int, status: int = 200, headers: dict | None = None):
    session.expire_all()  # read back what the services wrote
    system = systems.get_system(session, system_id)
    return respond(_system_model(system), status, {"ETag": f'"{system.version}"', **(headers or {})})


def _system_data(values: dict) -> SystemData:
    return SystemData(**{key: values[key] for key in (
        "name", "owner_function", "vendor", "model_name", "status", "intended_use", "personal_data",
        "special_categories", "eu_ai_act", "high_risk_area", "gpai_role", "risk_tier")})


@api.operation("GET", "/systems", summary="List the AI systems of the register", tag="systems",
               scope="systems:read", query=schemas.SystemListQuery, response=schemas.SystemPage)
def list_systems(user, query: schemas.SystemListQuery):
    """Newest first, in pages: pass next_cursor back as cursor until it is null."""
    rows, next_cursor = service.list_systems_after(
        db.session(), SystemFilters(status=query.status or "", owner=query.owner or "", text=query.q or ""),
        query.cursor, query.limit)
    return respond(schemas.SystemPage(systems=[_system_model(s) for s in rows], next_cursor=next_cursor))


@api.operation("POST", "/systems", summary="Add an AI system to the register", tag="systems",
               scope="systems:write", body=schemas.SystemCreate, response=schemas.System, status=201,
               errors=(409, 413, 415),
               response_headers={"Location": "The system's API URL.", "ETag": "The system's version."})
def create_system(user, body: schemas.SystemCreate):
    session = db.session()
    values = body.model_dump()
    system = systems.create_system(session, user, _system_data(values), values["version_in_use"])
    return _system_response(session, system.id, 201, {"Location": url_for("api.get_system", system_id=system.id)})


@api.operation("GET", "/systems/<int:system_id>", summary="One AI system", tag="systems",
               scope="systems:read", response=schemas.System, errors=(404,),
               response_headers={"ETag": "The system's version, for If-Match."})
def get_system(system_id: int, user):
    return _system_response(db.session(), system_id)


@api.operation("PATCH", "/systems/<int:system_id>", summary="Change an AI system or record its new version",
               tag="systems", scope="systems:write", body=schemas.SystemPatch, response=schemas.System,
               errors=(404, 409, 412, 413, 415, 428),
               request_headers={"If-Match": "The system's version (its ETag), e.g. \"3\"."},
               response_headers={"ETag": "The system's new version."})
def update_system(system_id: int, user, body: schemas.SystemPatch):
    """Change the given fields (absent ones are kept); requires If-Match with the system's
    version. A new version_in_use — what a vendor-update pipeline sends — moves every item about
    the system to it in the same transaction: evidence of other versions turns stale, and decided
    items that rested on it need revalidation, each item's timeline naming the system."""
    session = db.session()
    system = systems.get_system(session, system_id)
    expected = _expected_version(system.version, "system", "systems")
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    current = {"name": system.name, "owner_function": system.owner_function_key, "vendor": system.vendor,
               "model_name": system.model_name, "status": system.status, "intended_use": system.intended_use,
               "personal_data": system.personal_data, "special_categories": system.special_categories,
               "eu_ai_act": system.eu_ai_act, "high_risk_area": system.high_risk_area, "gpai_role": system.gpai_role,
               "risk_tier": system.risk_tier}
    try:
        described = {key: value for key, value in changes.items() if key in current and value is not None}
        if described:
            systems.update_system(session, user, system, _system_data(current | described), expected)
            expected = system.version
        if changes.get("version_in_use"):
            if systems.record_version(session, user, system, changes["version_in_use"], changes.get("note") or "",
                                      expected) is not None:
                items.apply_system_version(session, user, system)
    except Conflict as error:
        if error.field == "version":
            raise ApiProblem(412, error.reason) from None
        raise
    return _system_response(session, system_id)


# ------------------------------------------------------------------------------------- evidence
@api.operation("POST", "/items/<int:item_id>/evidence", summary="Attach a model-test result file",
               tag="evidence", scope="evidence:write", query=schemas.EvidenceQuery, body=RAW_BODY,
               response=schemas.EvidenceRun, status=201, errors=(404, 409, 413, 415),
               response_headers={"Location": "The evidence run's API URL."})
@body_limit(evidence_service.body_limit)
@db.locks_itself  # the body is read first (it may be large and arrive slowly), then the lock
def attach_evidence(item_id: int, user, query: schemas.EvidenceQuery):
    """The body is the raw result file (promptfoo, inspect_ai, lm-evaluation-harness JSON,
    JUnit, NUnit 3 or TRX XML, or CSV; any media type), or a multipart form with the field
    `file`. The format is detected from the content unless ?format= names it. Answers with the
    run and its gates."""
    session = db.session()
    item = items.get_item(session, user, item_id)
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise problems.invalid("file", "Required: send the result file in the form field `file`.")
        body, filename, media_type = upload.stream, upload.filename or None, upload.mimetype or None
    else:
        body, filename, media_type = _spooled_body(), None, request.mimetype or None
    with body:
        if not body.seek(0, io.SEEK_END):
            raise problems.invalid("body", "The result file is empty.")
        body.seek(0)
        if "\x00" in (filename or "") + (media_type or ""):
            raise problems.invalid("file", "The file name or media type contains a NUL character.")
        result = hooks.read_evidence(user, item, hooks.Upload(body, filename, media_type, query.format))
        db.lock_for_change()  # only the storing makes other changes wait
        run = hooks.ingest_evidence(session, user, item, result)
    model = schemas.EvidenceRun.model_validate(run)
    return respond(model, 201, {"Location": url_for("api.get_evidence", evidence_id=model.id)})


SPOOL_BYTES = 1024 * 1024


def _spooled_body() -> BinaryIO:
    """The raw request body in a temporary file (in memory up to SPOOL_BYTES, then on disk),
    copied a piece at a time: the evidence service parses, hashes and stores it from there
    without holding it whole. MAX_CONTENT_LENGTH is enforced by the request stream itself."""
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        stream = request.stream  # 413 when the body is over MAX_CONTENT_LENGTH
        while piece := stream.read(SPOOL_BYTES):
            body.write(piece)
    except BaseException:
        body.close()
        raise
    return body


@api.operation("GET", "/evidence/<int:evidence_id>", summary="One evidence run", tag="evidence",
               scope="items:read", response=schemas.EvidenceRun, errors=(404,))
def get_evidence(evidence_id: int, user):
    run = hooks.get_evidence(db.session(), user, evidence_id)
    if run is None:
        raise ApiProblem(404, f"There is no evidence run {evidence_id}.")
    return respond(schemas.EvidenceRun.model_validate(run))


@api.operation("GET", "/evidence/<int:evidence_id>/file", summary="The original result file",
               tag="evidence", scope="items:read", errors=(404,), response_media_type="*/*")
def get_evidence_file(evidence_id: int, user):
    """The bytes exactly as they were posted (their SHA-256 is the run's sha256)."""
    found = hooks.evidence_file(db.session(), user, evidence_id)
    if found is None:
        raise ApiProblem(404, f"There is no evidence run {evidence_id}.")
    if isinstance(found.data, bytes):
        response = current_app.response_class(found.data, mimetype=found.media_type)
    else:  # streamed from the stored pieces
        response = current_app.response_class(wrap_file(request.environ, found.data), mimetype=found.media_type,
                                              direct_passthrough=True)
        response.content_length = found.size
    response.headers.set("Content-Disposition", "attachment", filename=found.filename)
    return response


# ---------------------------------------------------------------------------------------- trail
@api.operation("GET", "/events", summary="Read the decision trail", tag="trail", scope="trail:read",
               query=schemas.EventQuery, response=schemas.EventPage)
def list_events(user, query: schemas.EventQuery):
    """Events in seq order after after_seq, each with every field of the hash rule, so a tool
    can verify the chain itself. Continue with next_after_seq until it is null. For all but
    auditors, the events of other people's draft items are left out (their seqs are missing),
    so only an auditor's token reads a chain that verifies end to end."""
    rows, next_after = service.events_after(db.session(), user, query.after_seq, query.limit)
    return respond(schemas.EventPage(
        events=[schemas.TrailEvent.model_validate(as_link(e)) for e in rows], next_after_seq=next_after,
    ))


# ------------------------------------------------------------------------------------- meetings
@api.operation("GET", "/meetings", summary="List meetings", tag="meetings", scope="items:read",
               query=schemas.MeetingQuery, response=schemas.MeetingPage)
def list_meetings(user, query: schemas.MeetingQuery):
    found, next_cursor = hooks.list_meetings(db.session(), user, query.cursor, query.limit)
    return respond(schemas.MeetingPage(
        meetings=[schemas.Meeting.model_validate(m) for m in found], next_cursor=next_cursor,
    ))


@api.operation("GET", "/meetings/<int:meeting_id>", summary="One meeting with its agenda and decisions",
               tag="meetings", scope="items:read", response=schemas.Meeting, errors=(404,))
def get_meeting(meeting_id: int, user):
    found = hooks.get_meeting(db.session(), user, meeting_id)
    if found is None:
        raise ApiProblem(404, f"There is no meeting {meeting_id}.")
    return respond(schemas.Meeting.model_validate(found))


# ------------------------------------------------------------------------------------- document
@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API (public: it describes, it discloses no data)."""
    return current_app.response_class(api.document().as_json(base_url() + "/"), mimetype="application/json")
