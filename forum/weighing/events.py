"""The payloads of the weighing area's trail events, built in one place for the services and for
bulk loaders (the scale generator), so an event of a kind has one shape wherever it is written."""

from __future__ import annotations

from collections.abc import Mapping


def rating_state(scores: Mapping[str, int], total: int, tier: str, reason: str) -> dict:
    """A function's rating as the trail shows it, before or after a change."""
    return {"scores": dict(scores), "total": total, "tier": tier, "reason": reason}


def rated(function: str, before: dict | None, after: dict) -> dict:
    """``weight.rated``: a function's rating replaced (``before`` None for its first)."""
    return {"function": function, "before": before, "after": after}


def position_state(stance: str, rationale: str) -> dict:
    return {"stance": stance, "rationale": rationale}


def position_taken(function: str, before: dict | None, after: dict) -> dict:
    """``position.taken``: a function's position replaced (``before`` None for its first)."""
    return {"function": function, "before": before, "after": after}


def comment_added(comment_id: int, function: str | None, body: str) -> dict:
    """``comment.added``: who spoke for which function, and what they wrote."""
    return {"comment": comment_id, "function": function, "body": body}
