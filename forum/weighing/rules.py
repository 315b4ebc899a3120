"""The weight scale and the escalation rules, each defined once with both of its readings.

An item's tier, its weight divergence and every escalation rule are read two ways: in Python, from
the item's functions' current totals and stances (to show them on pages, with the reasons), and
in SQL, on the item's standing columns (forum.weighing.standing: ``weight_max`` and ``weight_min``
are its highest and lowest current total), so that lists and the escalation queue select, count
and sort in the database. Each is written here once, its two readings side by side from the same
thresholds — where it can, as one expression applied to a number and to a column —, and
tests/weighing/test_rules_agree.py checks on generated items that both select the same items.

The rules (``RULES``, in the order their reasons are shown): a function rates the item in the
top tier; a function objects; the functions' tiers diverge; the financial exposure is above the
threshold; a current evidence run fails a gate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import ColumnElement, and_, case, false, or_
from sqlalchemy.orm import Session

from forum.core.pages import format_money
from forum.evidence import gates
from forum.evidence import service as evidence
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC, Rubric, Tier

if TYPE_CHECKING:
    from forum.weighing.weigh import Weighing

#: The stance that is an objection (the standing column ``objection`` holds when a function takes it).
OBJECT = "object"


@dataclass(frozen=True)
class ForumSettings:
    """The forum's configurable rules (FORUM_REQUIRED_FUNCTIONS, FORUM_ESCALATION_EXPOSURE_THRESHOLD)."""

    required_functions: tuple[str, ...] = ("procurement", "product", "risk")
    exposure_threshold: int = 250_000

    @classmethod
    def from_config(cls, config: Mapping) -> ForumSettings:
        raw = str(config.get("REQUIRED_FUNCTIONS", ",".join(cls.required_functions)))
        keys = tuple(dict.fromkeys(k.strip().lower() for k in raw.split(",") if k.strip()))
        return cls(keys, int(config.get("ESCALATION_EXPOSURE_THRESHOLD", cls.exposure_threshold)))


# The connectives of each reading: Python's on booleans, SQL's on conditions.
def _py_both(a: bool, b: bool) -> bool:
    return a and b


def _sql_any(conditions: Iterable[ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(false(), *conditions)


# ---------------------------------------------------------------------------------------------
# Tier and weight divergence
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scale:
    """An item's tier and weight divergence, from the rubric's tier thresholds: ``tier`` and
    ``diverges`` from the current totals, ``tier_condition``, ``rank`` and ``divergent`` in SQL.

    The item's tier is the tier of its highest current total (none before any rating). Its
    ratings diverge when their tiers differ by a full tier or more: since tiers are steps, when a
    tier threshold lies above the lowest total and at or below the highest (5 and 6 do; 6 and 11
    do not); one rating alone never diverges."""

    rubric: Rubric = RUBRIC

    def _within(self, total, tier: Tier, both: Callable):
        """``total`` (a number, or the column weight_max) lies in ``tier``'s range of totals."""
        low, high = self.rubric.tier_range(tier.key)
        return total >= low if high is None else both(total >= low, total < high)

    def _spans(self, low, high, both: Callable, either: Callable):
        """A tier threshold lies above ``low`` and at or below ``high`` (numbers, or columns)."""
        return either(both(low < t.min_total, high >= t.min_total) for t in self.rubric.tiers[1:])

    # -- Python, from the current totals
    def tier(self, totals: Iterable[int]) -> Tier | None:
        totals = list(totals)
        if not totals:
            return None
        return next(t for t in self.rubric.tiers if self._within(max(totals), t, _py_both))

    def diverges(self, totals: Iterable[int]) -> bool:
        totals = list(totals)
        return bool(totals) and self._spans(min(totals), max(totals), _py_both, any)

    # -- SQL, on the standing columns
    def tier_condition(self, tier: Tier | None) -> ColumnElement[bool]:
        """Items whose tier is ``tier``; unrated items for None."""
        if tier is None:
            return DecisionItem.weight_max.is_(None)
        return self._within(DecisionItem.weight_max, tier, and_)

    def rank(self) -> ColumnElement[int]:
        """The index of the item's tier (0 = lowest), -1 when unrated: for sorting and grouping."""
        return case(*((self._within(DecisionItem.weight_max, t, and_), t.index) for t in self.rubric.tiers),
                    else_=-1)

    def divergent(self) -> ColumnElement[bool]:
        return self._spans(DecisionItem.weight_min, DecisionItem.weight_max, and_, _sql_any)

    def queue_order(self) -> ColumnElement[int]:
        """``order_of`` in SQL, on weight_max and needed_by (the column ``queue_order`` stores it
        for this rubric: forum.weighing.standing)."""
        return -(2 * (self.rank() + 1) + case((DecisionItem.needed_by.is_(None), 0), else_=1))

    # -- Python, from the standing values (an item row's weight_max and weight_min)
    def rank_of(self, weight_max: int | None) -> int:
        """``rank`` of one item: its tier's index, -1 when unrated."""
        return -1 if weight_max is None else self.rubric.tier_for(weight_max).index

    def spans(self, weight_min: int | None, weight_max: int | None) -> bool:
        """``divergent`` of one item."""
        return weight_max is not None and weight_min is not None and self._spans(weight_min, weight_max, _py_both, any)

    def order_of(self, weight_max: int | None, needed_by: date | None) -> int:
        """The escalation queue's first sort key of one item, a small whole number, lowest first:
        the highest tier first and, within a tier, items with a needed-by date before those
        without (then come the date and the id). One number, stored with the standing, so that
        an index in the queue's order answers its pages in both databases: SQLite sorts NULL
        dates first and cannot read an index with them last."""
        return -(2 * (self.rank_of(weight_max) + 1) + (needed_by is not None))

    def order_range(self, rank: int) -> tuple[int, int]:
        """The lowest and highest ``order_of`` of the items of ``rank`` (a tier's index, -1 unrated)."""
        return -(2 * (rank + 1) + 1), -2 * (rank + 1)


# ---------------------------------------------------------------------------------------------
# The escalation rules
# ---------------------------------------------------------------------------------------------
#: Items with their weighings (forum.weighing.weigh.Weighing: totals, stances and labels by function).
Weighed = Sequence[tuple[DecisionItem, "Weighing"]]


@dataclass(frozen=True)
class Rule:
    """An escalation rule: ``condition`` selects in SQL, on the items' standing columns at ``now``,
    exactly the items ``explain`` gives a reason for. ``explain`` costs a bounded number of
    queries for any number of items (none, or one for all of them)."""

    name: ClassVar[str]

    def condition(self, now: datetime, settings: ForumSettings, rubric: Rubric = RUBRIC) -> ColumnElement[bool]:
        raise NotImplementedError

    def explain(self, session: Session, weighed: Weighed, settings: ForumSettings,
                rubric: Rubric = RUBRIC) -> dict[int, str]:
        """{item id: reason} for the items on which the rule holds."""
        raise NotImplementedError

    def holds(self, standing, now: datetime | None, settings: ForumSettings, rubric: Rubric = RUBRIC) -> bool:
        """``condition`` read in Python on one item's standing values (anything with the item's
        columns as attributes: a row of them, the item): whether it holds at ``now`` — with None,
        whether it holds whatever the clock says (forum.health.tallies keeps counts by that)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Strategic(Rule):
    """Some function rates the item in the top tier (so its highest total is in it)."""

    name: ClassVar[str] = "strategic"

    @staticmethod
    def _top(total, rubric: Rubric):
        return total >= rubric.tiers[-1].min_total

    def condition(self, now, settings, rubric=RUBRIC):
        return self._top(DecisionItem.weight_max, rubric)

    def holds(self, standing, now, settings, rubric=RUBRIC):
        return standing.weight_max is not None and self._top(standing.weight_max, rubric)

    def explain(self, session, weighed, settings, rubric=RUBRIC):
        top, found = rubric.tiers[-1], {}
        for item, w in weighed:
            strategic = [k for k, total in sorted(w.totals.items()) if self._top(total, rubric)]
            if strategic:
                found[item.id] = f"{top.label} weight: rated {top.label.lower()} by " + ", ".join(
                    f"{w.labels.get(k, k)} ({w.totals[k]} of {rubric.max_total})" for k in strategic) + "."
        return found


@dataclass(frozen=True)
class Objection(Rule):
    """Some function's current position is an objection."""

    name: ClassVar[str] = "objection"

    def condition(self, now, settings, rubric=RUBRIC):
        return DecisionItem.objection  # stance == OBJECT on some position (forum.weighing.standing)

    def holds(self, standing, now, settings, rubric=RUBRIC):
        return bool(standing.objection)

    def explain(self, session, weighed, settings, rubric=RUBRIC):
        found = {}
        for item, w in weighed:
            objecting = sorted(k for k, stance in w.stances.items() if stance == OBJECT)
            if objecting:
                found[item.id] = (f"{', '.join(w.labels.get(k, k) for k in objecting)} "
                                  f"object{'s' if len(objecting) == 1 else ''}.")
        return found


@dataclass(frozen=True)
class Divergence(Rule):
    """The functions' tiers differ by a full tier or more (Scale)."""

    name: ClassVar[str] = "divergence"

    def condition(self, now, settings, rubric=RUBRIC):
        return Scale(rubric).divergent()

    def holds(self, standing, now, settings, rubric=RUBRIC):
        return Scale(rubric).spans(standing.weight_min, standing.weight_max)

    def explain(self, session, weighed, settings, rubric=RUBRIC):
        found = {}
        for item, w in weighed:
            if Scale(rubric).diverges(w.totals.values()):
                found[item.id] = "Weight divergence: " + ", ".join(
                    f"{w.labels.get(k, k)} rates it {rubric.tier_for(t).label.lower()}"
                    for k, t in sorted(w.totals.items())) + "."
        return found


@dataclass(frozen=True)
class Exposure(Rule):
    """The item's financial exposure is above the threshold (no exposure given: never)."""

    name: ClassVar[str] = "exposure"

    @staticmethod
    def _above(exposure, settings: ForumSettings):
        return exposure > settings.exposure_threshold

    def condition(self, now, settings, rubric=RUBRIC):
        return self._above(DecisionItem.exposure, settings)  # NULL > n is not true

    def holds(self, standing, now, settings, rubric=RUBRIC):
        return standing.exposure is not None and self._above(standing.exposure, settings)

    def explain(self, session, weighed, settings, rubric=RUBRIC):
        return {
            item.id: f"Financial exposure of {format_money(item.exposure)} is above the escalation "
                     f"threshold of {format_money(settings.exposure_threshold)}."
            for item, _w in weighed if item.exposure is not None and self._above(item.exposure, settings)
        }


@dataclass(frozen=True)
class FailingEvidence(Rule):
    """A current evidence run (the latest of its suite) fails a gate: for good (the standing's
    ``evidence_fail``), or by its age once the clock passes ``evidence_stale_at``."""

    name: ClassVar[str] = "evidence"

    def condition(self, now, settings, rubric=RUBRIC):
        return or_(DecisionItem.evidence_fail, DecisionItem.evidence_stale_at < now)

    def holds(self, standing, now, settings, rubric=RUBRIC):
        return bool(standing.evidence_fail) or (
            now is not None and standing.evidence_stale_at is not None and standing.evidence_stale_at < now)

    def explain(self, session, weighed, settings, rubric=RUBRIC):
        failing = evidence.failing_gates_of(session, [item for item, _w in weighed])
        return {
            item_id: "Evidence gate failing: " + ", ".join(gates.GATE_LABELS[key].lower() for key in keys)
            for item_id, keys in failing.items() if keys
        }


#: The escalation rules, in the order their reasons are shown. Hashable: derived-cache keys name it.
RULES: tuple[Rule, ...] = (Strategic(), Objection(), Divergence(), Exposure(), FailingEvidence())
