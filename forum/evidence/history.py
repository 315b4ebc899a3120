"""How evidence events read in an item's history."""

from __future__ import annotations

from forum.evidence.gates import GATE_LABELS
from forum.evidence.parsers import FORMAT_LABELS
from forum.items.history import Change, Describers, Names

#: How this area's events read in an item's history (connected by the area's init_app).
describe = Describers()


@describe("evidence.attached")
def _attached(data: dict, names: Names):
    totals = data.get("totals") or {}
    total = sum(v for v in totals.values() if isinstance(v, int))
    edge = data.get("edge") or {}
    model = " ".join(x for x in (data.get("model_id"), data.get("model_version")) if x) or "model not named"
    note = (f"{FORMAT_LABELS.get(data.get('format'), data.get('format'))} · {data.get('suite', '')} · {model}: "
            f"{totals.get('passed', 0)} of {total} passed, {edge.get('passed', 0)} of {edge.get('total', 0)} "
            f"edge cases; file {data.get('filename', '')} (sha256 {str(data.get('sha256', ''))[:12]}…)")
    changes = [
        Change(GATE_LABELS.get(key, key), "—", status)
        for key, status in (data.get("gates") or {}).items() if status in ("fail", "warn")
    ]
    return "Attached evidence", changes, note
