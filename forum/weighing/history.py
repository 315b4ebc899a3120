"""How the forum's events read in an item's history (registered with forum.items.history)."""

from __future__ import annotations

from forum.items.history import Change, Describers, Names
from forum.items.rubric import RUBRIC
from forum.weighing.models import STANCES

#: How this area's events read in an item's history (connected by the area's init_app).
describe = Describers()


def _scores(state: dict | None) -> str:
    if not state:
        return "—"
    scores = state.get("scores", {})
    parts = [
        f"{c.label} {scores[c.key]}" for c in RUBRIC.criteria if c.key in scores
    ]
    return f"{state.get('total')} ({state.get('tier', '')}): " + ", ".join(parts)


def _function(data: dict, names: Names) -> str:
    return names.function(data.get("function"))


@describe("weight.rated")
def _rated(data: dict, names: Names):
    before, after = data.get("before"), data.get("after") or {}
    changes = [Change("Scores", _scores(before), _scores(after))]
    if not before or before.get("reason") != after.get("reason"):
        changes.append(Change("Reason", (before or {}).get("reason") or "—", after.get("reason", ""), long=True))
    verb = "Revised" if before else "Rated"
    return f"{verb} the strategic weight for {_function(data, names)}", changes, ""


def _stance(state: dict | None) -> str:
    return STANCES.get(state["stance"], state["stance"]) if state else "—"


@describe("position.taken")
def _position(data: dict, names: Names):
    before, after = data.get("before"), data.get("after") or {}
    changes = [Change("Stance", _stance(before), _stance(after))]
    if not before or before.get("rationale") != after.get("rationale"):
        changes.append(Change("Rationale", (before or {}).get("rationale") or "—", after.get("rationale", ""), long=True))
    verb = "Revised the position" if before else "Took a position"
    return f"{verb} for {_function(data, names)}", changes, ""


@describe("comment.added")
def _comment_added(data: dict, names: Names):
    return "Commented", [], data.get("body", "")


@describe("comment.edited")
def _comment_edited(data: dict, names: Names):
    change = Change("Comment", data.get("before", ""), data.get("after", ""), long=True)
    return f"Edited comment {data.get('comment')}", [change], ""
