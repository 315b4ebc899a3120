"""promptfoo: the JSON of ``promptfoo eval -o results.json`` and the JSONL of ``-o results.jsonl``.

JSON layout (results version 2 and 3): ``{evalId, results: {version, timestamp, prompts[],
results[], stats}, config, metadata: {promptfooVersion}}``. Each result is one test × one
provider, with ``success``, ``failureReason`` (0 none, 1 assertion, 2 error — newer versions),
``error`` (text; promptfoo ALSO fills it on plain assertion failures), ``gradingResult``,
``provider`` (``{id, label}`` or, in old versions, a string), ``testCase.metadata``.

Status: ``success`` → passed; ``failureReason == 2`` → errored; a result without
``failureReason`` (older versions) is errored when it has ``error`` text and no
``gradingResult``; otherwise failed. Tags are ``metadata.tags``; a row is an edge case when
a key of its test's metadata named in ``edge_markers`` (tags, category, difficulty …; see
forum/evidence/thresholds.json) holds an edge-case value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from forum.evidence.parsers.fields import count, dig, entries_of, finite, items_of, parse_time, text_of
from forum.evidence.parsers.result import ParsedRun, ParseError
from forum.evidence.parsers.tally import Tally, clean_tags, is_edge_metadata

FORMAT_JSON = "promptfoo"
FORMAT_JSONL = "promptfoo-jsonl"
ROWS = ("results", "results")  # where the per-case rows are (a key path), streamed by the caller


def looks_like_json(doc) -> bool:
    results = doc.get("results") if isinstance(doc, dict) else None
    return isinstance(results, dict) and isinstance(results.get("results"), list) and (
        "stats" in results or "prompts" in results or "version" in results
    )


def looks_like_row(row) -> bool:
    return isinstance(row, dict) and "success" in row and (
        "testCase" in row or "provider" in row or "gradingResult" in row
    )


def count_rows(rows: Iterable) -> tuple[ParsedRun, dict[str, int]]:
    """Tally the rows of ``results.results`` (a list, or streamed one at a time) — they need
    nothing from the header, which promptfoo writes after them; the header is read by parse_json."""
    run = ParsedRun(format=FORMAT_JSON)
    providers = _walk(enumerate(rows), run, lambda i: f"key results.results[{i}]")
    return run, providers


def parse_json(doc: dict, counted: tuple[ParsedRun, dict[str, int]] | None = None) -> ParsedRun:
    """``doc`` is the whole document, or the document without its rows when they were
    ``counted`` (count_rows) as they streamed past."""
    results = doc["results"]
    run, providers = counted if counted is not None else count_rows(results["results"])
    run.run_at = parse_time(results.get("timestamp"))
    run.suite = _suite(doc)
    _set_model(run, providers)
    stats = results.get("stats")
    if isinstance(stats, dict):
        for key in ("successes", "failures", "errors"):
            count(stats.get(key), f"key results.stats.{key}", required=False)
    for prompt in items_of(results.get("prompts")):
        if not isinstance(prompt, dict):
            continue
        who = text_of(prompt.get("provider")) or text_of(prompt.get("label"))
        metrics = prompt.get("metrics") if isinstance(prompt.get("metrics"), dict) else {}
        for key in ("testPassCount", "testFailCount", "testErrorCount"):
            count(metrics.get(key), f"key results.prompts[].metrics.{key}", required=False)
        for name, value in entries_of(metrics.get("namedScores")).items():
            run.metrics[f"{name} [{who}]" if who else str(name)] = finite(value)
    version = dig(doc, "metadata", "promptfooVersion")
    if version:
        run.notes.append(f"promptfoo {text_of(version)}")
    return run


def parse_rows(rows: Iterable[tuple[int, dict]]) -> ParsedRun:
    run = ParsedRun(format=FORMAT_JSONL)
    providers = _walk(rows, run, lambda number: f"line {number}")
    _set_model(run, providers)
    run.suite = "promptfoo eval"
    return run


def _walk(rows: Iterable[tuple[int, dict]], run: ParsedRun, where: Callable[[int], str]) -> dict[str, int]:
    """Count ``(number, row)`` pairs; ``where(number)`` names a row in an error (built only then)."""
    tally = Tally()
    providers: dict[str, int] = {}
    for number, row in rows:
        if not isinstance(row, dict):
            raise ParseError("a result is not a JSON object", where(number))
        status = _status(row)
        test = row.get("testCase") if isinstance(row.get("testCase"), dict) else {}
        metadata = test.get("metadata") if isinstance(test.get("metadata"), dict) else None
        if metadata is None:
            metadata = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
        tags = clean_tags(metadata.get("tags"))
        edge = is_edge_metadata(metadata)
        provider = _provider(row.get("provider"))
        providers[provider] = providers.get(provider, 0) + 1
        tally.add(status, tags, edge, case=lambda row=row, test=test, status=status, provider=provider:
                  _case(row, test, status, provider))
    tally.into(run)
    return providers


def _status(row: dict) -> str:
    if row.get("success") is True:
        return "passed"
    reason = row.get("failureReason")
    if reason == 2:
        return "errored"
    if reason is None and row.get("error") and row.get("gradingResult") is None:
        return "errored"
    return "failed"


def _provider(value) -> str:
    if isinstance(value, dict):
        return text_of(value.get("id")) or text_of(value.get("label"))
    return text_of(value)


def _case(row: dict, test: dict, status: str, provider: str) -> dict:
    grading = row.get("gradingResult") if isinstance(row.get("gradingResult"), dict) else {}
    reason = row.get("error") if status == "errored" else (grading.get("reason") or row.get("error"))
    label = dig(row, "provider", "label") or provider
    expected = [a.get("value") for a in items_of(test.get("assert")) if isinstance(a, dict)]
    return {
        "id": f"{test.get('description') or row.get('id') or ''} [{label}]",
        "input": dig(row, "prompt", "raw") or test.get("vars") or row.get("vars"),
        "expected": expected or None,
        "output": dig(row, "response", "output"),
        "reason": reason,
    }


def _suite(doc: dict) -> str:
    config = doc.get("config") if isinstance(doc.get("config"), dict) else {}
    return text_of(config.get("description")) or "promptfoo eval"


def _set_model(run: ParsedRun, providers: dict[str, int]) -> None:
    names = [name for name in sorted(providers) if name]
    run.model_id = ", ".join(names)[:200]
