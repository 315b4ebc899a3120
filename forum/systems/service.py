"""The rules of the register: creating and changing AI systems, recording a new version.

Every change is one trail event (``system.created``, ``system.updated``,
``system.version_recorded``) with before/after; a refused change writes nothing. What a new
version means for the items about the system is forum.items.service.apply_system_version's
business (the register's pages and the API call both in one transaction).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from forum.auth.models import OrgFunction, User
from forum.core import clock
from forum.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.core.paging import Page, paginate_rows
from forum.core.policy import Action, allows
from forum.systems.models import (
    DEPLOYMENT_STATUSES,
    EU_AI_ACT,
    GPAI_ROLES,
    HIGH_RISK_AREAS,
    RISK_TIERS,
    AISystem,
    SystemVersion,
)
from forum.trail.models import Event
from forum.trail.service import record

MAX_NAME = 120
MAX_USE = 2000
MAX_NOTE = 500
FIELDS = ("name", "vendor", "model_name", "owner_function", "status", "intended_use", "personal_data",
          "special_categories", "eu_ai_act", "high_risk_area", "gpai_role", "risk_tier")


@dataclass
class SystemData:
    name: str
    owner_function: str
    vendor: str = ""
    model_name: str = ""
    status: str = "evaluating"
    intended_use: str = ""
    personal_data: bool = False
    special_categories: bool = False
    eu_ai_act: str = ""
    high_risk_area: str = ""
    gpai_role: str = ""
    risk_tier: str = ""


@dataclass
class SystemFilters:
    status: str = ""
    owner: str = ""
    text: str = ""
    classification: str = ""  # an EU AI Act category, or "unclassified"


def may_change(actor: User | None) -> bool:
    """Staff and executives keep the register (those who file the items about the systems)."""
    return allows(actor, Action.FILE)


def _require(actor: User | None) -> None:
    if not may_change(actor):
        raise PermissionDenied("Only staff and executives keep the register of AI systems.")


def _clean(session: Session, data: SystemData, system: AISystem | None = None) -> dict:
    name = (data.name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationError(f"Give the system a name of 1–{MAX_NAME} characters.", "name")
    taken = session.scalar(select(AISystem.id).where(func.lower(AISystem.name) == name.lower()))
    if taken is not None and (system is None or taken != system.id):
        raise Conflict(f"The register already has a system named {name!r}: pick it instead.", "name")
    values = {"name": name}
    for field, limit in (("vendor", 120), ("model_name", 120)):
        value = (getattr(data, field) or "").strip()
        if len(value) > limit:
            raise ValidationError(f"At most {limit} characters.", field)
        values[field] = value
    if data.status not in DEPLOYMENT_STATUSES:
        raise ValidationError(f"Choose a deployment status: {', '.join(DEPLOYMENT_STATUSES.values())}.", "status")
    values["status"] = data.status
    owner = (data.owner_function or "").strip()
    if not owner or session.get(OrgFunction, owner) is None:
        raise ValidationError("Choose the function that owns the system"
                              + (f" ({owner[:40]!r} is not one of the functions)." if owner else "."), "owner_function")
    values["owner_function_key"] = owner
    use = (data.intended_use or "").strip()
    if len(use) > MAX_USE:
        raise ValidationError(f"Describe the intended use in at most {MAX_USE} characters.", "intended_use")
    values["intended_use"] = use
    values["personal_data"] = bool(data.personal_data or data.special_categories)
    values["special_categories"] = bool(data.special_categories)
    for field, known, what in (("eu_ai_act", EU_AI_ACT, "EU AI Act category"), ("gpai_role", GPAI_ROLES, "role"),
                               ("risk_tier", RISK_TIERS, "internal risk tier"),
                               ("high_risk_area", HIGH_RISK_AREAS, "high-risk area")):
        value = (getattr(data, field) or "").strip()
        if value not in known:
            raise ValidationError(f"Unknown {what} {value[:40]!r}; choose one of: "
                                  f"{', '.join(k for k in known if k)}.", field)
        values[field] = value
    if values["eu_ai_act"] == "high_risk" and not values["high_risk_area"]:
        raise ValidationError("Say where the system is high-risk: an area of Annex III, or a product's "
                              "safety component.", "high_risk_area")
    if values["eu_ai_act"] != "high_risk":
        values["high_risk_area"] = ""  # only high-risk systems have one
    return values


def _clean_version(version: str) -> str:
    version = (version or "").strip()
    if not version:
        raise ValidationError("Give the version now in use.", "version_in_use")
    if len(version) > 80:
        raise ValidationError("At most 80 characters.", "version_in_use")
    return version


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict("Someone else changed this system at the same moment. Reload it and try again.",
                       "version") from exc


def _check_version(system: AISystem, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != system.version:
        raise Conflict(f"Someone else changed this system while you were working on it (you had version "
                       f"{expected_version}, it is now at version {system.version}). Reload it and try again.",
                       "version")


def event_data(system) -> dict:
    """What ``system.created`` records of a system (an AISystem, or a row of the scale seed)."""
    return {"name": system.name, "vendor": system.vendor, "model_name": system.model_name,
            "version_in_use": system.version_in_use, "owner_function": system.owner_function_key,
            "status": system.status, "intended_use": system.intended_use,
            "personal_data": system.personal_data, "special_categories": system.special_categories,
            "eu_ai_act": system.eu_ai_act, "high_risk_area": system.high_risk_area, "gpai_role": system.gpai_role,
            "risk_tier": system.risk_tier}


def create_system(session: Session, actor: User, data: SystemData, version: str = "") -> AISystem:
    if not allows(actor, Action.ADMINISTER):  # administrators add systems when they group items
        _require(actor)
    values = _clean(session, data)
    version = _clean_version(version) if (version or "").strip() else ""
    now = clock.now()
    system = AISystem(**values, version_in_use=version, created_at=now, updated_at=now)
    session.add(system)
    _flush(session)
    if version:
        session.add(SystemVersion(system_id=system.id, version=version, recorded_at=now, recorded_by=actor.email))
        session.flush()
    record(session, actor, "system.created", system.subject, event_data(system))
    return system


def update_system(session: Session, actor: User, system: AISystem, data: SystemData,
                  expected_version: int | None) -> dict:
    """Change what the register says of the system (not its version: ``record_version``);
    returns the changes, empty when none."""
    _require(actor)
    _check_version(system, expected_version)
    values = _clean(session, data, system)
    changes = {}
    for key, after in values.items():
        before = getattr(system, key)
        if before != after:
            changes["owner_function" if key == "owner_function_key" else key] = {"before": before, "after": after}
            setattr(system, key, after)
    if not changes:
        return {}
    system.updated_at = clock.now()
    _flush(session)
    session.expire(system, ["owner_function"])
    record(session, actor, "system.updated", system.subject, {"name": system.name, "changes": changes})
    return changes


def record_version(session: Session, actor: User, system: AISystem, version: str, note: str = "",
                   expected_version: int | None = None) -> str | None:
    """The system now runs ``version``: kept in its history, on the trail. Returns the version
    before, or None when nothing changed (the same version again)."""
    _require(actor)
    _check_version(system, expected_version)
    version = _clean_version(version)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(f"Keep the note to {MAX_NOTE} characters.", "note")
    if version == system.version_in_use:
        return None
    before = system.version_in_use
    now = clock.now()
    system.version_in_use, system.updated_at = version, now
    _flush(session)
    session.add(SystemVersion(system_id=system.id, version=version, recorded_at=now, recorded_by=actor.email,
                              note=note))
    session.flush()
    record(session, actor, "system.version_recorded", system.subject,
           {"name": system.name, "version_in_use": {"before": before, "after": version}, "note": note})
    return before


_CONFINED_CHANGE = update(AISystem).where(AISystem.id == bindparam("system")).values(changed_seq=bindparam("seq"))


def record_confined(session: Session, actor: User, kind: str, subject: str, data: dict, system_id: int) -> Event:
    """Record a change that wrote only rows of system ``system_id``'s scope — a result file for
    one of its items: read by that system's page, by no other system's and not by the items
    still to group (forum.trail.service.record ``confined``) — and move the system's own
    counter (``changed_seq``, one UPDATE that leaves its optimistic lock alone): the system's
    kept page is computed again, the others' stay (forum.core.derived ``scope``)."""
    event = record(session, actor, kind, subject, data, confined=True)
    session.execute(_CONFINED_CHANGE, {"system": system_id, "seq": event.seq})
    return event


def get_system(session: Session, system_id: int) -> AISystem:
    system = session.get(AISystem, system_id)
    if system is None:
        raise NotFound(f"There is no AI system {system_id} in the register.")
    return system


def conditions(filters: SystemFilters) -> list:
    """The SQL conditions on AISystem of the register's filters (the list and its export)."""
    found = []
    if filters.classification:
        category = "" if filters.classification == "unclassified" else filters.classification
        if category not in EU_AI_ACT:
            raise ValidationError(f"Unknown classification {filters.classification!r}.", "classification")
        found.append(AISystem.eu_ai_act == category)
    if filters.status:
        if filters.status not in DEPLOYMENT_STATUSES:
            raise ValidationError(f"Unknown status {filters.status!r}.", "status")
        found.append(AISystem.status == filters.status)
    if filters.owner:
        found.append(AISystem.owner_function_key == filters.owner)
    if filters.text:
        text = filters.text.strip()
        found.append(AISystem.name.icontains(text, autoescape=True)
                     | AISystem.vendor.icontains(text, autoescape=True)
                     | AISystem.model_name.icontains(text, autoescape=True))
    return found


def list_systems(session: Session, filters: SystemFilters, page: int = 1, per_page: int = 25,
                 extra: tuple = (), cache_key: Hashable | None = None, load_rows: bool = True) -> Page:
    """A page of the register by name. ``extra``: further SQL conditions on AISystem from the
    areas above (the register's "decisions to revalidate", "obligations unmet"); ``cache_key``,
    naming the filters and ``extra``, keeps the page's ids in the derived cache until the trail
    moves (forum.core.paging.paginate_rows); ``load_rows=False``: the ids only."""
    return paginate_rows(session, AISystem, [*conditions(filters), *extra], (func.lower(AISystem.name), AISystem.id),
                         page, per_page, cache_key=cache_key, load_rows=load_rows)


def all_systems(session: Session) -> list[AISystem]:
    """Every system not retired, by name: the choices of the item form."""
    return list(session.scalars(select(AISystem).where(AISystem.status != "retired")
                                .order_by(func.lower(AISystem.name))))
