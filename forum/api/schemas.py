"""The API's request and response shapes as pydantic v2 models.

These classes are the single source of truth: the views validate queries and bodies with them,
build every response through them, and forum/api/spec.py generates the OpenAPI document from
them. To publish a new field, add it here.

Request models are strict (no silent coercion of "5" into 5 in JSON bodies) and refuse unknown
fields, so a typo is a 400 naming the field instead of a change that silently did nothing.
Response models ignore keys they do not know, so a hook returning more than the contract does
not break a response; only what is declared here is published.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from forum.items.models import CATEGORIES, STATUSES
from forum.items.service import MAX_EXPOSURE, MAX_SUMMARY, MAX_TITLE
from forum.systems.models import DEPLOYMENT_STATUSES, EU_AI_ACT, GPAI_ROLES, HIGH_RISK_AREAS, RISK_TIERS
from forum.systems.service import MAX_NAME as MAX_SYSTEM_NAME
from forum.systems.service import MAX_NOTE, MAX_USE

# PostgreSQL text cannot hold NUL, and no field ever needs it: every string refuses it.
NO_NUL = r"^[^\x00]*$"
MAX_ID = 2**31 - 1


def Text(max_length: int, min_length: int = 0, pattern: str = NO_NUL):  # noqa: N802 - a type
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern)]


Category = Literal[tuple(CATEGORIES)]  # type: ignore[valid-type]
Status = Literal[tuple(STATUSES)]  # type: ignore[valid-type]
Tier = Literal["tactical", "operational", "strategic"]
Stance = Literal["support", "support_with_conditions", "concerns", "object"]
GateStatus = Literal["pass", "warn", "fail", "not_applicable", "unknown"]
Counting = Literal["cases", "stated", "none"]
Scope = Literal["items:read", "items:write", "evidence:write", "trail:read", "systems:read", "systems:write"]
DeploymentStatus = Literal[tuple(DEPLOYMENT_STATUSES)]  # type: ignore[valid-type]
EuAiAct = Literal[tuple(EU_AI_ACT)]  # type: ignore[valid-type]
HighRiskArea = Literal[tuple(HIGH_RISK_AREAS)]  # type: ignore[valid-type]
GpaiRole = Literal[tuple(GPAI_ROLES)]  # type: ignore[valid-type]
RiskTier = Literal[tuple(RISK_TIERS)]  # type: ignore[valid-type]
SystemId = Annotated[int, Field(ge=1, le=MAX_ID, description="An AI system of the register (GET /systems).")]


class RequestModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class QueryModel(BaseModel):
    """Query strings are text, so numbers are parsed from it (lax), but unknown names refused."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ------------------------------------------------------------------------------------- requests
class ItemCreate(RequestModel):
    """A new decision item; it is filed as a draft of the token's user."""

    title: Text(MAX_TITLE, 1)
    summary: Text(MAX_SUMMARY) = Field("", description="Markdown.")
    category: Category
    function: Text(40, 1) = Field(description="The owning function's key, e.g. procurement.")
    vendor: Text(120) = ""
    model_name: Text(120) = ""
    model_version: Text(80) = ""
    exposure: Annotated[int, Field(ge=0, le=MAX_EXPOSURE)] | None = Field(
        None, description="Financial exposure in whole currency units."
    )
    needed_by: date | None = Field(None, description="The date a decision is needed (not in the past).")
    system: SystemId | None = Field(None, description="The AI system the item is about: its vendor, model and "
                                    "version then replace the three fields above.")


class ItemPatch(RequestModel):
    """The fields to change; absent fields keep their value. ``exposure`` and ``needed_by`` may
    be set to null to clear them. Changing ``model_version`` makes older evidence stale."""

    title: Text(MAX_TITLE, 1) = None  # type: ignore[assignment]
    summary: Text(MAX_SUMMARY) = None  # type: ignore[assignment]
    category: Category = None  # type: ignore[assignment]
    function: Text(40, 1) = None  # type: ignore[assignment]
    vendor: Text(120) = None  # type: ignore[assignment]
    model_name: Text(120) = None  # type: ignore[assignment]
    model_version: Text(80) = None  # type: ignore[assignment]
    exposure: Annotated[int, Field(ge=0, le=MAX_EXPOSURE)] | None = None
    needed_by: date | None = None
    system: SystemId | None = None


class SystemCreate(RequestModel):
    """A new AI system in the register."""

    name: Text(MAX_SYSTEM_NAME, 1)
    owner_function: Text(40, 1) = Field(description="The owning function's key, e.g. product.")
    vendor: Text(120) = ""
    model_name: Text(120) = ""
    version_in_use: Text(80) = ""
    status: DeploymentStatus = "evaluating"
    intended_use: Text(MAX_USE) = ""
    personal_data: bool = False
    special_categories: bool = Field(False, description="Special categories of personal data (implies personal_data).")
    eu_ai_act: EuAiAct = Field("", description="The EU AI Act category; empty while not classified.")
    high_risk_area: HighRiskArea = Field("", description="Where a high-risk system is high-risk (required then).")
    gpai_role: GpaiRole = ""
    risk_tier: RiskTier = ""


class SystemPatch(RequestModel):
    """The fields to change; absent fields keep their value. A new ``version_in_use`` moves every
    item about the system to it in the same transaction (evidence of other versions turns stale,
    decided items that rested on it need revalidation); ``note`` goes with it."""

    name: Text(MAX_SYSTEM_NAME, 1) = None  # type: ignore[assignment]
    owner_function: Text(40, 1) = None  # type: ignore[assignment]
    vendor: Text(120) = None  # type: ignore[assignment]
    model_name: Text(120) = None  # type: ignore[assignment]
    version_in_use: Text(80, 1) = None  # type: ignore[assignment]
    note: Text(MAX_NOTE) = None  # type: ignore[assignment]
    status: DeploymentStatus = None  # type: ignore[assignment]
    intended_use: Text(MAX_USE) = None  # type: ignore[assignment]
    personal_data: bool = None  # type: ignore[assignment]
    special_categories: bool = None  # type: ignore[assignment]
    eu_ai_act: EuAiAct = None  # type: ignore[assignment]
    high_risk_area: HighRiskArea = None  # type: ignore[assignment]
    gpai_role: GpaiRole = None  # type: ignore[assignment]
    risk_tier: RiskTier = None  # type: ignore[assignment]


class SystemListQuery(QueryModel):
    status: DeploymentStatus | None = None
    owner: Text(40) | None = Field(None, description="The owning function's key.")
    q: Text(120) | None = Field(None, description="Text the name, vendor or model contains (any case).")
    cursor: Text(500) | None = Field(None, description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=200)


class ItemListQuery(QueryModel):
    status: Status | None = None
    tier: Tier | None = Field(None, description="Items whose current tier is this one.")
    function: Text(40) | None = None
    category: Category | None = None
    q: Text(200) | None = Field(None, description="Text the title or summary contains (any case).")
    cursor: Text(500) | None = Field(None, description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=200)


class EventQuery(QueryModel):
    after_seq: int = Field(0, ge=0, le=MAX_ID, description="Return events with a larger seq.")
    limit: int = Field(100, ge=1, le=1000)


class MeetingQuery(QueryModel):
    cursor: Text(500) | None = Field(None, description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=200)


class EvidenceQuery(QueryModel):
    format: Text(40, 1, r"^[a-z0-9][a-z0-9_.-]*$") | None = Field(
        None, description="The result file's format when detection should be overridden."
    )


# ------------------------------------------------------------------------------------ responses
class Person(ResponseModel):
    email: str
    name: str


class Position(ResponseModel):
    function: str
    stance: Stance
    rationale: str
    by: str = Field(description="E-mail of the person who took the position.")
    at: datetime


class Rating(ResponseModel):
    function: str
    scores: dict[str, int] = Field(description="Rubric criterion -> score 0..3.")
    total: int
    tier: Tier


class Gate(ResponseModel):
    name: str
    status: GateStatus = Field(description=(
        "pass, warn or fail; not_applicable when there is nothing to judge (no earlier run to regress "
        "from, no edge cases to rate); unknown when the file does not let the gate be computed (no "
        "case-level results, no run time). An unknown gate is not a passing one."))
    detail: str


class EvidenceRun(ResponseModel):
    id: int
    item_id: int | None = None
    format: str
    suite: str
    model: str
    model_version: str
    run_at: datetime | None = Field(description="When the test ran, as the file states it; null when it "
                                    "does not (the freshness gate is then unknown).")
    counting: Counting = Field(description=(
        "Where the counts come from: cases (one record per case in the file), stated (no per-case "
        "records; the file states exact counts), none (nothing countable: headline metrics only, "
        "the counts are 0 and pass_rate is null)."))
    total: int
    passed: int
    failed: int
    errored: int
    skipped: int
    pass_rate: float | None
    metrics: dict[str, float | None] = Field({}, description="Headline metrics as the file states them "
                                             "(BLEU, F1, accuracy …), by name.")
    edge_total: int
    edge_passed: int
    edge_pass_rate: float | None
    sha256: str
    gates: list[Gate] = []


class Item(ResponseModel):
    id: int
    url: str = Field(description="The item's page.")
    title: str
    summary: str
    status: Status
    category: Category
    function: str
    vendor: str
    model_name: str
    model_version: str
    exposure: int | None
    needed_by: date | None
    filer: Person
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Send it back in If-Match to change the item.")
    system: int | None = Field(None, description="The AI system of the register the item is about.")
    tier: Tier | None = Field(None, description="The highest tier any current rating gives; null before any rating.")
    divergence: bool = Field(False, description="Functions' tiers differ by a full tier or more.")
    flags: list[str] = Field([], description=(
        "escalation_recommended, weight_divergence, revalidation_required, evidence_incomplete (some "
        "gate of a current evidence run cannot be computed from its file)."))
    escalation_reasons: list[str] = []
    positions: list[Position] = []
    ratings: list[Rating] = []
    evidence: list[EvidenceRun] = Field([], description="The latest run per suite, with its gates.")


class ItemPage(ResponseModel):
    items: list[Item]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")


class System(ResponseModel):
    id: int
    url: str = Field(description="The system's page.")
    name: str
    vendor: str
    model_name: str
    version_in_use: str
    owner_function: str
    status: DeploymentStatus
    intended_use: str
    personal_data: bool
    special_categories: bool
    eu_ai_act: EuAiAct
    high_risk_area: HighRiskArea
    gpai_role: GpaiRole
    risk_tier: RiskTier
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Send it back in If-Match to change the system.")


class SystemPage(ResponseModel):
    systems: list[System]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")


class TrailEvent(ResponseModel):
    """One link of the decision trail, with every field of the hash rule."""

    seq: int
    at: str = Field(description="UTC, ISO 8601 with microseconds and Z.")
    actor: str
    kind: str
    subject: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


class EventPage(ResponseModel):
    events: list[TrailEvent]
    next_after_seq: int | None = Field(description="Pass as after_seq for more; null at the end.")


class Action(ResponseModel):
    text: str
    owner: str
    due: date | None
    done: bool


class Decision(ResponseModel):
    outcome: str
    rationale: str
    conditions: str
    deciders: list[str]
    recused: list[str]
    actions: list[Action] = []


class AgendaEntry(ResponseModel):
    item_id: int
    order: int
    time_box_minutes: int | None
    presenter: str | None
    decision: Decision | None = None


class Meeting(ResponseModel):
    id: int
    title: str
    status: str
    starts_at: datetime | None
    entries: list[AgendaEntry] = []


class MeetingPage(ResponseModel):
    meetings: list[Meeting]
    next_cursor: str | None


class FieldError(ResponseModel):
    field: str
    reason: str


class Problem(ResponseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="A URI reference naming the kind of problem.")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="For invalid input: each field at fault and why.")
