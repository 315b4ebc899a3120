"""The demo's register of AI systems (seed/systems.json): each system added by its owner after
the demo's history, and the items already about its model and version linked to it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth import service as accounts
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.systems import service as systems
from forum.systems.models import AISystem
from forum_seed import DATA

PATH = DATA / "systems.json"


def load(session: Session, path: Path = PATH) -> int:
    """Add the systems (a system loaded before is reused); returns how many. A listed item that is
    missing is an error of the data."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    for entry in spec["systems"]:
        where = f"{path.name}: {entry['name']!r}"
        actor = accounts.get_user_by_email(session, entry["by"])
        if actor is None:
            raise ValueError(f"{where}: no user {entry['by']!r}")
        system = session.scalar(select(AISystem).where(AISystem.name == entry["name"]))  # loaded before
        system = system or systems.create_system(session, actor, systems.SystemData(
            name=entry["name"], owner_function=entry["owner"], vendor=entry.get("vendor", ""),
            model_name=entry.get("model_name", ""), status=entry.get("status", "evaluating"),
            intended_use=entry.get("intended_use", ""), personal_data=entry.get("personal_data", False),
            special_categories=entry.get("special_categories", False), eu_ai_act=entry.get("eu_ai_act", ""),
            high_risk_area=entry.get("high_risk_area", ""), gpai_role=entry.get("gpai_role", ""),
            risk_tier=entry.get("risk_tier", "")), entry.get("version", ""))
        for title in entry.get("items", []):
            item = session.scalar(select(DecisionItem).where(DecisionItem.title == title)
                                  .order_by(DecisionItem.id.desc()).limit(1))
            if item is None:
                raise ValueError(f"{where}: no item {title!r}")
            items.link_system(session, actor, item, system)
    return len(spec["systems"])
