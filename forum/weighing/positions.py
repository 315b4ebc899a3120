"""Positions: each function's stance on an item (support, object, …) with its rationale, taken for
its own function (forum.weighing.checks) and revised in place."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core import clock
from forum.core.errors import ValidationError
from forum.items.models import DecisionItem
from forum.trail.service import record
from forum.weighing import events
from forum.weighing.checks import MAX_REASON, WEIGHING_STATUSES, check_state, clean_text, own_function
from forum.weighing.models import STANCES, Position


@dataclass
class PositionData:
    stance: str
    rationale: str
    function: str | None = None  # defaults to the author's function


def take_position(session: Session, actor: User, item: DecisionItem, data: PositionData) -> Position | None:
    """Set the actor's function's stance on the item (revising its earlier one). Returns the
    position, or None when nothing changed."""
    function = own_function(actor, data.function, "take positions")
    check_state(item, WEIGHING_STATUSES, "take a position on it")
    if data.stance not in STANCES:
        raise ValidationError(
            f"Unknown stance {data.stance!r}; choose one of: {', '.join(STANCES.values())}.", "stance"
        )
    rationale = clean_text(data.rationale, "rationale", "rationale", MAX_REASON)
    position = session.scalar(
        select(Position).where(Position.item_id == item.id, Position.function_key == function)
    )
    before = events.position_state(position.stance, position.rationale) if position else None
    after = events.position_state(data.stance, rationale)
    if before == after:
        return None
    if position is None:
        position = Position(item_id=item.id, function_key=function)
        session.add(position)
    position.author_id = actor.id
    position.stance = data.stance
    position.rationale = rationale
    position.taken_at = clock.now()
    session.flush()
    record(session, actor, "position.taken", item.subject, events.position_taken(function, before, after))
    return position
