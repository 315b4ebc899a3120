"""Bringing the items filed before the register into it: the items that name a model as free
text, grouped by vendor and model (any case, spaces around ignored), each group proposed for a
system of the register with the same model, or for a new one; an administrator confirms each
group, and every item of it is linked (forum.items.service.link_system: one ``item.updated``
event each, the item taking the system's vendor, model and version).

Drafts stay with their filers (only they see them) and closed items keep the model they were
decided on; neither is proposed. A group links at most LINK_BATCH items per confirmation, so one
request does bounded work; a larger group stays proposed with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core.derived import cached
from forum.core.errors import Conflict, PermissionDenied, ValidationError
from forum.core.policy import Action, allows
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.systems import service as systems
from forum.systems.models import AISystem

GROUPS_SHOWN = 10  # each group is a form of its own
LINK_BATCH = 500
LEFT_OUT = ("draft", "closed")

# The groups read only items outside the register, which no change confined to one system's
# scope writes (forum.core.derived ``scope``): a result file for an item in the register leaves
# them in place.
SCOPE = ()

_VENDOR = func.lower(func.trim(DecisionItem.vendor))
_MODEL = func.lower(func.trim(DecisionItem.model_name))


@dataclass
class Proposal:
    vendor: str  # the key: lower case, trimmed
    model: str
    vendor_label: str  # as the newest item spells it
    model_label: str
    newest_version: str
    items: int
    decided: int
    examples: list[DecisionItem] = field(default_factory=list)  # the newest and the oldest
    matches: list[AISystem] = field(default_factory=list)  # systems of the register with this model
    owner_hint: str = ""  # the function that filed the newest item

    @property
    def suggested_name(self) -> str:
        return " ".join(part for part in (self.vendor_label, self.model_label) if part)[:systems.MAX_NAME]


def may_group(actor: User | None) -> bool:
    return allows(actor, Action.ADMINISTER)


def _unlinked():
    return and_(DecisionItem.system_id.is_(None), DecisionItem.status.not_in(LEFT_OUT),
                func.trim(DecisionItem.model_name) != "")


def waiting(session: Session) -> bool:
    """Whether some item could join the register (one statement that stops at the first): for
    the administrators' home page."""
    return session.scalar(select(DecisionItem.id).where(_unlinked()).limit(1)) is not None


def proposals(session: Session, page: int = 1) -> tuple[list[Proposal], int]:
    """A page of groups, the largest first, and how many groups there are: the groups (one
    statement that reads every item still to group — 50 ms for 30,000 of them — kept in the
    derived cache until an item changes: a comment, or a result file for an item in the
    register, leaves it in place), then the newest and oldest item of each and the systems with
    their models (two more)."""

    def locate() -> list[tuple]:
        rows = session.execute(
            select(_VENDOR, _MODEL, func.count(), func.sum(case((DecisionItem.status == "decided", 1), else_=0)),
                   func.max(DecisionItem.id), func.min(DecisionItem.id), func.count().over())
            .where(_unlinked()).group_by(_VENDOR, _MODEL)
            .order_by(func.count().desc(), _MODEL, _VENDOR)
            .limit(GROUPS_SHOWN).offset((max(page, 1) - 1) * GROUPS_SHOWN))
        return [tuple(row) for row in rows]

    rows = cached(session, ("grouping", page), locate, scope=SCOPE)
    if not rows:
        return [], 0
    wanted = {r[4] for r in rows} | {r[5] for r in rows}
    by_id = {item.id: item for item in session.scalars(select(DecisionItem).where(DecisionItem.id.in_(wanted)))}
    models = {r[1] for r in rows}
    systems_by_model: dict[str, list[AISystem]] = {}
    for system in session.scalars(select(AISystem).where(
            func.lower(func.trim(AISystem.model_name)).in_(models), AISystem.status != "retired")
            .order_by(func.lower(AISystem.name))):
        systems_by_model.setdefault(system.model_name.strip().lower(), []).append(system)
    found = []
    for vendor, model, count, decided, newest_id, oldest_id, _ in rows:
        newest, oldest = by_id.get(newest_id), by_id.get(oldest_id)
        if newest is None or oldest is None:  # linked since the groups were read: they show next time
            continue
        matches = [s for s in systems_by_model.get(model, [])
                   if not vendor or not s.vendor.strip() or s.vendor.strip().lower() == vendor]
        found.append(Proposal(
            vendor, model, newest.vendor.strip(), newest.model_name.strip(), newest.model_version, count,
            int(decided or 0), [newest] if newest is oldest else [newest, oldest], matches, newest.function_key))
    return found, rows[0][6]


@dataclass
class Outcome:
    system: AISystem
    created: bool
    linked: int
    left: int  # items of the group still to link (a group larger than LINK_BATCH)


def confirm(session: Session, actor: User, vendor: str, model: str, system_id: int | None = None, *,
            name: str = "", owner_function: str = "", status: str = "evaluating") -> Outcome:
    """Link the group (vendor, model) to system ``system_id``, or (None) to a new system named
    ``name`` with the vendor, model and version of the group's newest item; one transaction (the
    caller's)."""
    if not may_group(actor):
        raise PermissionDenied("Only administrators group the existing items into the register.")
    vendor, model = (vendor or "").strip().lower(), (model or "").strip().lower()
    if not model:
        raise ValidationError("The group names no model.", "model")
    members = (select(DecisionItem).where(_unlinked(), _VENDOR == vendor, _MODEL == model)
               .order_by(DecisionItem.created_at.desc(), DecisionItem.id.desc()))
    group = list(session.scalars(members.limit(LINK_BATCH + 1)))
    if not group:
        raise Conflict("No item of this group is left to link: someone linked them meanwhile.", "target")
    created = False
    if system_id is not None:
        system = session.get(AISystem, system_id)
        if system is None or system.status == "retired" or system.model_name.strip().lower() != model:
            raise ValidationError("Choose a system of the register with this model, or a new one.", "target")
    else:
        newest = group[0]
        system = systems.create_system(session, actor, systems.SystemData(
            name=name, owner_function=owner_function, vendor=newest.vendor.strip(),
            model_name=newest.model_name.strip(), status=status), newest.model_version or "")
        created = True
    for item in group[:LINK_BATCH]:
        items.link_system(session, actor, item, system)
    left = 0
    if len(group) > LINK_BATCH:
        left = session.scalar(select(func.count()).select_from(DecisionItem).where(
            _unlinked(), _VENDOR == vendor, _MODEL == model)) or 0
    return Outcome(system, created, min(len(group), LINK_BATCH), left)
