"""The demo's register of AI systems (seed/systems.json): each system added by its owner after
the demo's history, the items already about its model and version linked to it, and the
obligations already confirmed as met."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth import service as accounts
from forum.evidence.models import EvidenceRun
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.register import obligations
from forum.register.models import ObligationRecord
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
        for confirmed in entry.get("obligations", []):
            _confirm(session, system, confirmed, where)
    return len(spec["systems"])


def _confirm(session: Session, system: AISystem, entry: dict, where: str) -> None:
    """An obligation confirmed as met (once: a system loaded before keeps its confirmation)."""
    done = session.scalar(select(ObligationRecord.id).where(
        ObligationRecord.system_id == system.id, ObligationRecord.framework == entry["framework"],
        ObligationRecord.obligation == entry["key"]))
    if done is not None:
        return
    actor = accounts.get_user_by_email(session, entry["by"])
    if actor is None:
        raise ValueError(f"{where}: no user {entry['by']!r}")
    run_id = None
    if "run_of" in entry:
        run_id = session.scalar(select(EvidenceRun.id).join(DecisionItem, DecisionItem.id == EvidenceRun.item_id)
                                .where(DecisionItem.title == entry["run_of"], DecisionItem.system_id == system.id)
                                .order_by(EvidenceRun.id.desc()).limit(1))
        if run_id is None:
            raise ValueError(f"{where}: no evidence run on a linked item {entry['run_of']!r}")
    obligations.confirm(session, actor, system, entry["framework"], entry["key"], run_id=run_id,
                        document_url=entry.get("document_url", ""), note=entry.get("note", ""))
