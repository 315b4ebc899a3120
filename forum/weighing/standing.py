"""An item's standing, kept on its row so that lists can filter, count and sort by it in SQL.

The escalation queue, the executives' home page and the tier / divergence filters need, for every
open or escalated item, its tier, whether its functions' tiers diverge, whether a function
objects and whether an evidence gate fails. Computing those in Python for every candidate (the
first design) cost seconds at 100,000 items (docs/BENCHMARKS.md). So each item row carries:

- ``weight_max`` / ``weight_min``: the highest and lowest total of its functions' current ratings
  (NULL before any rating). The tier is the tier of ``weight_max``; the ratings diverge when a
  tier threshold lies between the two (forum.weighing.rules.Scale reads both ways).
- ``objection``: some function's current position is "object".
- ``evidence_fail``: the current run of some suite (its latest) fails a gate now and for good —
  edge-case pass rate below the tier's minimum, a regression, or a model version other than the
  item's — whatever the clock says.
- ``evidence_drift``: the part of that which is drift (a regression or another model version) —
  on a decided item, only drift its decision did not see (forum.evidence.gates
  .drifted_since_decision: a run attached after the decision, a model update after it).
- ``evidence_stale_at``: the earliest moment a current run becomes older than the tier's maximum
  age; the freshness gate fails once the clock passes it (so no periodic job is needed). On a
  decided item, runs that were already stale when it was decided are left out. A run
  whose file states no run time never goes stale by age: its freshness is unknown.
- ``evidence_unknown``: some gate of a current run cannot be computed from its file (no
  case-level results, no run time): the evidence is incomplete. Shown on the queue, the item and
  in the API; it does not recommend escalation by itself.
- ``queue_order``: the escalation queue's first sort key (rules.Scale.order_of: the tier, highest
  first, then whether a needed-by date is set), so that an index in the queue's order reads its
  pages without sorting the queue. Also kept when the needed-by date changes or the item is filed.

``refresh`` recomputes them for given items from the ratings, positions and runs. A listener on
every session's ``after_flush`` calls it, on the flush's own connection, for the items whose
ratings, positions or evidence runs the flush wrote or whose model version changed: the values
commit and roll back with the change itself. Bulk loaders that insert rows without the ORM
(forum_seed.scale) call ``refresh`` themselves; ``forum standing rebuild`` recomputes every item and
says how many were not as they should have been (0, unless rows were written around the ORM).

Reading the rows (``refresh``) uses explicit columns, not the ORM classes, so that the migration
that added these columns can call it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    exists,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from forum.evidence import gates
from forum.evidence.models import EvidenceRun
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC, Rubric
from forum.weighing.models import Position, WeightRating
from forum.weighing.rules import Scale

COLUMNS = ("weight_max", "weight_min", "objection", "evidence_fail", "evidence_drift", "evidence_stale_at",
           "evidence_unknown", "queue_order")
DRIFT_GATES = gates.DRIFT_GATES
CHUNK = 500  # ids per IN (…) list

items_t = DecisionItem.__table__
ratings_t = WeightRating.__table__
positions_t = Position.__table__
runs_t = EvidenceRun.__table__


# ------------------------------------------------------------------------------ computing
def _empty() -> dict:
    return {"weight_max": None, "weight_min": None, "objection": False, "evidence_fail": False,
            "evidence_drift": False, "evidence_stale_at": None, "evidence_unknown": False, "queue_order": 0}


def compute(connection: Connection, item_ids: Iterable[int], rubric: Rubric = RUBRIC) -> dict[int, dict]:
    """The standing of each item (id -> {column: value}); two queries per 500 items."""
    ids = sorted(set(item_ids))
    found: dict[int, dict] = {}
    for start in range(0, len(ids), CHUNK):
        found.update(_compute(connection, ids[start:start + CHUNK], rubric))
    return found


# The two statements of ``_compute``, built once (they run in every rating, position and
# evidence upload; building them took a sixth of the standing's time). The first reads each
# item with its ratings' range and whether a function objects, in one round trip.
_IDS = bindparam("ids", expanding=True)
_ITEM = items_t.c.id
_BASES = (
    select(
        _ITEM, items_t.c.model_version, items_t.c.decided_at, items_t.c.decided_model_version, items_t.c.needed_by,
        select(func.max(ratings_t.c.total)).where(ratings_t.c.item_id == _ITEM).scalar_subquery().label("highest"),
        select(func.min(ratings_t.c.total)).where(ratings_t.c.item_id == _ITEM).scalar_subquery().label("lowest"),
        exists().where(positions_t.c.item_id == _ITEM, positions_t.c.stance == "object").label("objects"),
    )
    .where(_ITEM.in_(_IDS))
)
_CURRENT_RUNS = (
    select(runs_t.c.item_id, runs_t.c.edge_total, runs_t.c.edge_passed, runs_t.c.edge_skipped,
           runs_t.c.passed, runs_t.c.failed, runs_t.c.errored, runs_t.c.model_version,
           runs_t.c.run_at, runs_t.c.uploaded_at, runs_t.c.gate_results, runs_t.c.counting)
    .where(runs_t.c.id.in_(select(func.max(runs_t.c.id)).where(runs_t.c.item_id.in_(_IDS))
                           .group_by(runs_t.c.item_id, runs_t.c.suite)))
)


def _compute(connection: Connection, ids: list[int], rubric: Rubric) -> dict[int, dict]:
    bases = {row.id: row for row in connection.execute(_BASES, {"ids": ids})}
    found = {}  # an item deleted meanwhile is left out
    for item_id, row in bases.items():
        found[item_id] = _empty() | {"weight_max": row.highest, "weight_min": row.lowest,
                                     "objection": bool(row.objects),
                                     "queue_order": Scale(rubric).order_of(row.highest, row.needed_by)}
    for row in connection.execute(_CURRENT_RUNS, {"ids": ids}):
        standing = found.get(row.item_id)
        if standing is None:
            continue
        highest = standing["weight_max"]
        tier = rubric.tier_for(highest).key if highest is not None else None
        run = SimpleNamespace(
            edge_total=row.edge_total, edge_passed=row.edge_passed, edge_skipped=row.edge_skipped or 0,
            passed=row.passed, failed=row.failed, errored=row.errored, model_version=row.model_version,
            run_at=row.run_at, counting=row.counting, uploaded_at=row.uploaded_at,
        )
        item = bases[row.item_id]
        baseline = (row.gate_results or {}).get("baseline")
        # Evaluated at the moment of the test, the age never fails: what fails is for good. (A run
        # whose file states no time is evaluated at its upload; its freshness is unknown, never stale.)
        at = row.run_at or row.uploaded_at
        for gate in gates.evaluate(gates.Facts.of(run, baseline), item.model_version, tier, at):
            if gate.status == "fail":
                standing["evidence_fail"] = True
                if gates.drifted_since_decision(gate, run, item, tier):
                    standing["evidence_drift"] = True
            elif gate.status == "unknown":
                standing["evidence_unknown"] = True
        if row.run_at is None:
            continue
        stale_at = row.run_at + timedelta(days=gates.thresholds_for(tier)["max_age_days"])
        if item.decided_at is not None and row.uploaded_at <= item.decided_at and (
                stale_at <= item.decided_at or gates.stale_by_version(row.model_version, item.decided_model_version)):
            continue  # already stale when the item was decided (too old, or another version): it saw it
        if standing["evidence_stale_at"] is None or stale_at < standing["evidence_stale_at"]:
            standing["evidence_stale_at"] = stale_at
    return found


_STORE = items_t.update().where(items_t.c.id == bindparam("item_id")).values({name: bindparam(name) for name in COLUMNS})


def refresh(connection: Connection, item_ids: Iterable[int], rubric: Rubric = RUBRIC) -> dict[int, dict]:
    """Recompute and store the standing of the given items; returns what was stored."""
    found = compute(connection, item_ids, rubric)
    if found:
        connection.execute(_STORE, [{"item_id": item_id, **values} for item_id, values in found.items()])
    return found


def stored(connection: Connection, item_ids: Iterable[int]) -> dict[int, dict]:
    """The standing as stored on the rows (id -> {column: value})."""
    ids = sorted(set(item_ids))
    found: dict[int, dict] = {}
    for start in range(0, len(ids), CHUNK):
        for row in connection.execute(
            select(items_t.c.id, *(items_t.c[name] for name in COLUMNS))
            .where(items_t.c.id.in_(ids[start:start + CHUNK]))
        ):
            found[row.id] = {name: getattr(row, name) for name in COLUMNS}
    return found


def rebuild(connection: Connection, rubric: Rubric = RUBRIC) -> tuple[int, int]:
    """Recompute every item's standing, 500 items at a time; returns (items, items whose stored
    standing was not what it should have been)."""
    ids = list(connection.execute(select(items_t.c.id).order_by(items_t.c.id)).scalars())
    corrected = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        before = stored(connection, chunk)
        after = refresh(connection, chunk, rubric)
        corrected += sum(1 for item_id, values in after.items() if before.get(item_id) != values)
    return len(ids), corrected


def rebuild_when_complete(connection: Connection) -> bool:
    """For the migrations that change what the standing is: ``rebuild`` when the schema already
    has every column it reads and writes (this module follows the latest revision), and say
    whether it did. A database brought up from before those columns is rebuilt by the revision
    that adds the last of them."""
    tables = inspect(connection)
    items_columns = {c["name"] for c in tables.get_columns("decision_items")}
    runs_columns = {c["name"] for c in tables.get_columns("evidence_runs")}
    if not ({*COLUMNS, "decided_at", "decided_model_version"} <= items_columns and "counting" in runs_columns):
        return False
    rebuild(connection)
    return True


# ---------------------------------------------------------------------- keeping it current
def _item_ids_touched(session: Session) -> set[int]:
    touched: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, WeightRating | Position | EvidenceRun):
            touched.add(obj.item_id)
        elif isinstance(obj, DecisionItem) and obj in session.new:
            touched.add(obj.id)  # its queue order, when it is filed with a needed-by date
        elif isinstance(obj, DecisionItem) and obj in session.dirty:
            attrs = inspect(obj).attrs
            if any(attrs[name].history.has_changes() for name in ("model_version", "decided_at", "needed_by")):
                touched.add(obj.id)
    return touched


def keep_current(session: Session, _flush_context) -> None:
    touched = _item_ids_touched(session)
    if not touched:
        return
    stored = refresh(session.connection(), touched)
    for item_id, values in stored.items():
        # Loaded instances see the new values without a query (and without a version bump).
        obj = session.identity_map.get((DecisionItem, (item_id,), None))
        if obj is not None:
            for name, value in values.items():
                set_committed_value(obj, name, value)


# ------------------------------------------------------------------------- SQL conditions
# Tier, divergence and the escalation rules read these columns in forum.weighing.rules.
def evidence_drifted(now: datetime) -> ColumnElement[bool]:
    """Some current evidence run is stale or regressed at ``now``."""
    return or_(DecisionItem.evidence_drift, DecisionItem.evidence_stale_at < now)

