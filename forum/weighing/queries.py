"""SQL conditions on decision items for the weighing's filters: tier, weight divergence (both
read the item's standing columns, forum.weighing.rules.Scale), and the function still to weigh in.
Used by the item list (``list_items``) and by the escalation queue, so both filter alike.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core.errors import ValidationError
from forum.core.paging import Page
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC, Rubric
from forum.weighing.models import Position, WeightRating
from forum.weighing.rules import Scale

UNRATED = "unrated"


def tier_condition(tier: str, rubric: Rubric = RUBRIC) -> ColumnElement[bool]:
    """Items whose derived tier is ``tier`` (the tier of their highest current total), or that
    have no rating yet for ``unrated``."""
    if tier == UNRATED:
        return Scale(rubric).tier_condition(None)
    if rubric.tier(tier) is None:
        known = ", ".join([t.key for t in rubric.tiers] + [UNRATED])
        raise ValidationError(f"Unknown tier {tier!r}; choose one of: {known}.", "tier")
    return Scale(rubric).tier_condition(rubric.tier(tier))


@functools.cache
def divergence_condition(rubric: Rubric = RUBRIC) -> ColumnElement[bool]:
    """Items whose current ratings fall on both sides of at least one tier threshold. Built
    once per rubric (a SQL expression is immutable, so one serves every statement): building
    it took 0.75 ms of each executive home page."""
    return Scale(rubric).divergent()


def awaiting_condition(function_key: str) -> ColumnElement[bool]:
    """Items on which ``function_key`` has not weighed in fully: no current rating from it, or no
    position from it. One NOT EXISTS over the rating joined with the position, not two in an OR:
    PostgreSQL can then probe both unique (item, function) indexes item by item where a page
    needs a few items, instead of hashing all of the function's ratings and positions first (the
    staff home page's list and capped count at 100,000 items: 147 → 3 ms)."""
    return ~exists().where(
        WeightRating.item_id == DecisionItem.id, WeightRating.function_key == function_key,
        Position.item_id == WeightRating.item_id, Position.function_key == function_key,
    )


def weight_conditions(tier: str = "", divergent: bool = False, awaiting: str = "") -> list:
    conditions = []
    if tier:
        conditions.append(tier_condition(tier))
    if divergent:
        conditions.append(divergence_condition())
    if awaiting:
        conditions.append(awaiting_condition(awaiting))
    return conditions


@dataclass
class ItemListFilters(items.ItemFilters):
    """The item list's filters: the items area's, plus derived tier (or "unrated"), weight
    divergence, and a function that has not yet both rated and taken a position."""

    tier: str = ""
    divergent: bool = False
    awaiting: str = ""


def list_items(session: Session, viewer: User, filters: ItemListFilters, page: int = 1, per_page: int = 20) -> Page:
    """The item list with the weighing's filters (forum.items.service.list_items): the page's
    ids, whose rows forum.weighing.rows renders."""
    return items.list_items(session, viewer, filters, page, per_page,
                            extra_conditions=weight_conditions(filters.tier, filters.divergent, filters.awaiting),
                            load_rows=False)
