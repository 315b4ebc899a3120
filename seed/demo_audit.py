"""The audit part of the demo data (seed/audit.json), loaded through the services after the
demo items: an edit with a text diff for the item timeline, a verification and a checkpoint."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.audit import verify as audit
from forum.auth import service as accounts
from forum.items import service as items
from forum.items.models import DecisionItem
from forum_seed import DATA

AUDIT_DEMO_PATH = DATA / "audit.json"
_ITEM_FIELDS = [f.name for f in fields(items.ItemData)]


def load(session: Session, path: Path | None = None) -> None:
    """Apply seed/audit.json (flushes, never commits). Raises ValueError naming the step at
    fault when the file does not fit the demo data."""
    path = path or AUDIT_DEMO_PATH
    spec = json.loads(path.read_text(encoding="utf-8"))
    for number, step in enumerate(spec.get("edits", []), start=1):
        where = f"{path.name}: edit {number}"
        item = session.scalar(
            select(DecisionItem).where(DecisionItem.title == step["item"])
            .order_by(DecisionItem.id.desc()).limit(1)
        )
        user = accounts.get_user_by_email(session, step["by"])
        if item is None or user is None:
            raise ValueError(f"{where}: no item {step['item']!r} or no user {step['by']!r}")
        current = items.current_values(item)
        items.update_item(session, user, item, items.ItemData(**(current | step["edit"])),
                          expected_version=item.version)
    auditor = accounts.get_user_by_email(session, spec["auditor"])
    if auditor is None:
        raise ValueError(f"{path.name}: no auditor {spec['auditor']!r}")
    audit.run_verification(session, auditor)
    audit.record_checkpoint(session, auditor, spec.get("checkpoint_note", ""))
