"""Rules of decision items: filing, editing, the lifecycle's transition table, and reading.

Services take the session and the acting user, add and flush, and never commit: the request or
CLI command commits once. Each change appends exactly one trail event; a refused change writes
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, case, cast, exists, func, literal, not_, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from forum.auth.models import OrgFunction, User
from forum.core import clock
from forum.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.core.paging import Page, paginate_rows
from forum.core.policy import Action, allows
from forum.core.signals import app_answer, signals
from forum.items import events
from forum.items.models import CATEGORIES, STATUSES, DecisionItem
from forum.systems.models import AISystem
from forum.trail.service import record

MAX_TITLE = 200
MAX_SUMMARY = 20_000
MAX_EXPOSURE = 10**15
EDITABLE_STATUSES = ("draft", "open")
#: After escalation the item's proposal is frozen, but the model under decision can still be
#: updated by its vendor: recording the new version is how evidence of the old one turns stale.
MODEL_UPDATE_STATUSES = ("escalated", "scheduled", "decided", "closed")
#: What a row of the item lists shows besides the item: who filed it, and its function.
ROW_LOADS = (joinedload(DecisionItem.filer), joinedload(DecisionItem.function))


# ---------------------------------------------------------------------------------------------
# The lifecycle (docs/architecture.md): the one table of allowed transitions.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    moves: dict[str, str]  # from status -> to status
    by: str  # "filer", "member" (staff or executive), "executive" or "system"


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("submit", "Submit to the forum", {"draft": "open"}, "filer"),
        Transition("withdraw", "Withdraw", {"open": "draft", "escalated": "open"}, "filer"),
        Transition("escalate", "Escalate", {"open": "escalated"}, "member"),
        Transition("schedule", "Schedule", {"escalated": "scheduled"}, "executive"),
        Transition("unschedule", "Take off the agenda", {"scheduled": "escalated"}, "executive"),
        Transition("decide", "Record decision", {"scheduled": "decided"}, "executive"),
        Transition("defer", "Defer", {"scheduled": "escalated"}, "executive"),
        Transition("close", "Close", {"decided": "closed"}, "executive"),
        # The forum closes a decided item itself when its last follow-up action is done by
        # someone who is not an executive (forum.agenda.actions.complete_action).
        Transition("conclude", "Close: all follow-up actions done", {"decided": "closed"}, "system"),
        Transition(
            "revalidate", "Require revalidation", {"decided": "escalated", "closed": "escalated"},
            "system",
        ),
    )
}


#: What a move does to ``DecisionItem.carried_forward``: a meeting that sends the item back marks
#: it carried forward to the next; one that settles it clears the mark. No other move changes what
#: the last meeting did (taken off an agenda, withdrawn and escalated again: still carried).
CARRIES = {"defer": True, "decide": False}


def allowed_actions(status: str) -> list[str]:
    return [t.action for t in TRANSITIONS.values() if status in t.moves]


def may_perform(actor: User | None, item: DecisionItem, transition: Transition) -> bool:
    if actor is None:
        return transition.by == "system"
    if transition.by == "filer":
        return allows(actor, Action.FILE) and item.filer_id == actor.id
    if transition.by == "member":
        return allows(actor, Action.TAKE_PART)
    if transition.by == "executive":
        return allows(actor, Action.MANAGE_AGENDA)
    return False


def available_transitions(actor: User, item: DecisionItem) -> list[Transition]:
    """The transitions this user may apply to the item now (for the buttons on its page)."""
    return [
        TRANSITIONS[a] for a in allowed_actions(item.status)
        if TRANSITIONS[a].by in ("filer", "member") and may_perform(actor, item, TRANSITIONS[a])
    ]


# ---------------------------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------------------------
# Drafts are the filer's work in progress: visible to the filer and to auditors only. The rule in
# Python (one item) and in SQL (lists, home pages, the API); the search index applies the same
# rule in its own SQL text.
def can_view(viewer: User, item: DecisionItem) -> bool:
    return item.status != "draft" or item.filer_id == viewer.id or allows(viewer, Action.READ_DRAFTS)


def visible_to(viewer: User, items=DecisionItem) -> list[ColumnElement[bool]]:
    """``can_view`` as SQL conditions on DecisionItem, or on ``items``, an alias of it (none for
    those who read drafts)."""
    if allows(viewer, Action.READ_DRAFTS):
        return []
    return [(items.status != "draft") | (items.filer_id == viewer.id)]


def visibility_facet(viewer: User | None) -> int | None:
    """What of ``viewer`` decides which items they see (``can_view``), for keying what is kept
    per viewer: None for those who see every item (and for no viewer), else their id — everyone
    else sees the same items but for their own drafts."""
    return None if viewer is None or allows(viewer, Action.READ_DRAFTS) else viewer.id


def hidden_subject(viewer: User, subject: ColumnElement[str]) -> ColumnElement[bool] | None:
    """SQL: ``subject`` (a trail subject, ``item:N``) names an item ``viewer`` may not see by
    ``visible_to``; None for those who see every item. Only drafts are ever hidden. The item is
    looked up by the id in the subject (a primary-key read per event the query walks), not by
    gathering every hidden draft first: a page of the trail reads its fifty events, whatever the
    number of drafts (6.4 → 0.03 ms on SQLite, 17.6 → 0.5 ms on PostgreSQL, 4,000 drafts)."""
    conditions = visible_to(viewer)
    if not conditions:
        return None
    item_id = case((subject.like("item:%"), cast(func.substr(subject, 6), Integer)), else_=None)
    return exists().where(DecisionItem.id == item_id, DecisionItem.status == "draft", not_(and_(*conditions)))


def can_edit(actor: User, item: DecisionItem) -> bool:
    return allows(actor, Action.FILE) and item.filer_id == actor.id and item.status in EDITABLE_STATUSES


# ---------------------------------------------------------------------------------------------
# Filing and editing
# ---------------------------------------------------------------------------------------------
@dataclass
class ItemData:
    title: str
    category: str
    function: str
    summary: str = ""
    vendor: str = ""
    model_name: str = ""
    model_version: str = ""
    system: int | None = None  # an AI system of the register: its vendor, model and version win
    exposure: int | None = None
    needed_by: date | None = None


_FIELD_NAMES = [f.name for f in fields(ItemData)]
# ItemData field -> DecisionItem attribute
_ATTRIBUTE = {name: name for name in _FIELD_NAMES} | {"function": "function_key", "system": "system_id"}


def current_values(item: DecisionItem) -> dict:
    """The item's values as ItemData fields: what an edit starts from."""
    return {name: getattr(item, _ATTRIBUTE[name]) for name in _FIELD_NAMES}


def _clean(session: Session, data: ItemData, current: DecisionItem | None = None) -> dict:
    """Validate and normalise input; raise ValidationError(reason, field) on the first fault."""
    title = (data.title or "").strip()
    if not title:
        raise ValidationError("Give the item a title.", "title")
    if len(title) > MAX_TITLE:
        raise ValidationError(f"The title is {len(title)} characters long; the limit is {MAX_TITLE}.", "title")
    summary = (data.summary or "").strip()
    if len(summary) > MAX_SUMMARY:
        raise ValidationError(
            f"The summary is {len(summary)} characters long; the limit is {MAX_SUMMARY}.", "summary"
        )
    if data.category not in CATEGORIES:
        raise ValidationError(
            f"Unknown category {data.category!r}; choose one of: {', '.join(CATEGORIES)}.", "category"
        )
    if not data.function or session.get(OrgFunction, data.function) is None:
        raise ValidationError(f"Unknown function {data.function!r}.", "function")
    texts = {}
    for name, limit in (("vendor", 120), ("model_name", 120), ("model_version", 80)):
        value = (getattr(data, name) or "").strip()
        if len(value) > limit:
            raise ValidationError(f"At most {limit} characters.", name)
        texts[name] = value
    system_id = data.system
    if system_id is not None:
        system = session.get(AISystem, system_id) if isinstance(system_id, int) else None
        unchanged = current is not None and current.system_id == system_id
        if system is None or (system.status == "retired" and not unchanged):
            raise ValidationError("Choose an AI system of the register (retired ones cannot be chosen).", "system")
        texts = {"vendor": system.vendor, "model_name": system.model_name, "model_version": system.version_in_use}
    exposure = data.exposure
    if exposure is not None:
        if isinstance(exposure, bool) or not isinstance(exposure, int):
            raise ValidationError("Give the exposure as a whole number.", "exposure")
        if exposure < 0:
            raise ValidationError("The exposure cannot be negative.", "exposure")
        if exposure > MAX_EXPOSURE:
            raise ValidationError("The exposure is implausibly large.", "exposure")
    needed_by = data.needed_by
    if needed_by is not None:
        unchanged = current is not None and current.needed_by == needed_by
        if not unchanged and needed_by < clock.now().date():
            raise ValidationError("The needed-by date is in the past.", "needed_by")
    return {
        "title": title, "summary": summary, "category": data.category, "function_key": data.function,
        **texts, "system_id": system_id, "exposure": exposure, "needed_by": needed_by,
    }


def create_item(session: Session, actor: User, data: ItemData) -> DecisionItem:
    if not allows(actor, Action.FILE):
        raise PermissionDenied("Only staff and executives file decision items.")
    values = _clean(session, data)
    now = clock.now()
    item = DecisionItem(**values, status="draft", filer_id=actor.id, created_at=now, updated_at=now)
    session.add(item)
    session.flush()
    record(
        session, actor, "item.created", item.subject,
        events.created(values),
    )
    return item


def update_item(
    session: Session, actor: User, item: DecisionItem, data: ItemData, expected_version: int
) -> dict:
    """Apply an edit; returns the changes ({attribute: {before, after}}), empty when none."""
    if not can_edit(actor, item):
        if item.filer_id != actor.id:
            raise PermissionDenied("Only the person who filed this item can edit it.")
        raise Conflict(
            f"The item is {item.status}; it can only be edited while draft or open.", "status"
        )
    _check_version(item, expected_version)
    return _change(session, actor, item, _clean(session, data, current=item))


def _change(session: Session, actor: User, item: DecisionItem, values: dict, **data) -> dict:
    """Set ``values`` on the item and record one ``item.updated`` event with the changes (and
    ``data``); returns the changes, {} when nothing changed (and nothing is written). The one
    writer of edits, model updates, links to a system and a system's new version."""
    changes = {key: {"before": events.json_value(getattr(item, key)), "after": events.json_value(value)}
               for key, value in values.items() if getattr(item, key) != value}
    if not changes:
        return {}
    for key, value in values.items():
        setattr(item, key, value)
    item.updated_at = clock.now()
    _flush_versioned(session)
    record(session, actor, "item.updated", item.subject, {"changes": changes, "version": item.version, **data})
    return changes


def can_update_model(actor: User, item: DecisionItem) -> bool:
    """Staff and executives record a model update on an item past the forum stage (before it,
    the filer's edit covers the model version with everything else)."""
    return allows(actor, Action.FILE) and item.status in MODEL_UPDATE_STATUSES


def update_model_version(
    session: Session, actor: User, item: DecisionItem, model_version: str, expected_version: int
) -> dict:
    """Record that the model under decision is now at ``model_version`` (docs/evidence.md:
    evidence of another version becomes stale, a decided item then needs revalidation). One
    ``item.updated`` event, as an edit of that one field; returns the changes, empty when none."""
    if allows(actor, Action.FILE) and item.system_id is not None:
        raise Conflict("This item follows an AI system of the register: record the new version on the "
                       "system's page, and it reaches every item about the system.", "model_version")
    if not can_update_model(actor, item):
        if not allows(actor, Action.FILE):
            raise PermissionDenied("Only staff and executives record a model update.")
        raise Conflict(
            f"The item is {item.status}; a model update is recorded on an escalated, scheduled, "
            "decided or closed item (before escalation its filer edits the item).", "status"
        )
    _check_version(item, expected_version)
    version = (model_version or "").strip()
    if not version:
        raise ValidationError("Give the model version now in use.", "model_version")
    if len(version) > 80:
        raise ValidationError("At most 80 characters.", "model_version")
    return _change(session, actor, item, {"model_version": version})


def link_system(session: Session, actor: User, item: DecisionItem, system: AISystem) -> dict:
    """Name ``system`` as what ``item`` is about, whatever the item's status but closed: the item
    takes the system's vendor, model and version (one ``item.updated`` event with the changes).
    Returns the changes, empty when the item already named it."""
    if not (allows(actor, Action.FILE) or allows(actor, Action.ADMINISTER)):  # admins: the grouping
        raise PermissionDenied("Only staff, executives and administrators link items to the register.")
    if item.status == "closed":
        raise Conflict("The item is closed; it keeps the model it was decided on.", "status")
    if system.status == "retired":
        raise Conflict(f"{system.name} is retired: link items to a system in use.", "system")
    return _change(session, actor, item, {"system_id": system.id, "vendor": system.vendor,
                                          "model_name": system.model_name, "model_version": system.version_in_use})


def apply_system_version(session: Session, actor: User, system: AISystem) -> list[DecisionItem]:
    """A new version was recorded on ``system`` (forum.systems.service.record_version): every
    item about it, but closed ones, now names that version — the same change as a model update
    on the item (evidence of other versions becomes stale, a decided item needs revalidation),
    one ``item.updated`` event each, naming the system as the cause. Returns the items changed."""
    items = list(session.scalars(
        select(DecisionItem).where(DecisionItem.system_id == system.id, DecisionItem.status != "closed",
                                   DecisionItem.model_version != system.version_in_use)
        .order_by(DecisionItem.id)))
    for item in items:
        _change(session, actor, item, {"model_version": system.version_in_use}, cause=system.subject)
    return items


def transition(
    session: Session, actor: User | None, item: DecisionItem, action: str,
    expected_version: int | None = None, note: str = "",
) -> DecisionItem:
    """Move the item through the lifecycle, checked against the one transition table."""
    spec = TRANSITIONS.get(action)
    if spec is None:
        raise ValidationError(f"Unknown action {action!r}.", "action")
    if not may_perform(actor, item, spec):
        who = {
            "filer": "the person who filed the item",
            "member": "staff and executives",
            "executive": "executives",
            "system": "the forum itself",
        }[spec.by]
        raise PermissionDenied(f"Only {who} can {action} an item.")
    if expected_version is not None:
        _check_version(item, expected_version)
    if item.status not in spec.moves:
        allowed = allowed_actions(item.status)
        raise Conflict(
            f"Cannot {action} an item that is {item.status}. "
            f"From {item.status} the allowed actions are: {', '.join(allowed) or 'none'}.",
            "status",
        )
    before, after = item.status, spec.moves[item.status]
    item.status = after
    item.updated_at = clock.now()
    item.carried_forward = CARRIES.get(action, item.carried_forward)
    if after == "decided":
        item.decided_at, item.decided_model_version = item.updated_at, item.model_version or ""
    elif after != "closed":
        item.decided_at = item.decided_model_version = None
    _flush_versioned(session)
    record(session, actor, "item.status_changed", item.subject, events.status_changed(action, before, after, note))
    return item


def _check_version(item: DecisionItem, expected_version: int) -> None:
    if expected_version != item.version:
        raise Conflict(
            "Someone else changed this item while you were working on it "
            f"(you had version {expected_version}, it is now at version {item.version}). "
            "Your input is kept below: compare it with the current item and save again.",
            "version",
        )


def _flush_versioned(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(
            "Someone else changed this item at the same moment. Reload it and try again.", "version"
        ) from exc


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------
# Built once: every item page and item action reads its item so.
_ITEM_ALONE = select(DecisionItem).where(DecisionItem.id == bindparam("item_id"))
_ITEM = _ITEM_ALONE.options(joinedload(DecisionItem.filer), joinedload(DecisionItem.function),
                            joinedload(DecisionItem.system))


def get_item(session: Session, viewer: User, item_id: int, related: bool = True) -> DecisionItem:
    """The item with its filer, function and system loaded (in the same statement, so that an
    item about a system costs no more than one about none); NotFound when it does not exist or
    the viewer may not see it (a draft of someone else's is not disclosed).

    ``related`` False reads the item alone, for a page that keeps what it shows of them
    rendered: the joins cost more than half of reading the item. ``load_related`` reads them
    when that page renders them afresh."""
    item = session.scalar(_ITEM if related else _ITEM_ALONE, {"item_id": item_id})
    if item is None or not can_view(viewer, item):
        raise NotFound(f"There is no item {item_id}.")
    return item


def load_related(session: Session, item: DecisionItem) -> None:
    """Read the filer, function and system of an item read alone (``get_item`` with
    ``related`` False), in one statement instead of one per relation."""
    session.execute(_ITEM, {"item_id": item.id}).all()


@dataclass
class ItemFilters:
    status: str = ""
    function: str = ""
    category: str = ""
    mine: bool = False


def list_items(
    session: Session, viewer: User, filters: ItemFilters, page: int = 1, per_page: int = 20,
    extra_conditions: Sequence[ColumnElement[bool]] = (), load_rows: bool = True,
) -> Page:
    """Items the viewer may see, newest first, filtered and paginated (two queries; one with
    ``load_rows=False``, which leaves the rows to whoever renders the page's ids).

    ``extra_conditions`` come from an area above (the weighing area's tier, divergence and
    still-to-weigh-in filters); ``filters`` must then be a subclass whose fields name them, as
    the fields of ``filters`` key the derived cache."""
    conditions = visible_to(viewer)
    if filters.status:
        if filters.status not in STATUSES:
            raise ValidationError(f"Unknown status {filters.status!r}.", "status")
        if filters.status != "draft":
            # Only drafts are ever hidden: past draft, the status alone says the viewer may see
            # them, and the index on (status, created_at, id) then gives the page in order
            # (PostgreSQL read and sorted every item for the last page of 38,000 open ones).
            conditions = []
        conditions.append(DecisionItem.status == filters.status)
    if filters.category:
        if filters.category not in CATEGORIES:
            raise ValidationError(f"Unknown category {filters.category!r}.", "category")
        conditions.append(DecisionItem.category == filters.category)
    if filters.function:
        conditions.append(DecisionItem.function_key == filters.function)
    if filters.mine:
        conditions.append(DecisionItem.filer_id == viewer.id)
    conditions.extend(extra_conditions)
    count = None
    if not (filters.category or filters.function or filters.mine or extra_conditions):
        count = _kept_count(session, viewer, filters.status)
    return paginate_rows(
        session, DecisionItem, conditions, (DecisionItem.created_at.desc(), DecisionItem.id.desc()),
        page, per_page, ROW_LOADS, cache_key=("items", viewer.id, viewer.role, astuple(filters)),
        load_rows=load_rows, count=count,
        items_only=True,  # its conditions read the items and their standing, nothing a comment writes
    )


#: Sent with the app as sender and ``session``; a receiver answers how many items there are per
#: status, kept as changes happen ({status: n}), or None when it has none (forum.health.tallies
#: keeps them: a few small rows where counting reads every item).
kept_status_counts = signals.signal("items.kept-status-counts")


def _kept_count(session: Session, viewer: User, status: str) -> int | Select | None:
    """The item list's count for a status filter alone (or none) from the kept counts: the
    count, or a statement that counts only the viewer's own drafts to add them; None when there
    are no kept counts, or for the drafts of someone who sees only their own (an index answers
    that)."""
    kept = app_answer(kept_status_counts, session=session)
    if kept is None:
        return None
    all_drafts = allows(viewer, Action.READ_DRAFTS)
    if status:
        return kept.get(status, 0) if status != "draft" or all_drafts else None
    shown = sum(n for key, n in kept.items() if key != "draft" or all_drafts)
    if all_drafts:
        return shown
    own_drafts = select(func.count()).where(DecisionItem.filer_id == viewer.id, DecisionItem.status == "draft")
    return select(literal(shown) + own_drafts.scalar_subquery())
