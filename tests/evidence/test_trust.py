"""Evidence that can be trusted (issue: no invented pass counts, no silent green, honest
freshness): metrics that are not pass rates are never turned into cases, runs without case-level
results say so everywhere, an unknown run time is never fresh, and gates have states of their own
for "does not apply" and "cannot be computed"."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from forum.core import clock
from forum.evidence import gates, service, wording
from forum.evidence.models import EvidenceRun
from forum.evidence.parsers import ParseError, parse
from forum.evidence.parsers.fields import parse_time
from forum.items.models import DecisionItem
from tests.evidence.conftest import csv_bytes, fixture_bytes

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def lm_eval_results(results: dict, n_samples: dict | None = None, **extra) -> bytes:
    doc = {"results": results, "configs": {}, "versions": {}, **extra}
    if n_samples is not None:
        doc["n-samples"] = {task: {"original": n, "effective": n} for task, n in n_samples.items()}
    return json.dumps(doc).encode()


# ------------------------------------------------------------------ 1. metrics that are not pass rates
def test_a_bleu_score_is_a_headline_metric_never_a_pass_count():
    run = parse(lm_eval_results({"wmt16": {"alias": "wmt16", "bleu,none": 0.577, "bleu_stderr,none": 0.01}},
                                {"wmt16": 2849}))
    assert run.counting == "none"
    assert (run.passed, run.failed, run.total) == (0, 0, 0)
    assert run.pass_rate is None
    assert run.metrics["wmt16 bleu"] == 0.577
    assert any("headline metrics only" in note for note in run.notes)


def test_a_corpus_f1_is_not_counted_but_an_accuracy_task_beside_it_is():
    run = parse(lm_eval_results(
        {"squad": {"f1,none": 0.066, "exact,none": 0.05}, "boolq": {"acc,none": 0.75, "acc_stderr,none": 0.1}},
        {"squad": 185, "boolq": 8}))
    assert run.counting == "stated"
    assert (run.passed, run.failed) == (6, 2)  # boolq only: 0.75 × 8
    assert run.metrics["squad f1"] == 0.066
    assert any("squad" in note and "headline" in note for note in run.notes)


def test_an_accuracy_that_is_not_a_whole_number_of_cases_is_not_counted():
    run = parse(lm_eval_results({"t": {"acc,none": 0.5001}}, {"t": 10}))
    assert run.counting == "none" and run.total == 0
    assert any("not a whole number" in note for note in run.notes)


# ------------------------------------------------------------------ 2. no case-level results
def test_an_lm_eval_results_file_without_sample_counts_has_no_cases():
    """lm-eval 0.4.2 and earlier write no n-samples: nothing is countable."""
    run = parse(lm_eval_results({"hellaswag": {"acc,none": 0.5, "acc_norm,none": 0.6}},
                                model_name="EleutherAI/pythia-160m"))
    assert run.counting == "none" and run.pass_rate is None and run.total == 0
    assert run.model_id == "EleutherAI/pythia-160m"


def test_an_inspect_log_without_samples_takes_the_counts_its_header_states():
    doc = json.loads(fixture_bytes("inspect-intent-router.json"))
    doc.pop("samples")
    doc["results"]["scores"][0].update(scored_samples=3)
    doc["results"]["scores"][0]["metrics"]["accuracy"]["value"] = 2 / 3
    run = parse(json.dumps(doc).encode())
    assert run.counting == "stated"
    assert (run.passed, run.failed, run.total) == (2, 1, 3)
    assert run.failing_cases == [] and run.edge_total == 0


def test_an_inspect_log_without_samples_and_with_partial_credit_has_no_counts():
    doc = json.loads(fixture_bytes("inspect-intent-router.json"))
    doc.pop("samples")  # the header's accuracy 0.7105… × 19 scored is 13.5: not a count
    run = parse(json.dumps(doc).encode())
    assert run.counting == "none" and run.total == 0


@pytest.mark.parametrize("counting, said", [
    ("cases", "3 of 4 passed"),
    ("stated", "3 of 4 passed (as stated by the file; no per-case results)"),
    ("none", "No case-level results: headline metrics only"),
])
def test_counts_are_said_with_where_they_come_from(counting, said):
    run = EvidenceRun(counting=counting, passed=3, failed=1, errored=0, skipped=0, edge_total=0)
    assert wording.counts(run) == said


# ------------------------------------------------------------------ 3. run times
@pytest.mark.parametrize("value, expected", [
    ("1641057782965", datetime(2022, 1, 1, 17, 23, 2, 965000, tzinfo=UTC)),  # Playwright's JUnit: ms
    (1641057782965, datetime(2022, 1, 1, 17, 23, 2, 965000, tzinfo=UTC)),
    (1641057782, datetime(2022, 1, 1, 17, 23, 2, tzinfo=UTC)),  # seconds
    ("1641057782.5", datetime(2022, 1, 1, 17, 23, 2, 500000, tzinfo=UTC)),
    ("2024-01-02 03:04:05", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2024-01-02T03:04:05+02:00", datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)),
    ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("Tue, 04 Jan 2022 13:02:03 GMT", datetime(2022, 1, 4, 13, 2, 3, tzinfo=UTC)),
    (0, None), ("0", None), ("", None), ("yesterday", None), ("2022-13-45", None), (float("nan"), None),
])
def test_run_times_in_the_forms_tools_write(value, expected):
    assert parse_time(value) == expected


def test_a_playwright_junit_timestamp_in_milliseconds_is_the_run_time():
    xml = (b'<testsuites><testsuite name="x.spec.ts" timestamp="1641057782965" tests="1">'
           b'<testcase name="a" classname="x"/></testsuite></testsuites>')
    assert parse(xml).run_at == datetime(2022, 1, 1, 17, 23, 2, 965000, tzinfo=UTC)


def facts(**overrides) -> gates.Facts:
    values = dict(edge_total=4, edge_passed=4, edge_skipped=0, passed=9, rated=10, model_version="1.0",
                  tested_at=NOW, baseline=None, counting="cases")
    values.update(overrides)
    return gates.Facts(**values)


def by_key(f: gates.Facts, now=NOW) -> dict[str, gates.Gate]:
    return {g.key: g for g in gates.evaluate(f, "1.0", None, now)}


def test_a_file_without_a_run_time_has_unknown_freshness_never_fresh():
    gate = by_key(facts(tested_at=None))["freshness"]
    assert gate.status == "unknown" and "does not say when" in gate.detail


def test_a_run_time_in_the_future_is_not_believed():
    assert by_key(facts(tested_at=NOW + timedelta(days=3)))["freshness"].status == "unknown"


def test_another_model_version_is_stale_even_without_a_run_time():
    gate = {g.key: g for g in gates.evaluate(facts(tested_at=None), "2.0", None, NOW)}["freshness"]
    assert gate.status == "fail"


# ------------------------------------------------------------------ 5. gate states
def test_gates_of_a_run_without_case_level_results_are_unknown_not_passing():
    found = by_key(facts(counting="none", passed=0, rated=0, edge_total=0, edge_passed=0))
    assert found["coverage"].status == "unknown"
    assert found["edge_pass_rate"].status == "unknown"
    assert found["regression"].status == "unknown"
    assert gates.worst(list(found.values())) == "unknown"
    assert wording.gate_summary(found.values()) != "No gate fails."


def test_stated_counts_can_regress_but_edge_cases_stay_unknown():
    found = by_key(facts(counting="stated", edge_total=0, edge_passed=0, passed=5, rated=10,
                         baseline={"run_id": 1, "passed": 9, "rated": 10}))
    assert found["regression"].status == "fail"
    assert found["coverage"].status == "unknown"


def test_not_applicable_is_its_own_state():
    found = by_key(facts(edge_total=2, edge_passed=0, edge_skipped=2))
    assert found["edge_pass_rate"].status == "not_applicable"
    assert found["regression"].status == "not_applicable"  # no earlier run
    assert gates.Gate("regression", "n/a", "").status == "not_applicable"  # as stored before


def test_an_earlier_run_without_counts_makes_regression_unknown():
    found = by_key(facts(baseline={"run_id": 4, "passed": 0, "rated": 0}))
    assert found["regression"].status == "unknown" and "#4" in found["regression"].detail


def test_the_summary_names_failing_then_unknown_gates():
    failing = gates.Gate("edge_pass_rate", "fail", "")
    unknown = gates.Gate("freshness", "unknown", "")
    assert wording.gate_summary([failing, unknown]) == (
        "Failing gates: Edge-case pass rate. Unknown from this file: Freshness.")
    assert wording.gate_summary([gates.Gate("coverage", "pass", "")]) == "No gate fails."


# ------------------------------------------------------------------ everywhere the run appears
BLEU = lm_eval_results({"wmt16": {"bleu,none": 0.577}}, {"wmt16": 2849}, date=1700000000.0)


def test_the_upload_page_never_says_no_gate_fails_for_a_run_without_cases(client, login, staff, open_item, db_session):
    login(staff)
    response = client.post(f"/items/{open_item.id}/evidence", data={"file": (io.BytesIO(BLEU), "results.json")},
                           content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No gate fails" not in page
    assert "No case-level results" in page
    assert "Unknown from this file" in page
    assert "0 of 0" not in page
    item_page = client.get(f"/items/{open_item.id}").get_data(as_text=True)
    assert "no case-level results" in item_page and "No gate fails" not in item_page
    assert "Unknown from this file" in item_page


def test_a_run_without_a_stated_time_marks_the_item_incomplete_and_never_stale(db_session, staff, open_item):
    run = service.attach_evidence(db_session, staff, open_item, "r.csv", csv_bytes(8, 0, 4, 0))
    db_session.commit()
    assert run.run_at is None
    db_session.refresh(open_item)
    assert open_item.evidence_unknown is True
    assert open_item.evidence_stale_at is None  # cannot age past a limit it has no start for
    later = clock.now() + timedelta(days=400)
    with clock.override(lambda: later):
        freshness = {g.key: g for g in service.recheck(run, open_item, None)}["freshness"]
    assert freshness.status == "unknown"
    # a newer run that states its time makes the item's evidence complete again
    service.attach_evidence(db_session, staff, open_item, "r.csv",
                            csv_bytes(8, 0, 4, 0, run_at=clock.now().isoformat()))
    db_session.commit()
    db_session.refresh(open_item)
    assert open_item.evidence_unknown is False
    assert db_session.scalar(select(func.count()).select_from(DecisionItem).where(DecisionItem.evidence_unknown)) == 0


def test_refusing_samples_scored_by_a_list_valued_f1_does_not_echo_the_data():
    line = {"doc_id": 0, "doc": {"q": "x"}, "target": "y", "metrics": ["f1"], "f1": [["secret answer"] * 40, "p"]}
    data = (json.dumps(line) + "\n" + json.dumps(line) + "\n").encode()
    with pytest.raises(ParseError) as caught:
        parse(data, "samples_squad_2024-01-01T00-00-00.jsonl")
    message = str(caught.value)
    assert len(message) < 200 and "secret answer" not in message and "f1" in message


def test_a_picture_attached_on_the_item_page_is_refused_there_saying_what_it_is(client, login, staff, open_item,
                                                                                  db_session):
    login(staff)
    before = db_session.scalar(select(func.count()).select_from(EvidenceRun))
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    response = client.post(f"/items/{open_item.id}/evidence", data={"file": (io.BytesIO(png), "chart.png"),
                                                                    "back": "item"},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "this is a PNG image, not a test result file" in page
    assert f"<h1>{open_item.title}</h1>" in page  # the item page, its form open with the message
    assert 'id="attach-evidence" open' in page
    assert 'name="back" type="hidden" value="item"' in page  # the form shown again still says where it is
    assert db_session.scalar(select(func.count()).select_from(EvidenceRun)) == before
    # from the evidence page, the refusal stays on the evidence page
    response = client.post(f"/items/{open_item.id}/evidence", data={"file": (io.BytesIO(png), "chart.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "Upload and check" in response.get_data(as_text=True)


def test_a_demo_only_run_is_not_announced_as_all_clear(client, login, staff, open_item):
    login(staff)
    data = csv_bytes(5, 0, version="1.0", run_at=clock.now().isoformat())  # no edge cases
    response = client.post(f"/items/{open_item.id}/evidence", data={"file": (io.BytesIO(data), "r.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert ('<div class="flash flash-warning" role="status">Evidence attached: CSV, suite nightly — 5 of 5 '
            'passed, no edge cases. No gate fails. Warnings: Edge-case coverage (demo-only evidence).</div>') in page
