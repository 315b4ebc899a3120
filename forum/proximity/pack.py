"""Technical proximity in the pre-read pack: per item, the latest run of each suite with who has
reviewed its failing cases, and the proposed edge cases (the agenda area shows it)."""

from __future__ import annotations

from sqlalchemy import select

from forum.auth.models import User
from forum.proximity import service
from forum.proximity.models import Review

PACK_CASES = 20


def build(session, pack_items) -> dict[int, dict]:
    """Per item: the latest run of each suite with who has reviewed its failing cases, and the
    proposed edge cases with their count (three queries for all the pack's items)."""
    ids = [item.id for item in pack_items]
    runs = service.latest_runs(session, ids)
    reviewers: dict[int, list[str]] = {run.id: [] for found in runs.values() for run in found}
    for run_id, name in session.execute(
        select(Review.run_id, User.display_name).join(User, User.id == Review.reviewer_id)
        .where(Review.item_id.in_(ids)).group_by(Review.run_id, User.id, User.display_name)
        .order_by(User.display_name)
    ):
        if run_id in reviewers:  # reviews of superseded runs do not count here
            reviewers[run_id].append(name)
    cases, counts = service.newest_proposed(session, ids, PACK_CASES)
    return {
        item_id: {"runs": [(run, reviewers[run.id]) for run in runs[item_id]], "cases": cases[item_id],
                  "total": counts[item_id]}
        for item_id in ids
    }
