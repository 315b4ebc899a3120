"""Result files written by the real tools (or typed after their documented shapes), as listed in
tests/evidence/fixtures/README.md: each is counted as its table row says — cases, statuses, edge
cases marked the common way, the run time the file states (or none) and where the counts come from."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from forum.evidence import gates, wording
from forum.evidence.parsers import ParseError, parse
from forum.evidence.parsers.tally import EdgeMarkers, load_markers
from tests.evidence.conftest import fixture_bytes


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# file: (total, passed, failed, errored, skipped, edge total, edge passed, run time stated)
FACTS = {
    "promptfoo-0.123.1-triage-category.json": (6, 4, 2, 0, 0, 3, 2, at("2026-12-05T06:45:07.210+00:00")),
    "inspect_ai-0.3.285-ticket-triage.json": (6, 4, 2, 0, 0, 3, 1, at("2026-12-05T06:40:28+00:00")),
    "inspect_ai-0.3.285-ticket-triage.eval": (6, 4, 2, 0, 0, 3, 1, at("2026-12-05T06:40:34+00:00")),
    "lm-eval-0.4.13-triage-mc.samples.triage_mc.jsonl": (10, 2, 8, 0, 0, 3, 1, None),
    "playwright-1.65.2-triage.junit.xml": (5, 3, 1, 0, 1, 2, 1, at("2026-12-05T06:45:19.788+00:00")),
    "playwright-1.31.2-triage.junit.xml": (5, 3, 1, 0, 1, 2, 1, at("2026-12-05T06:45:31.001+00:00")),
    "playwright-1.65.2-two-projects.junit.xml": (10, 6, 2, 0, 2, 4, 2, at("2026-12-05T06:48:16.903+00:00")),
    "vitest-5.1.2-triage.junit.xml": (5, 3, 1, 0, 1, 0, 0, at("2026-12-05T06:45:37.175+00:00")),
    "node-test-20.20.2-triage.junit.xml": (5, 3, 1, 0, 1, 0, 0, None),
    "surefire-3.2.5-triage.xml": (5, 2, 1, 1, 1, 0, 0, None),
    "nunit-3.16.3-triage.xml": (6, 3, 1, 1, 1, 2, 1, at("2026-11-30T09:15:02+00:00")),
    "mstest-net8.0-triage.trx": (6, 3, 2, 0, 1, 2, 1, at("2026-11-30T09:20:10.447011+01:00")),
    "lm-eval-0.4.2-triage-mc.samples.triage_mc.jsonl": (10, 1, 9, 0, 0, 3, 0, None),
    "handmade-qa-no-id.csv": (7, 4, 3, 0, 0, 0, 0, None),
}


@pytest.mark.parametrize("name", sorted(FACTS))
def test_a_real_file_is_counted_as_its_fixture_table_says(name):
    total, passed, failed, errored, skipped, edge_total, edge_passed, run_at = FACTS[name]
    run = parse(fixture_bytes(name), name)
    assert (run.total, run.passed, run.failed, run.errored, run.skipped) == (total, passed, failed, errored, skipped)
    assert (run.edge_total, run.edge_passed) == (edge_total, edge_passed)
    assert run.run_at == run_at
    assert run.counting == "cases"


def test_edge_cases_marked_by_metadata_category_count_and_lift_the_demo_only_warning():
    """promptfoo and inspect mark edge cases with metadata {category: "edge-case"}, not tags: a
    third or half of the cases here are edge cases, so the run is no demo-only evidence."""
    for name in ("promptfoo-0.123.1-triage-category.json", "inspect_ai-0.3.285-ticket-triage.json"):
        run = parse(fixture_bytes(name), name)
        facts = gates.Facts(edge_total=run.edge_total, edge_passed=run.edge_passed, edge_skipped=run.edge_skipped,
                            passed=run.passed, rated=run.passed + run.failed + run.errored, model_version="",
                            tested_at=run.run_at, baseline=None, counting=run.counting)
        coverage = {g.key: g for g in gates.evaluate(facts, "", None, run.run_at)}["coverage"]
        assert coverage.status == "pass", coverage.detail
        assert "demo-only" not in wording.gate_summary([coverage])


def test_playwright_tags_in_test_titles_are_tags():
    run = parse(fixture_bytes("playwright-1.65.2-triage.junit.xml"), "junit.xml")
    assert "edge-case" in run.tags


@pytest.mark.parametrize("value", ["edge-case", "Edge_Case", "edge case", "EDGE", "corner-case", "@edge-case",
                                   ["smoke", "edge"]])
def test_the_common_ways_of_writing_edge_case_are_markers(value):
    markers = load_markers()
    assert markers.in_metadata({"category": value})
    assert markers.in_metadata({"Difficulty": value})


@pytest.mark.parametrize("metadata", [{"category": "billing"}, {"notes": "edge-case"}, {"category": 3},
                                      {"category": None}, {"tags": ["edgy"]}, {}])
def test_other_values_and_other_keys_are_not_markers(metadata):
    assert not load_markers().in_metadata(metadata)


def test_the_markers_are_configuration_beside_the_thresholds(tmp_path: Path):
    spec = json.loads((Path(__file__).parents[2] / "forum/evidence/thresholds.json").read_text())
    spec["edge_markers"] = {"keys": ["scenario"], "values": ["adversarial"]}
    path = tmp_path / "thresholds.json"
    path.write_text(json.dumps(spec))
    markers = load_markers(path)
    assert markers.in_metadata({"scenario": "Adversarial"})
    assert not markers.in_metadata({"category": "edge-case"})


@pytest.mark.parametrize("spec", [{}, {"keys": [], "values": ["edge"]}, {"keys": ["category"], "values": "edge"},
                                  {"keys": ["category"], "values": [""]}])
def test_markers_that_say_nothing_are_refused_at_start(spec):
    with pytest.raises(ValueError, match="edge_markers"):
        EdgeMarkers.from_spec(spec)


def test_nunit_and_trx_reports_are_their_own_formats_with_their_assembly_as_suite():
    for name, fmt in (("nunit-3.16.3-triage.xml", "nunit"), ("mstest-net8.0-triage.trx", "trx")):
        run = parse(fixture_bytes(name), name)
        assert (run.format, run.suite) == (fmt, "Acme.Triage.Tests.dll")
        assert run.tags["Edge"] == {"passed": 1, "failed": 1, "errored": 0, "skipped": 0}
        failing = run.failing_cases[0]
        assert failing["id"].endswith("FrenchRefundGoesToBilling") and "billing" in failing["reason"]


def test_a_csv_without_an_id_column_names_its_cases_by_line():
    run = parse(fixture_bytes("handmade-qa-no-id.csv"), "qa.csv")
    assert [case["id"] for case in run.failing_cases] == ["line 6", "line 7", "line 8"]
    assert any("line numbers" in note for note in run.notes)


@pytest.mark.parametrize("name, says", [
    ("ragas-0.4.3-scores.csv", "aggregate scores (one row per metric), not cases"),
    ("ragas-0.4.3-rows.csv", "no pass/fail column"),
])
def test_tables_without_cases_are_refused_saying_so_briefly(name, says):
    with pytest.raises(ParseError) as caught:
        parse(fixture_bytes(name), name)
    assert says in caught.value.message
    assert len(str(caught.value)) <= 200


def test_suites_that_share_a_name_are_listed_apart():
    run = parse(fixture_bytes("playwright-1.65.2-two-projects.junit.xml"), "junit.xml")
    assert run.suite == "triage.spec.ts [router-v1], triage.spec.ts [router-v2]"
    xml = (b'<testsuites><testsuite name="api"><testcase name="a"/></testsuite>'
           b'<testsuite name="api"><testcase name="b"/></testsuite></testsuites>')
    assert parse(xml).notes == ["2 test suites: api, api (2)"]
