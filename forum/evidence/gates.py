"""The evidence gates (docs/evidence.md), as pure functions of a run's stored facts, the item's
current model version, its tier and the clock — so they can be computed at ingest and re-checked
on every display without further queries.

- coverage: no edge-case results at all → warning "demo-only evidence";
- edge_pass_rate: edge-case pass rate below the tier's minimum → fail;
- regression: the suite's pass rate dropped by MORE than the tier's allowance (percentage points)
  against the previous run of the same suite on the item → fail;
- freshness: the tested model version differs from the item's current one → stale (fail) at once;
  older than the tier's maximum age → stale (fail); no version in the file while the item names
  one → warning.

Each gate has one of five states (STATES): ``pass``, ``warn``, ``fail``, ``not_applicable`` —
there is nothing to judge (no edge cases to rate, no earlier run to regress from) — and
``unknown`` — the file does not let the gate be computed: no case-level results (coverage and the
edge-case rate cannot be known; no pass count, no regression), no run time (freshness). An
unknown gate is never read as passing: pages and the API show it as such, and "no gate fails" is
only said when every gate is known.

Comparisons are exact (integer arithmetic on the counts), so the boundaries are sharp.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

THRESHOLDS_PATH = Path(__file__).with_name("thresholds.json")
GATE_LABELS = {
    "coverage": "Edge-case coverage",
    "edge_pass_rate": "Edge-case pass rate",
    "regression": "Regression",
    "freshness": "Freshness",
}
STATES = ("pass", "warn", "fail", "not_applicable", "unknown")
STATUS_LABELS = {"pass": "OK", "warn": "Warning", "fail": "Failing", "not_applicable": "Not applicable",
                 "unknown": "Unknown"}
#: How long ahead of the clock a run time may lie (clocks differ) before it is not believed.
CLOCK_SKEW = timedelta(days=1)


def load_thresholds(path: Path = THRESHOLDS_PATH) -> dict:
    spec = json.loads(path.read_text(encoding="utf-8"))
    for tier, values in spec["tiers"].items():
        for key in ("edge_pass_rate_min_pct", "regression_max_drop_pp", "max_age_days"):
            value = values.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{path.name}: tiers.{tier}.{key} must be a number ≥ 0, not {value!r}")
    if spec["default_tier"] not in spec["tiers"]:
        raise ValueError(f"{path.name}: default_tier {spec['default_tier']!r} is not one of the tiers")
    return spec


THRESHOLDS = load_thresholds()


def thresholds_for(tier: str | None) -> dict:
    tiers = THRESHOLDS["tiers"]
    return tiers.get(tier or "", tiers[THRESHOLDS["default_tier"]])


def tier_name(tier: str | None) -> str:
    return tier if tier in THRESHOLDS["tiers"] else THRESHOLDS["default_tier"]


@dataclass(frozen=True)
class Gate:
    key: str
    status: str  # one of STATES
    detail: str

    def __post_init__(self):
        if self.status == "n/a":  # the name stored before the states had their own names
            object.__setattr__(self, "status", "not_applicable")

    @property
    def label(self) -> str:
        return GATE_LABELS[self.key]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Facts:
    """What the gates need to know about one run."""

    edge_total: int
    edge_passed: int
    edge_skipped: int
    passed: int
    rated: int  # passed + failed + errored
    model_version: str
    tested_at: datetime | None  # None: the file states no run time
    baseline: dict | None  # {run_id, passed, rated} of the previous run of the suite, or None
    counting: str = "cases"  # cases / stated / none (forum.evidence.parsers.result)

    @classmethod
    def of(cls, run, baseline: dict | None = None) -> Facts:
        return cls(
            edge_total=run.edge_total, edge_passed=run.edge_passed, edge_skipped=run.edge_skipped,
            passed=run.passed, rated=run.passed + run.failed + run.errored,
            model_version=run.model_version or "", tested_at=run.run_at, baseline=baseline,
            counting=run.counting or "cases",
        )


def pct(value: Fraction | float) -> str:
    return f"{float(value) * 100:.1f}%".replace(".0%", "%")


def evaluate(facts: Facts, item_model_version: str, tier: str | None, now: datetime) -> list[Gate]:
    limits = thresholds_for(tier)
    tier_label = tier_name(tier)
    return [
        _coverage(facts),
        _edge_rate(facts, limits, tier_label),
        _regression(facts, limits, tier_label),
        _freshness(facts, item_model_version or "", limits, tier_label, now),
    ]


def _coverage(f: Facts) -> Gate:
    if f.counting != "cases":
        return Gate("coverage", "unknown", "Unknown: the file holds no case-level results, so its edge cases "
                    "cannot be counted.")
    if f.edge_total == 0:
        return Gate("coverage", "warn", "Demo-only evidence: the run has no edge-case results.")
    return Gate("coverage", "pass", f"{f.edge_total} edge-case result{'s' if f.edge_total != 1 else ''}.")


def _edge_rate(f: Facts, limits: dict, tier: str) -> Gate:
    rated = f.edge_total - f.edge_skipped
    if f.counting != "cases":
        return Gate("edge_pass_rate", "unknown", "Unknown: no case-level results to rate.")
    if rated <= 0:
        return Gate("edge_pass_rate", "not_applicable", "No edge-case results to rate.")
    rate = Fraction(f.edge_passed, rated)
    minimum = Fraction(limits["edge_pass_rate_min_pct"]).limit_denominator(10**6) / 100
    text = f"{f.edge_passed} of {rated} edge cases passed ({pct(rate)}); {tier} items need {pct(minimum)}."
    return Gate("edge_pass_rate", "fail" if rate < minimum else "pass", text)


def _regression(f: Facts, limits: dict, tier: str) -> Gate:
    base = f.baseline
    if f.counting == "none" or (f.rated <= 0 and base):
        return Gate("regression", "unknown", "Unknown: the file states no pass count to compare.")
    if not base:
        return Gate("regression", "not_applicable", "No earlier run of this suite on the item to compare with.")
    if not base.get("rated"):
        return Gate("regression", "unknown",
                    f"Unknown: the earlier run #{base.get('run_id')} states no pass count to compare with.")
    if f.rated <= 0:
        return Gate("regression", "not_applicable", "No rated results in this run to compare.")
    before = Fraction(base["passed"], base["rated"])
    now_rate = Fraction(f.passed, f.rated)
    drop_pp = (before - now_rate) * 100
    allowed = Fraction(limits["regression_max_drop_pp"]).limit_denominator(10**6)
    change = f"from {pct(before)} to {pct(now_rate)} against run #{base.get('run_id')}"
    if drop_pp > allowed:
        return Gate("regression", "fail",
                    f"Pass rate dropped {float(drop_pp):.1f} points ({change}); "
                    f"{tier} items allow {float(allowed):g}.")
    return Gate("regression", "pass", f"Pass rate {change}.")


def stale_by_version(run_version: str | None, item_version: str | None) -> bool:
    """A run that tested another model version than the item's is stale, whatever its age."""
    return bool(run_version and item_version and run_version != item_version)


def _freshness(f: Facts, item_version: str, limits: dict, tier: str, now: datetime) -> Gate:
    if stale_by_version(f.model_version, item_version):
        return Gate("freshness", "fail",
                    f"Stale: tested model version {f.model_version}, the item is now at {item_version}.")
    if f.tested_at is None:
        return Gate("freshness", "unknown", "Unknown: the file does not say when the test ran.")
    if f.tested_at > now + CLOCK_SKEW:
        return Gate("freshness", "unknown", "Unknown: the file's run time lies in the future.")
    max_age = timedelta(days=limits["max_age_days"])
    age = now - f.tested_at
    if age > max_age:
        return Gate("freshness", "fail",
                    f"Stale: tested {age.days} days ago; {tier} items accept {limits['max_age_days']:g} days.")
    if item_version and not f.model_version:
        return Gate("freshness", "warn",
                    f"The file does not say which model version was tested (the item is at {item_version}).")
    return Gate("freshness", "pass", f"Tested {age.days} days ago.")


#: The gates whose failure on a decided item means its evidence drifted: revalidation.
DRIFT_GATES = ("freshness", "regression")


def drifted_since_decision(gate: Gate, run, item, tier: str | None) -> bool:
    """Whether ``gate`` (of ``run``, a current run of ``item``) shows drift the item's decision
    did not see — what calls for revalidation. Only a change after the decision counts:

    - a run attached after the decision that fails freshness or regression;
    - a model update after the decision (the item's version is no longer the one decided on) that
      makes an earlier run stale;
    - an earlier run ageing past the tier's limit after the decision (it was fresh then).

    Evidence already stale or regressed when the decision was taken is not drift: the decision
    records it ("decided on stale evidence"). An item with no decision basis (``decided_at``
    unset: undecided, or decided before the basis was kept) counts every failing drift gate."""
    if gate.key not in DRIFT_GATES or gate.status != "fail":
        return False
    decided_at = getattr(item, "decided_at", None)
    if decided_at is None or run.uploaded_at > decided_at:
        return True
    if gate.key == "regression":
        return False  # measured at upload, against a run before it: the decision saw it
    if stale_by_version(run.model_version, item.model_version):
        return (item.model_version or "") != (item.decided_model_version or "")
    if run.run_at is None:
        return False
    return run.run_at + timedelta(days=thresholds_for(tier)["max_age_days"]) > decided_at


def worst(gates: list[Gate]) -> str:
    """fail, then unknown, then warn, else pass: an unknown gate outranks a warning, since it
    may hide a failure."""
    statuses = {g.status for g in gates}
    for status in ("fail", "unknown", "warn"):
        if status in statuses:
            return status
    return "pass"


def unknown_keys(gates: list[Gate]) -> list[str]:
    return [g.key for g in gates if g.status == "unknown"]
