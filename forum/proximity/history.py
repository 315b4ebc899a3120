"""How proximity events read in an item's history."""

from __future__ import annotations

from forum.items.history import Describers, Names

#: How this area's events read in an item's history (connected by the area's init_app).
describe = Describers()


@describe("evidence.reviewed")
def _reviewed(data: dict, names: Names):
    shown = data.get("cases_shown", 0)
    seen = "nothing failed" if not shown else f"{shown} failing case{'' if shown == 1 else 's'} shown"
    note = f"Run #{data.get('run_id')} ({data.get('suite', '')}): {seen}."
    if data.get("note"):
        note += f" Note: {data['note']}"
    return "Reviewed failing cases", [], note


@describe("case.proposed")
def _proposed(data: dict, names: Names):
    return "Proposed an edge case", [], f"{data.get('description', '')} — example input: {data.get('example_input', '')}"
