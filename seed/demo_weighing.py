"""The forum's part of the demo data set: seed/forum.json, replayed through the forum's services.

``demo_steps`` turns the file into timed steps that forum_seed.demo.load_demo merges with the items'
own history before replaying everything in time order, so ratings, positions and comments land
between the items' lifecycle events. Each step finds its item by title (the newest item with that
title, so ``forum seed --force`` works on the copy it has just added).

Schema (see also seed/README.md):

    {"items": [{"item": "<exact title of a demo.json item>",
                "steps": [{"days_ago": 40.5, "by": "risk@example.com", <one action>}, ...]}]}

actions: ``"rate": {criterion: score, ...}`` with ``"reason"``; ``"position": "<stance>"`` with
``"rationale"``; ``"comment": "<Markdown>"`` (optional ``"key"`` to refer to it later);
``"edit_comment": "<key>"`` with ``"body"``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core import clock
from forum.items.models import DecisionItem
from forum.weighing.comments import add_comment, edit_comment
from forum.weighing.models import Comment
from forum.weighing.positions import PositionData, take_position
from forum.weighing.ratings import RatingData, rate
from forum_seed import DATA

FORUM_DEMO_PATH = DATA / "forum.json"
ACTIONS = ("rate", "position", "comment", "edit_comment")

Step = tuple[datetime, str, Callable[[], None]]


class ForumDemoError(ValueError):
    """seed/forum.json is malformed."""


def demo_steps(session: Session, users: dict[str, User], path: Path | None = None) -> list[Step]:
    """The timed steps of seed/forum.json: (when, label, run). ``users`` maps e-mail addresses
    to accounts; it is read when a step runs, so it may still be filling up now."""
    path = path or FORUM_DEMO_PATH
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        entries = spec["items"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ForumDemoError(f"Cannot read the forum demo data {path}: {exc!r}") from exc
    now = clock.now()
    comments: dict[str, Comment] = {}
    steps: list[Step] = []
    for entry in entries:
        title = entry.get("item", "")
        for index, raw in enumerate(entry.get("steps", []), start=1):
            label = f"{path.name}: {title[:40]!r} step {index}"
            actions = [a for a in ACTIONS if a in raw]
            days = raw.get("days_ago")
            if len(actions) != 1 or not isinstance(days, int | float) or days < 0:
                raise ForumDemoError(f"{label}: needs days_ago and exactly one of {', '.join(ACTIONS)}")
            run = _runner(session, users, comments, title, raw, actions[0], label)
            steps.append((now - timedelta(days=days), label, run))
    return steps


def _runner(session, users, comments, title, raw, action, label) -> Callable[[], None]:
    def run() -> None:
        actor = users.get(str(raw.get("by", "")).lower())
        if actor is None:
            raise ForumDemoError(f"{label}: no demo user {raw.get('by')!r}")
        item = session.scalar(
            select(DecisionItem).where(DecisionItem.title == title).order_by(DecisionItem.id.desc()).limit(1)
        )
        if item is None:
            raise ForumDemoError(f"{label}: no item titled {title!r}")
        if action == "rate":
            rate(session, actor, item, RatingData(raw["rate"], raw.get("reason", "")))
        elif action == "position":
            take_position(session, actor, item,
                          PositionData(raw["position"], raw.get("rationale", "")))
        elif action == "comment":
            comment = add_comment(session, actor, item, raw["comment"])
            if raw.get("key"):
                comments[raw["key"]] = comment
        else:
            comment = comments.get(raw["edit_comment"])
            if comment is None:
                raise ForumDemoError(f"{label}: no earlier comment with key {raw['edit_comment']!r}")
            edit_comment(session, actor, item, comment, raw.get("body", ""))

    return run
