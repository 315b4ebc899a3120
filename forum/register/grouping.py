"""Bringing the items filed before the register into it: the items that name a model as free
text, grouped by vendor and model (any case, spaces around ignored), each group proposed for a
system of the register with the same model, or for a new one; an administrator confirms each
group, and every item of it is linked (forum.items.service.link_system: one ``item.updated``
event each, the item taking the system's vendor, model and version).

Drafts stay with their filers (only they see them) and closed items keep the model they were
decided on; neither is proposed. A group links at most LINK_BATCH items per confirmation, so one
request does bounded work; a larger group stays proposed with the rest.

The groups are counted as items change (``count_changes``, in the change's transaction: an item
filed, edited, linked, decided or closed moves its group's counts), into ``register_groups``, so
that the page reads its page of groups whatever the number of items still to group; the newest
and oldest item of each shown group come from an index on the grouped vendor and model (migration
a3b4c5d6e7f8). ``recount`` counts them again from the items (after a bulk load).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, bindparam, case, delete, event, func, insert, inspect, select, update
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core.db import lock_for_change
from forum.core.derived import cached
from forum.core.errors import Conflict, PermissionDenied, ValidationError
from forum.core.policy import Action, allows
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.register.models import GroupCount
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
    """A page of groups, the largest first, and how many groups there are: the groups with the
    newest and oldest item of each (one statement over the kept counts, an index probe per
    group shown; kept in the derived cache until an item changes: a comment, or a result file
    for an item in the register, leaves it in place), then those items and the systems with
    their models (two more)."""
    table = GroupCount.__table__

    def locate() -> list[tuple]:
        shown = (select(table, func.count().over().label("groups")).where(table.c["items"] > 0)
                 .order_by(table.c["items"].desc(), table.c.model_key, table.c.vendor_key)
                 .limit(GROUPS_SHOWN).offset((max(page, 1) - 1) * GROUPS_SHOWN).subquery())
        # The group's keys compared as plain text (``|| ''``): SQLite looks an expression index
        # up only by values of no affinity, and a column's has one (without it, each probe read
        # every item outside the register).
        keys = (_VENDOR == shown.c.vendor_key.concat(""), _MODEL == shown.c.model_key.concat(""))

        def edge(order) -> object:
            return select(DecisionItem.id).where(_unlinked(), *keys).order_by(order).limit(1).scalar_subquery()

        rows = session.execute(
            select(shown.c.vendor_key, shown.c.model_key, shown.c["items"], shown.c.decided,
                   edge(DecisionItem.id.desc()), edge(DecisionItem.id.asc()), shown.c.groups)
            .order_by(shown.c["items"].desc(), shown.c.model_key, shown.c.vendor_key))
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


# ------------------------------------------------------------------ the groups' counts, kept
#: An item's columns that decide whether it waits to be grouped, and in which group.
_WATCHED = ("vendor", "model_name", "status", "system_id")
_BEFORE = "forum.register.groups before the flush"
# The group of each of the items ``ids`` that waits to be grouped, keyed by the database's own
# lower() and trim() (those of the page's and the confirmation's statements), and whether it is
# decided.
_MEMBERS = (select(_VENDOR, _MODEL, case((DecisionItem.status == "decided", 1), else_=0))
            .where(DecisionItem.id.in_(bindparam("ids", expanding=True)), _unlinked()))
_GROUPS = GroupCount.__table__
_KEY = and_(_GROUPS.c.vendor_key == bindparam("vendor"), _GROUPS.c.model_key == bindparam("model"))
_ADD = update(_GROUPS).where(_KEY).values(items=_GROUPS.c["items"] + bindparam("items"),
                                         decided=_GROUPS.c.decided + bindparam("decided"))
_NEW = insert(_GROUPS).values(vendor_key=bindparam("vendor"), model_key=bindparam("model"),
                              items=bindparam("items"), decided=bindparam("decided"))
_EMPTIED = delete(_GROUPS).where(_KEY, _GROUPS.c["items"] <= 0)


def _moved(session: Session) -> set[int]:
    """The items of the flush whose group may change: changed in a watched column, or removed."""
    ids = {obj.id for obj in session.deleted if isinstance(obj, DecisionItem)}
    for obj in session.dirty:
        if isinstance(obj, DecisionItem):
            attrs = inspect(obj).attrs
            if any(getattr(attrs, name).history.has_changes() for name in _WATCHED):
                ids.add(obj.id)
    return ids


def _members(connection: Connection, ids: set[int]) -> tuple[Counter, Counter]:
    items: Counter = Counter()
    decided: Counter = Counter()
    if ids:
        for vendor, model, is_decided in connection.execute(_MEMBERS, {"ids": sorted(ids)}):
            items[(vendor, model)] += 1
            decided[(vendor, model)] += is_decided
    return items, decided


def _before_flush(session: Session, _flush_context, _instances) -> None:
    session.info[_BEFORE] = _members(session.connection(), _moved(session))


def count_changes(session: Session, _flush_context) -> None:
    """After each flush: the groups of the items it filed, changed in a watched column or
    removed, as the database holds them before the flush and after, and the difference added to
    their counts. Changes to items are made under the write lock (one at a time), so the
    update-else-insert cannot race another change."""
    before_items, before_decided = session.info.pop(_BEFORE, (Counter(), Counter()))
    connection = session.connection()
    moved = _moved(session) | {obj.id for obj in session.new if isinstance(obj, DecisionItem)}
    items, decided = _members(connection, moved)
    items.subtract(before_items)
    decided.subtract(before_decided)
    for (vendor, model) in sorted(set(items) | set(decided)):
        values = {"vendor": vendor, "model": model, "items": items[(vendor, model)],
                  "decided": decided[(vendor, model)]}
        if not (values["items"] or values["decided"]):
            continue
        if not connection.execute(_ADD, values).rowcount:
            connection.execute(_NEW, values)
        if values["items"] < 0:
            connection.execute(_EMPTIED, values)


def listen(factory) -> None:
    """Keep the groups' counts as items change in the sessions of ``factory``."""
    event.listen(factory, "before_flush", _before_flush)
    event.listen(factory, "after_flush", count_changes)


# Every group counted from the items: (vendor key, model key, items, decided).
_COUNTED = (select(_VENDOR, _MODEL, func.count(), func.sum(case((DecisionItem.status == "decided", 1), else_=0)))
            .where(_unlinked()).group_by(_VENDOR, _MODEL))


def counted(session: Session) -> list[tuple]:
    """Every group (vendor key, model key, items, decided) counted from the items, in order."""
    return [tuple(row) for row in session.execute(_COUNTED.order_by(_MODEL, _VENDOR))]


def kept(session: Session) -> list[tuple]:
    """Every group as kept (vendor key, model key, items, decided), in the order of ``counted``."""
    return [tuple(row) for row in session.execute(
        select(_GROUPS.c.vendor_key, _GROUPS.c.model_key, _GROUPS.c["items"], _GROUPS.c.decided)
        .where(_GROUPS.c["items"] > 0).order_by(_GROUPS.c.model_key, _GROUPS.c.vendor_key))]


def recount(session: Session) -> int:
    """Count every group again from the items, under the write lock (after a bulk load, which
    bypasses the flush, or a restore); returns how many groups there are. The caller commits."""
    lock_for_change(session)
    session.execute(delete(_GROUPS))
    session.execute(insert(_GROUPS).from_select(["vendor_key", "model_key", "items", "decided"], _COUNTED))
    return session.scalar(select(func.count()).select_from(_GROUPS)) or 0


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
