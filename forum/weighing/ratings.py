"""Weight ratings: each function rates an item's strategic weight against the rubric, for its own
function (forum.weighing.checks), replacing its earlier rating."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core import clock
from forum.core.errors import ValidationError
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC, Rubric
from forum.trail.service import record
from forum.weighing import events
from forum.weighing.checks import MAX_REASON, WEIGHING_STATUSES, check_state, clean_text, own_function
from forum.weighing.models import WeightRating


@dataclass
class RatingData:
    scores: Mapping[str, object]  # criterion key -> score
    reason: str
    function: str | None = None  # defaults to the rater's function


def clean_scores(scores: Mapping[str, object], rubric: Rubric = RUBRIC) -> dict[str, int]:
    """Check the scores against the rubric: every criterion, known ones only, whole numbers in
    range. Raises ValidationError naming the criterion at fault."""
    if not isinstance(scores, Mapping):
        raise ValidationError("Give the scores as criterion: score pairs.", "scores")
    unknown = [k for k in scores if rubric.criterion(str(k)) is None]
    if unknown:
        raise ValidationError(
            f"Unknown criteria: {', '.join(map(str, unknown))}. The rubric's criteria are: "
            f"{', '.join(rubric.keys)}.", "scores",
        )
    clean = {}
    for criterion in rubric.criteria:
        name = f"score_{criterion.key}"
        if criterion.key not in scores or scores[criterion.key] in (None, ""):
            raise ValidationError(f"Score {criterion.label}: it is missing.", name)
        value = scores[criterion.key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{criterion.label}: give a whole number, not {value!r}.", name)
        if not 0 <= value <= rubric.max_score:
            raise ValidationError(
                f"{criterion.label}: {value} is outside 0–{rubric.max_score}.", name
            )
        clean[criterion.key] = value
    return clean


def _rating_state(rating: WeightRating, rubric: Rubric) -> dict:
    return events.rating_state(rating.scores, rating.total, rubric.tier_for(rating.total).key, rating.reason)


def rate(
    session: Session, actor: User, item: DecisionItem, data: RatingData, rubric: Rubric = RUBRIC
) -> WeightRating | None:
    """Record the actor's function's rating of the item, replacing its current one. Returns the
    rating, or None when it is the same as the current one (nothing written)."""
    function = own_function(actor, data.function, "rate strategic weight")
    check_state(item, WEIGHING_STATUSES, "rate its weight")
    scores = clean_scores(data.scores, rubric)
    reason = clean_text(data.reason, "reason", "reason for the rating", MAX_REASON)
    rating = session.scalar(
        select(WeightRating).where(WeightRating.item_id == item.id, WeightRating.function_key == function)
    )
    before = _rating_state(rating, rubric) if rating else None
    if rating is not None and rating.scores == scores and rating.reason == reason:
        return None
    if rating is None:
        rating = WeightRating(item_id=item.id, function_key=function)
        session.add(rating)
    rating.rater_id = actor.id
    rating.scores = scores
    rating.total = sum(scores.values())
    rating.reason = reason
    rating.rated_at = clock.now()
    session.flush()
    record(session, actor, "weight.rated", item.subject,
           events.rated(function, before, _rating_state(rating, rubric)))
    return rating
