"""Gates at their boundaries, per tier, as pure functions of a run's facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.evidence import gates
from forum.evidence.gates import Facts, evaluate

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def facts(edge=(8, 6, 0), passed=80, rated=100, version="1.0", tested_at=NOW, baseline=None) -> Facts:
    return Facts(edge_total=edge[0], edge_passed=edge[1], edge_skipped=edge[2], passed=passed,
                 rated=rated, model_version=version, tested_at=tested_at, baseline=baseline)


def gate(key, f, item_version="1.0", tier=None, now=NOW) -> gates.Gate:
    return {g.key: g for g in evaluate(f, item_version, tier, now)}[key]


def test_thresholds_are_data_with_the_default_tier_for_unknown_tiers():
    assert gates.THRESHOLDS["default_tier"] == "operational"
    assert gates.thresholds_for(None) == gates.thresholds_for("operational") == gates.thresholds_for("bogus")
    assert gates.thresholds_for("strategic")["edge_pass_rate_min_pct"] > gates.thresholds_for("tactical")["edge_pass_rate_min_pct"]


def test_bad_threshold_files_are_refused(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"default_tier": "x", "tiers": {"x": {"edge_pass_rate_min_pct": -1, '
                    '"regression_max_drop_pp": 1, "max_age_days": 1}}}')
    with pytest.raises(ValueError, match="edge_pass_rate_min_pct"):
        gates.load_thresholds(path)


def test_coverage_warns_on_demo_only_evidence():
    assert gate("coverage", facts(edge=(0, 0, 0))).status == "warn"
    assert "Demo-only" in gate("coverage", facts(edge=(0, 0, 0))).detail
    assert gate("coverage", facts(edge=(1, 0, 0))).status == "pass"


@pytest.mark.parametrize("tier, minimum", [("tactical", 60), ("operational", 75), (None, 75), ("strategic", 90)])
def test_edge_pass_rate_boundary_per_tier(tier, minimum):
    assert gate("edge_pass_rate", facts(edge=(100, minimum, 0)), tier=tier).status == "pass"
    assert gate("edge_pass_rate", facts(edge=(100, minimum - 1, 0)), tier=tier).status == "fail"
    # skipped edge cases do not count either way: 3 of 4 rated is 75 %
    assert gate("edge_pass_rate", facts(edge=(5, 3, 1)), tier="operational").status == "pass"
    assert gate("edge_pass_rate", facts(edge=(2, 0, 2))).status == "not_applicable"


@pytest.mark.parametrize("tier, allowed", [("tactical", 10), ("operational", 5), ("strategic", 2)])
def test_regression_boundary_in_percentage_points(tier, allowed):
    base = {"run_id": 1, "passed": 80, "rated": 100}
    # exactly the allowance (80 % → 75 % is 5 points; float arithmetic would say 5.000000000000004)
    assert gate("regression", facts(passed=80 - allowed, baseline=base), tier=tier).status == "pass"
    assert gate("regression", facts(passed=80 - allowed - 1, baseline=base), tier=tier).status == "fail"
    assert gate("regression", facts(passed=95, baseline=base), tier=tier).status == "pass"
    assert gate("regression", facts(baseline=None)).status == "not_applicable"


def test_regression_compares_rates_not_counts():
    base = {"run_id": 1, "passed": 8, "rated": 10}  # 80 %
    assert gate("regression", facts(passed=750, rated=1000, baseline=base)).status == "pass"
    assert gate("regression", facts(passed=749, rated=1000, baseline=base)).status == "fail"


@pytest.mark.parametrize("tier, days", [("tactical", 180), ("operational", 90), ("strategic", 30)])
def test_freshness_age_boundary(tier, days):
    limit = NOW - timedelta(days=days)
    assert gate("freshness", facts(tested_at=limit), tier=tier).status == "pass"
    stale = gate("freshness", facts(tested_at=limit - timedelta(microseconds=1)), tier=tier)
    assert stale.status == "fail" and "Stale" in stale.detail


def test_freshness_a_different_model_version_is_stale_at_once():
    result = gate("freshness", facts(version="1.0"), item_version="1.1")
    assert result.status == "fail"
    assert "tested model version 1.0, the item is now at 1.1" in result.detail
    assert gate("freshness", facts(version=""), item_version="1.1").status == "warn"
    assert gate("freshness", facts(version="1.0"), item_version="").status == "pass"


def test_worst_of_several_gates():
    assert gates.worst([gates.Gate("coverage", "pass", ""), gates.Gate("freshness", "warn", "")]) == "warn"
    assert gates.worst([gates.Gate("coverage", "warn", ""), gates.Gate("regression", "fail", "")]) == "fail"
