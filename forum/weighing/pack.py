"""The weighing in the agenda: the pre-read pack's section (tier and divergence, each function's
rating and position, the escalation reasons — built for all the pack's items at once) and what
the decision register's tier filter needs (its choices, and each item's tier label). The agenda
area (forum.agenda.pack) puts them on its pages."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC
from forum.weighing import rules, weigh
from forum.weighing.models import STANCES, Position, WeightRating
from forum.weighing.rules import Scale


def build(session: Session, items: list[DecisionItem]) -> dict[int, dict]:
    """Four queries whatever the number of items: the weighing (ratings, positions, the evidence
    rule's two) plus the ratings and positions with their people."""
    weighings = weigh.weigh(session, items, rules.ForumSettings.from_config(current_app.config))
    ids = [item.id for item in items]
    ratings: dict[int, list] = {item_id: [] for item_id in ids}
    for rating in session.scalars(
        select(WeightRating).where(WeightRating.item_id.in_(ids))
        .options(joinedload(WeightRating.function), joinedload(WeightRating.rater))
        .order_by(WeightRating.function_key)
    ):
        ratings[rating.item_id].append({
            "function": rating.function.label, "total": rating.total,
            "tier": RUBRIC.tier_for(rating.total), "by": rating.rater.display_name, "reason": rating.reason,
        })
    positions: dict[int, list] = {item_id: [] for item_id in ids}
    for position in session.scalars(
        select(Position).where(Position.item_id.in_(ids))
        .options(joinedload(Position.function), joinedload(Position.author))
        .order_by(Position.function_key)
    ):
        positions[position.item_id].append({
            "function": position.function.label, "stance": position.stance,
            "stance_label": STANCES.get(position.stance, position.stance),
            "by": position.author.display_name, "rationale": position.rationale,
        })
    return {
        item_id: {"weighing": weighings[item_id], "ratings": ratings[item_id], "positions": positions[item_id]}
        for item_id in ids
    }



def tier_choices(session: Session) -> list[tuple[str, str]]:
    return [(tier.key, tier.label) for tier in RUBRIC.tiers] + [("unrated", "Not rated yet")]


def tier_labels(session: Session, item_ids: list[int]) -> dict[int, str]:
    """The tier of each item in one query (the highest tier any current rating gives)."""
    totals: dict[int, list[int]] = {item_id: [] for item_id in item_ids}
    for item_id, total in session.execute(
        select(WeightRating.item_id, WeightRating.total).where(WeightRating.item_id.in_(item_ids))
    ):
        totals[item_id].append(total)
    labels = {}
    for item_id, values in totals.items():
        tier = Scale().tier(values)
        labels[item_id] = tier.label if tier else "Not rated"
    return labels

