"""How a run's counts and gates are said, once, for every place a run appears: the upload's
message, the evidence pages, the item page, the pack and the queue.

A run with no case-level results never reads as "0 of 0 passed", and "No gate fails" is only
said when every gate could be computed: an unknown gate may hide a failure.
"""

from __future__ import annotations

from collections.abc import Iterable

from forum.evidence.gates import Gate


def counts(run) -> str:
    """"18 of 30 passed", with where the counts come from when not from the cases themselves."""
    if run.counting == "none":
        return "No case-level results: headline metrics only"
    said = f"{run.passed:,} of {run.passed + run.failed + run.errored + run.skipped:,} passed"
    if run.counting == "stated":
        said += " (as stated by the file; no per-case results)"
    return said


def edge_cases(run) -> str:
    if run.counting != "cases":
        return "edge cases unknown (no per-case results)"
    if not run.edge_total:
        return "no edge cases"
    return f"{run.edge_passed} of {run.edge_total} edge cases"


def gate_summary(gates: Iterable[Gate]) -> str:
    """"Failing gates: …", then the gates that cannot be computed, then the warnings; "No gate
    fails." only when every gate is known and none fails (followed by any warning, so that a
    demo-only run never reads as all clear)."""
    gates = list(gates)
    failing = [g.label for g in gates if g.status == "fail"]
    unknown = [g.label for g in gates if g.status == "unknown"]
    warnings = [_warning(g) for g in gates if g.status == "warn"]
    parts = []
    if failing:
        parts.append(f"Failing gates: {', '.join(failing)}.")
    if unknown:
        parts.append(f"Unknown from this file: {', '.join(unknown)}.")
    if not parts:
        parts.append("No gate fails.")
    if warnings:
        parts.append(f"Warnings: {', '.join(warnings)}.")
    return " ".join(parts)


def _warning(gate: Gate) -> str:
    return f"{gate.label} (demo-only evidence)" if gate.key == "coverage" else gate.label
