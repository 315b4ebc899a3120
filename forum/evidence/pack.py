"""The evidence section of a meeting's pre-read pack: the latest run of each suite with its
gates as they stand now — built for all the pack's items at once (two queries); and the basis a
decision is taken on (the same, kept on the decision)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.core import clock
from forum.evidence import service
from forum.evidence.models import EvidenceRun
from forum.evidence.parsers import FORMAT_LABELS
from forum.items.models import DecisionItem


def build(session: Session, items: list[DecisionItem]) -> dict[int, dict]:
    by_id = {item.id: item for item in items}
    latest = (
        select(func.max(EvidenceRun.id)).where(EvidenceRun.item_id.in_(list(by_id)))
        .group_by(EvidenceRun.item_id, EvidenceRun.suite).scalar_subquery()
    )
    tiers = service.item_tiers(session, items)
    now = clock.now()
    found: dict[int, dict] = {item_id: {"runs": []} for item_id in by_id}
    for run in session.scalars(select(EvidenceRun).where(EvidenceRun.id.in_(latest)).order_by(EvidenceRun.suite)):
        item = by_id[run.item_id]
        found[item.id]["runs"].append({
            "run": run, "format_label": FORMAT_LABELS.get(run.format, run.format),
            "gates": service.recheck(run, item, tiers.get(item.id), now),
        })
    return found



#: What a decision's evidence basis says when its evidence was not all sound then.
BASIS_FLAGS = (
    ("stale", "Decided on stale evidence"),
    ("failing", "Decided on failing evidence"),
    ("incomplete", "Decided on incomplete evidence"),
)


def basis(session: Session, item: DecisionItem) -> dict:
    """The evidence a decision on ``item`` is taken on, as it stands now: the item's model version
    and each current run with every gate's status and, for those not passing, why. Kept on the
    decision, so that later runs and model updates do not change what it was decided on."""
    runs = build(session, [item])[item.id]["runs"]
    return {
        "model_version": item.model_version or "",
        "runs": [{
            "run_id": r["run"].id, "suite": r["run"].suite,
            "gates": {g.key: g.status for g in r["gates"]},
            "why": {g.key: g.detail for g in r["gates"] if g.status in ("fail", "unknown")},
        } for r in runs],
    }


def basis_flags(snapshot: dict | None) -> list[tuple[str, list[str]]]:
    """(flag, reasons) for each way the basis was not sound: a freshness gate failing (stale),
    another gate failing, a gate that could not be computed. Nothing for a sound basis, or a
    decision recorded before bases were kept."""
    if not snapshot:
        return []
    found: dict[str, list[str]] = {key: [] for key, _label in BASIS_FLAGS}
    for run in snapshot.get("runs", []):
        for key, status in run.get("gates", {}).items():
            why = f"{run.get('suite')}: {run.get('why', {}).get(key, key)}"
            if status == "fail":
                found["stale" if key == "freshness" else "failing"].append(why)
            elif status == "unknown":
                found["incomplete"].append(why)
    return [(label, found[key]) for key, label in BASIS_FLAGS if found[key]]
