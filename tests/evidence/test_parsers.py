"""Parsers: format detection from content, totals, edge counts, tags and model/version for every
sample file (against the figures in README_TABLE) and for our awkward fixtures; every kind of
bad input is refused with a message that says what and where."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from forum.evidence.parsers import Limits, ParseError, TooLarge, parse
from forum.evidence.parsers.safe_json import MAX_JSON_DEPTH
from forum.evidence.parsers.tally import MAX_FAILING_CASES
from tests.evidence.conftest import fixture_bytes, make_zip

# file: (format, total, passed, failed, errored, skipped, edge total, edge passed, model id, version)
README_TABLE = {
    "promptfoo-support-2providers.json": ("promptfoo", 30, 18, 11, 1, 0, 14, 6, "echo", ""),
    "promptfoo-support-2providers.jsonl": ("promptfoo-jsonl", 30, 18, 11, 1, 0, 14, 6, "echo", ""),
    "promptfoo-support-2providers.junit.xml": ("junit", 30, 18, 11, 1, 0, 0, 0, "", ""),
    "inspect-intent-router.json": ("inspect-json", 40, 27, 11, 2, 0, 16, 7, "mockllm/intent-router-v3", "3.1.0"),
    "inspect-intent-router.eval": ("inspect-eval", 40, 27, 11, 2, 0, 16, 7, "mockllm/intent-router-v3", "3.1.0"),
    "pytest-support-llm.xunit1.xml": ("junit", 26, 16, 6, 1, 3, 9, 4, "tiny-support-lm", "2026.04.2"),
    "pytest-support-llm.xunit2.xml": ("junit", 26, 16, 6, 1, 3, 9, 4, "tiny-support-lm", "2026.04.2"),
    "lm-eval-support-dummy.results.json": ("lm-eval-results", 22, 9, 13, 0, 0, 0, 0, "acme/support-dummy-1b", ""),
    "lm-eval-support-dummy.samples.support_intent_mc.jsonl": ("lm-eval-samples", 12, 4, 8, 0, 0, 5, 2, "", ""),
    "lm-eval-support-dummy.samples.slang_abbrev_em.jsonl": ("lm-eval-samples", 10, 5, 5, 0, 0, 4, 2, "", ""),
    "handwritten-support-bot.csv": ("csv", 12, 8, 4, 0, 0, 5, 3, "acme-support-bot", "2026.06.1"),
    # our own awkward fixtures
    "promptfoo-old-v2.json": ("promptfoo", 4, 2, 1, 1, 0, 3, 1, "openai:gpt-4o-mini", ""),
    "inspect-nested-scores.json": ("inspect-json", 5, 2, 2, 0, 1, 2, 1, "openai/gpt-4o-2024-08-06", ""),
    "lm-eval-nan-and-groups.results.json": ("lm-eval-results", 12, 8, 4, 0, 0, 0, 0, "acme/support-7b", "v1.2.0"),
    "junit-several-suites.xml": ("junit", 7, 3, 2, 1, 1, 3, 1, "router-xl", "5.0.1"),
    "csv-aliases-bom-crlf.csv": ("csv", 5, 2, 1, 1, 1, 2, 0, "bot", "1.4"),
}


def tags_of(run) -> dict[str, tuple]:
    return {tag: tuple(c[s] for s in ("passed", "failed", "errored", "skipped")) for tag, c in run.tags.items()}


@pytest.mark.parametrize("name", sorted(README_TABLE))
def test_each_fixture_is_detected_and_counted_as_the_readme_says(name):
    fmt, total, passed, failed, errored, skipped, edge_total, edge_passed, model, version = README_TABLE[name]
    # a misleading file name must not matter: detection reads the content
    run = parse(fixture_bytes(name), filename="results.txt")
    assert run.format == fmt
    assert (run.total, run.passed, run.failed, run.errored, run.skipped) == (total, passed, failed, errored, skipped)
    assert (run.edge_total, run.edge_passed) == (edge_total, edge_passed)
    assert run.model_id == model
    assert run.model_version == version
    # every row is counted under its tags or "(none)": a tag's counts never exceed the totals
    assert sum(sum(c.values()) for c in run.tags.values()) >= run.total
    assert len(run.failing_cases) <= MAX_FAILING_CASES


def test_promptfoo_tags_difficulty_markers_and_named_scores():
    run = parse(fixture_bytes("promptfoo-support-2providers.json"))
    assert tags_of(run) == {
        "account": (1, 1, 0, 0), "billing": (4, 1, 1, 0), "brand": (1, 1, 0, 0), "edge-case": (3, 5, 0, 0),
        "format": (1, 1, 0, 0), "i18n": (1, 1, 0, 0), "orders": (6, 0, 0, 0), "pii": (1, 3, 0, 0),
        "robustness": (0, 2, 0, 0), "security": (2, 2, 0, 0), "smoke": (2, 0, 0, 0),
        "structured-output": (1, 0, 1, 0), "(none)": (2, 0, 0, 0),
    }
    assert run.suite == "Support-ticket triage smoke suite (offline echo providers)"
    assert run.run_at == datetime(2026, 11, 24, 17, 2, 9, 759000, tzinfo=UTC)
    assert run.metrics["pii_leak [echo-shouting]"] == 1
    assert run.metrics["pii_leak [echo-verbatim]"] == 0


def test_promptfoo_error_text_on_an_assertion_failure_is_a_failure_not_an_error():
    run = parse(fixture_bytes("promptfoo-support-2providers.json"))
    errored = [c for c in run.failing_cases if c["status"] == "errored"]
    assert len(errored) == 1 and "Transform failed" in errored[0]["reason"]
    failed = [c for c in run.failing_cases if c["status"] == "failed"]
    assert any(c["reason"].startswith("Expected output to") for c in failed)


def test_old_promptfoo_without_failure_reason_tells_errors_by_missing_grading():
    run = parse(fixture_bytes("promptfoo-old-v2.json"))
    by_status = {c["status"]: c for c in run.failing_cases}
    assert by_status["errored"]["reason"] == "API error: 429 Too Many Requests"
    assert by_status["failed"]["reason"] == 'Expected output to equal "shipping"'
    assert run.run_at == datetime(2024, 3, 2, 10, 15, tzinfo=UTC)


def test_inspect_per_tag_counts_and_the_other_scorer():
    run = parse(fixture_bytes("inspect-intent-router.eval"))
    tags = tags_of(run)
    assert tags["edge-case"] == (7, 7, 2, 0)
    assert tags["attachments"] == (0, 0, 2, 0)
    assert tags["shipping"] == (8, 0, 0, 0)
    assert run.metrics["includes: passed"] == 27
    assert run.metrics["match: passed"] == 23
    assert run.metrics["includes/accuracy"] == pytest.approx(0.7105263157894737)
    assert run.suite == "intent-routing"
    errored = [c for c in run.failing_cases if c["status"] == "errored"]
    assert errored and "Only base64 data is allowed" in errored[0]["reason"]


def test_inspect_json_and_eval_zip_agree():
    a = parse(fixture_bytes("inspect-intent-router.json"))
    b = parse(fixture_bytes("inspect-intent-router.eval"))
    assert a.tags == b.tags and (a.edge_total, a.edge_passed) == (b.edge_total, b.edge_passed)


def test_inspect_nested_score_values_missing_metadata_and_nan_metric():
    run = parse(fixture_bytes("inspect-nested-scores.json"))
    assert run.metrics["multi/accuracy"] is None  # bare NaN in the file
    assert any("status is 'error'" in note for note in run.notes)
    ids = {c["id"] for c in run.failing_cases}
    assert ids == {"2 (epoch 1)", "5 (epoch 1)"}


def test_pytest_junit_categories_properties_and_the_propertyless_skip():
    run = parse(fixture_bytes("pytest-support-llm.xunit1.xml"))
    assert tags_of(run) == {
        "edge-case": (4, 4, 0, 1), "happy-path": (6, 2, 0, 0), "pii": (4, 0, 0, 0),
        "regression": (2, 0, 0, 0), "safety": (0, 0, 1, 1), "(none)": (0, 0, 0, 1),
    }
    assert run.edge_skipped == 1
    assert run.edge_pass_rate == pytest.approx(4 / 8)
    assert run.suite == "support-llm-regression"
    errored = [c for c in run.failing_cases if c["status"] == "errored"]
    assert errored[0]["id"] == "evals.test_guardrails::test_toxicity_lexicon_covers_slurs"
    assert "FileNotFoundError" in errored[0]["reason"]


def test_junit_with_several_and_nested_suites():
    run = parse(fixture_bytes("junit-several-suites.xml"))
    assert run.suite == "nightly-llm"
    assert tags_of(run)["edge-case"] == (1, 2, 0, 0)
    assert "3 test suites" in run.notes[0]
    case = next(c for c in run.failing_cases if c["id"] == "safety.jailbreaks::dan prompt")
    assert case["reason"] == "model complied <script>" and case["output"] == "<b>complied</b>"


def test_promptfoo_junit_has_no_edge_cases_and_names_its_suites():
    run = parse(fixture_bytes("promptfoo-support-2providers.junit.xml"))
    assert run.suite == "promptfoo"
    assert "[echo-verbatim] prompt 1" in run.notes[0]


def test_lm_eval_samples_take_the_task_from_lm_evals_file_name():
    data = fixture_bytes("lm-eval-support-dummy.samples.support_intent_mc.jsonl")
    assert parse(data, "samples_support_intent_mc_2026-11-24T17-05-16.085867.jsonl").suite == "support_intent_mc"
    assert parse(data, "upload.jsonl").suite == "lm-eval samples"
    assert tags_of(parse(data))["edge-case"] == (2, 3, 0, 0)


def test_lm_eval_results_with_nan_stderr_groups_and_string_model_args():
    run = parse(fixture_bytes("lm-eval-nan-and-groups.results.json"))
    assert run.suite == "support_suite: intent_a, intent_b"  # the group is kept, not counted twice
    assert run.metrics["intent_a acc_stderr"] is None
    assert run.metrics["intent_a acc"] == 0.75


def test_csv_header_aliases_bom_crlf_quoted_newlines_and_statuses():
    run = parse(fixture_bytes("csv-aliases-bom-crlf.csv"))
    assert run.suite == "nightly"
    assert run.run_at == datetime(2026, 9, 30, 22, tzinfo=UTC)
    failed = next(c for c in run.failing_cases if c["id"] == "r-2")
    assert failed["input"] == "multi\r\nline"


def test_failing_cases_are_capped_and_their_texts_truncated():
    rows = ["case_id,passed,output"] + [f"c{i},false,{'x' * 5000}" for i in range(50)]
    run = parse("\n".join(rows).encode())
    assert run.failed == 50
    assert len(run.failing_cases) == MAX_FAILING_CASES
    assert len(run.failing_cases[0]["output"]) == 2001 and run.failing_cases[0]["output"].endswith("…")


# ---------------------------------------------------------------------------------- bad input
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<testsuite name="x" tests="1"><testcase name="&lol2;"/></testsuite>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuites><testsuite name="x"><testcase name="&xxe;"/></testsuite></testsuites>"""


def _promptfoo_with_stats(successes) -> bytes:
    doc = json.loads(fixture_bytes("promptfoo-support-2providers.json"))
    doc["results"]["stats"]["successes"] = successes
    text = json.dumps(doc, allow_nan=True)
    return text.encode()


BAD_INPUTS = {
    "empty": (b"", "the file is empty", None),
    "only whitespace": (b"  \n\t\n", "the file is empty", None),
    "unknown text": (b"hello world\nthis is not evidence\n", "unknown format", "line 1"),
    "binary": (b"\x00\xff\xfe\x89PNG", "neither UTF-8 text", "byte 1"),
    "malformed JSON": (b'{"results": {"results": [1, 2,]}}', "malformed JSON", "line 1, column 31"),
    "malformed JSON on line 3": (b'{\n "a": 1,\n "b": }\n', "malformed JSON", "line 3"),
    "JSON of an unknown tool": (b'{"hello": "world"}', "unknown format: a JSON object whose top-level keys (hello)", None),
    "JSON array": (b"[1, 2, 3]", "unknown format", None),
    "malformed XML": (b"<testsuites><testsuite name='x'><testcase></testsuite>", "malformed XML", "line 1"),
    "XML bomb": (BOMB, "document type declaration", "line 2"),
    "external entity": (EXTERNAL, "document type declaration", "line 2"),
    "promptfoo native XML": (fixture_bytes("promptfoo-support-2providers.native.xml"), "XML with root <promptfoo>", None),
    "deep JSON": (b'{"results": ' + b"[" * 5000 + b"]" * 5000 + b"}", f"nested more than {MAX_JSON_DEPTH} levels", "line 1"),
    "deep JSON lines": (b'{"doc_id": 0, "doc": {}}\n{"doc_id": 1, "doc": ' + b"[" * 100 + b"]" * 100 + b"}\n",
                        "nested more than", "line 2"),
    "CSV without pass column": (b"case_id,score\na,1\n", "the CSV has no pass/fail column", "line 1"),
    "CSV of aggregate scores": (b"metric,score\nexact_match,0.5\n", "aggregate scores (one row per metric), not cases", "line 1"),
    "CSV bad pass value": (b"case_id,passed\na,true\nb,maybe\n", "'maybe' is not a pass/fail value", "line 3"),
    "CSV header only": (b"case_id,passed\n", "no result rows", None),
    "CSV of two models": (b"case_id,passed,model\na,true,m1\nb,true,m2\n", "several values of model", "column model"),
    "NaN count": (_promptfoo_with_stats(float("nan")), "is not a count", "results.stats.successes"),
    "negative count": (_promptfoo_with_stats(-3), "negative", "results.stats.successes"),
    "negative JUnit count": (b'<testsuite name="s" tests="-1"><testcase name="a"/></testsuite>', "negative",
                             'testsuite name="s"> attribute tests'),
    "NaN JUnit count": (b'<testsuites><testsuite name="s" failures="NaN"/></testsuites>', "'NaN' is not a count",
                        "attribute failures"),
    "NaN lm-eval count": (b'{"results": {"t": {"acc,none": 0.5}}, "n-samples": {"t": {"effective": NaN}}}',
                          "is not a count", "n-samples.t.effective"),
    "NaN lm-eval primary metric": (b'{"results": {"t": {"acc,none": NaN}}, "n-samples": {"t": {"effective": 4}}}',
                                   "not a number: cannot count", "results.t.acc,none"),
    "JSONL with a bad line": (b'{"doc_id": 0, "doc": {}, "metrics": ["acc"], "acc": 1.0}\n{"doc_id": 1,\n',
                              "malformed JSON", "line 2"),
    "JSONL of an unknown tool": (b'{"a": 1}\n{"a": 2}\n', "unknown format: JSON Lines", "line 1"),
    "zip that is not an eval log": (make_zip({"readme.txt": b"hi"}), "no header.json", None),
    "corrupt zstd member": (make_zip({"header.json": b"{}"})[:40] + b"\x00" * 60, "not a readable zip", None),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_refused_saying_what_and_where(name):
    data, what, where = BAD_INPUTS[name]
    with pytest.raises(ParseError) as caught:
        parse(data)
    assert what in caught.value.message, caught.value.message
    if where:
        assert caught.value.where and where in caught.value.where, caught.value.where
    assert caught.value.status == 400
    assert len(str(caught.value)) <= 200, f"{len(str(caught.value))} characters: {caught.value}"


def test_a_file_over_the_size_limit_is_refused_before_parsing():
    with pytest.raises(TooLarge) as caught:
        parse(b"case_id,passed\n" + b"a,true\n" * 100, limits=Limits(max_bytes=100))
    assert caught.value.status == 413
    assert "limit for evidence files" in caught.value.message


def test_an_eval_zip_bomb_is_stopped_at_the_unpack_cap():
    header = fixture_bytes("inspect-intent-router.eval")
    bomb = make_zip({"header.json": b'{"eval": {"task": "t", "model": "m"}}',
                     "summaries.json": b"[" + b" " * (5 * 1024 * 1024) + b"]"})
    assert len(bomb) < 10_000 < len(header)
    with pytest.raises(TooLarge) as caught:
        parse(bomb, limits=Limits(max_unpacked_bytes=1024 * 1024))
    assert "unpacks to more than" in caught.value.message
    assert caught.value.where == "zip member summaries.json"


def test_the_unpack_cap_holds_exactly_however_often_a_member_is_read():
    """summaries.json is unpacked twice (depth check, then the summaries one at a time) but
    counted once: an archive that unpacks to exactly the cap is read, one byte more is refused."""
    header = b'{"eval": {"task": "t", "model": "m"}}'
    summaries = json.dumps([{"id": f"s{n}", "epoch": 1, "scores": {"s": {"value": "C"}}}
                            for n in range(200)]).encode()
    archive = make_zip({"header.json": header, "summaries.json": summaries})
    exact = len(header) + len(summaries)
    for data in (archive, io.BytesIO(archive)):  # bytes, and a file
        assert parse(data, limits=Limits(max_unpacked_bytes=exact)).passed == 200
    with pytest.raises(TooLarge):
        parse(archive, limits=Limits(max_unpacked_bytes=exact - 1))


def test_eval_zips_with_deflate_or_stored_members_and_without_summaries_are_read():
    header = b'{"eval": {"task": "t", "model": "m/x", "metadata": {"model_version": "2"}}}'
    sample = b'{"id": "a", "epoch": 1, "scores": {"s": {"value": "C"}}, "metadata": {"tags": ["edge-case"]}}'
    for method in (0, 8, 93):
        run = parse(make_zip({"header.json": header, "samples/a_epoch_1.json": sample}, method=method))
        assert (run.format, run.passed, run.edge_total, run.model_version) == ("inspect-eval", 1, 1, "2")


def test_a_malformed_member_of_an_eval_zip_is_named():
    bad = make_zip({"header.json": b'{"eval": {"task": "t"}}', "summaries.json": b"[{]"})
    with pytest.raises(ParseError) as caught:
        parse(bad)
    assert caught.value.where == "zip member summaries.json, line 1, column 3"


def test_brackets_and_escapes_inside_strings_do_not_count_as_nesting():
    from forum.evidence.parsers.safe_json import check_depth

    check_depth(b'{"a": "[[[[\\\\", "b": ["\\"[", "", "]]]"], "c": "{{{{"}', limit=2)
    with pytest.raises(ParseError):
        check_depth(b'{"a": "\\\\", "b": [[["x"]]]}', limit=3)


# ------------------------------------------------------------------------------ streaming JSON
STREAMED = ["promptfoo-support-2providers.json", "promptfoo-old-v2.json", "inspect-intent-router.json",
            "inspect-intent-router.eval"]


def _as_dict(run):
    return {key: value for key, value in vars(run).items()}


@pytest.mark.parametrize("name", STREAMED)
def test_large_json_formats_are_streamed_not_loaded_whole(name, monkeypatch):
    """promptfoo and inspect logs are read row by row through ijson: json.loads (which builds the
    whole tree) only ever sees small pieces (the .eval header), never the rows, and the result is
    the one the whole-tree reading gives."""
    from forum.evidence.parsers import safe_json

    expected = parse(fixture_bytes(name))
    loads, sizes = safe_json.json.loads, []

    def recording(data, *args, **kwargs):
        sizes.append(len(data))
        return loads(data, *args, **kwargs)

    monkeypatch.setattr(safe_json.json, "loads", recording)
    assert _as_dict(parse(fixture_bytes(name))) == _as_dict(expected)
    assert max(sizes, default=0) < 4000, sizes


def test_ijsons_c_backend_is_used():
    """ijson's wheels ship the C backend; the speed figures in docs/BENCHMARKS.md depend on it."""
    from forum.evidence.parsers import stream

    assert stream.backend_name() == "yajl2_c"


@pytest.mark.parametrize("name", STREAMED)
def test_the_pure_python_backend_gives_the_same_results(name, monkeypatch):
    import ijson

    from forum.evidence.parsers import stream

    expected = parse(fixture_bytes(name))
    monkeypatch.setattr(stream, "backend", ijson.get_backend("python"))
    assert _as_dict(parse(fixture_bytes(name))) == _as_dict(expected)


def test_the_header_is_read_whatever_the_order_of_its_keys():
    """inspect's scorers and promptfoo's suite may come after the rows: the skeleton pass sees them."""
    log = json.loads(fixture_bytes("inspect-intent-router.json"))
    reordered = {"samples": log.pop("samples"), **log}
    run = parse(json.dumps(reordered).encode())
    assert (run.format, run.passed, run.failed, run.errored) == ("inspect-json", 27, 11, 2)
    doc = json.loads(fixture_bytes("promptfoo-support-2providers.json"))
    reordered = {"config": doc.pop("config"), **doc}
    assert parse(json.dumps(reordered).encode()).suite == parse(fixture_bytes("promptfoo-support-2providers.json")).suite


def test_a_bare_nan_falls_back_to_reading_the_file_whole():
    """yajl refuses NaN tokens; the file is then read by json, which accepts them."""
    doc = json.loads(fixture_bytes("promptfoo-support-2providers.json"))
    doc["results"]["results"][0]["score"] = float("nan")
    run = parse(json.dumps(doc).encode())
    assert (run.total, run.passed) == (30, 18)


# ------------------------------------------------------ lm-eval results + samples as one run
LM_EVAL_FILES = ["lm-eval-support-dummy.results.json", "lm-eval-support-dummy.samples.support_intent_mc.jsonl",
                 "lm-eval-support-dummy.samples.slang_abbrev_em.jsonl"]


def lm_eval_zip(names=LM_EVAL_FILES, folder: str = "acme__support-dummy-1b/", method: int = 8) -> bytes:
    return make_zip({folder + name: fixture_bytes(name) for name in names}, method=method)


@pytest.mark.parametrize("method", [8, 0, 93])
def test_lm_eval_results_and_samples_zipped_together_are_one_run(method):
    """The README's combined figures: the results' model, tasks and metrics, the samples' cases."""
    run = parse(lm_eval_zip(method=method), "acme.zip")
    assert run.format == "lm-eval-run"
    assert (run.total, run.passed, run.failed, run.errored, run.skipped) == (22, 9, 13, 0, 0)
    assert (run.edge_total, run.edge_passed) == (9, 4)
    assert run.model_id == "acme/support-dummy-1b"
    assert run.suite == "support_intent_mc, slang_abbrev_em"  # the same suite as the results file alone
    assert run.suite == parse(fixture_bytes(LM_EVAL_FILES[0])).suite
    assert run.metrics["support_intent_mc acc"] == pytest.approx(1 / 3)
    assert run.metrics["slang_abbrev_em exact_match"] == 0.5
    assert tags_of(run)["edge-case"] == (4, 5, 0, 0)
    assert tags_of(run)["smoke"] == (2, 1, 0, 0)  # 1/1 in the MC task, 1/0 in the EM task
    assert any("support_intent_mc (12)" in note for note in run.notes)
    assert not any("aggregates only" in note for note in run.notes)
    assert any(case["id"] == "mc-02" for case in run.failing_cases)


def test_an_lm_eval_zip_with_samples_of_another_run_is_refused_naming_the_file():
    other = fixture_bytes(LM_EVAL_FILES[1])
    data = make_zip({"results.json": fixture_bytes(LM_EVAL_FILES[0]),
                     "samples_other_task_2026-11-24T17-05-16.085867.jsonl": other}, method=8)
    with pytest.raises(ParseError) as caught:
        parse(data)
    assert "task 'other_task', which the results file results.json does not report" in caught.value.message
    assert caught.value.where == "zip member samples_other_task_2026-11-24T17-05-16.085867.jsonl"


@pytest.mark.parametrize("members, message", [
    ({"a.jsonl": b'{"doc_id": 0, "doc": {}, "metrics": ["acc"], "acc": 1}\n', "b.json": b'{"x": 1}'},
     "no lm-evaluation-harness results JSON"),
    ({"r1.json": fixture_bytes(LM_EVAL_FILES[0]), "r2.json": fixture_bytes(LM_EVAL_FILES[0]),
      "s.jsonl": fixture_bytes(LM_EVAL_FILES[1])}, "2 lm-eval results files"),
])
def test_an_lm_eval_zip_needs_exactly_one_results_file(members, message):
    with pytest.raises(ParseError, match=message):
        parse(make_zip(members, method=8))


def test_a_bad_line_in_a_zipped_samples_file_is_named_by_member_and_line():
    data = make_zip({"results.json": fixture_bytes(LM_EVAL_FILES[0]),
                     "samples_slang_abbrev_em_2026.jsonl": fixture_bytes(LM_EVAL_FILES[2]) + b'{"doc_id": 99,\n'},
                    method=8)
    with pytest.raises(ParseError) as caught:
        parse(data)
    assert caught.value.where.startswith("zip member samples_slang_abbrev_em_2026.jsonl, line 11")


@pytest.mark.parametrize("chunk", [5, 7, 8 << 20])
def test_the_depth_limit_is_exact_whatever_the_slices_the_file_is_read_in(chunk, monkeypatch):
    from forum.evidence.parsers import safe_json

    monkeypatch.setattr(safe_json, "_DEPTH_CHUNK", chunk)
    at_limit = b'{"s": "\\\\\\"[[[{", "a": ' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    safe_json.check_depth(at_limit)
    with pytest.raises(ParseError, match=f"nested more than {MAX_JSON_DEPTH} levels"):
        safe_json.check_depth(at_limit.replace(b'"a": [', b'"a": [[').replace(b"]}", b"]]}"))
    with pytest.raises(ParseError, match="nested more than"):
        safe_json.check_depth(b"[" * (MAX_JSON_DEPTH + 1))  # unbalanced: a truncated file
