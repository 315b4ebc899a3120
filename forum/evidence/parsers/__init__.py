"""Read a model-test result file into one ParsedRun, detecting its format from the content.

Detection (the file name is never used to choose a format):
1. ``PK\\x03\\x04`` → a zip: an inspect_ai ``.eval`` log when it holds ``header.json``;
2. ``<`` → XML: JUnit when the root is ``<testsuites>`` or ``<testsuite>`` (promptfoo's own
   ``<promptfoo>`` XML and other roots are refused as unknown);
3. ``{`` or ``[`` → JSON: a promptfoo results file (``results.results[]``), an inspect_ai log
   (``eval`` with ``task``/``model``) or an lm-eval results file (``results`` with ``n-samples``,
   ``configs`` …); when the text holds one JSON object per line instead, JSON Lines: promptfoo
   rows (``success`` + ``testCase``) or lm-eval samples (``doc_id`` + ``doc``);
4. otherwise a CSV table with the columns described in ``csv_table``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from forum.evidence.parsers import csv_table, inspect_ai, junit, lm_eval, promptfoo
from forum.evidence.parsers.common import (
    NO_TAG,
    STATUSES,
    Limits,
    ParsedRun,
    ParseError,
    TooLarge,
    check_depth,
    load_json,
    UnknownFormat,
)

FORMAT_LABELS = {
    promptfoo.FORMAT_JSON: "promptfoo JSON",
    promptfoo.FORMAT_JSONL: "promptfoo JSONL",
    inspect_ai.FORMAT_JSON: "inspect_ai log (JSON)",
    inspect_ai.FORMAT_EVAL: "inspect_ai log (.eval)",
    lm_eval.FORMAT_RESULTS: "lm-evaluation-harness results",
    lm_eval.FORMAT_SAMPLES: "lm-evaluation-harness samples",
    junit.FORMAT: "JUnit XML",
    csv_table.FORMAT: "CSV",
}

__all__ = ["FORMAT_LABELS", "NO_TAG", "STATUSES", "Limits", "ParseError", "ParsedRun", "TooLarge", "UnknownFormat", "parse"]


def parse(data: bytes, filename: str = "", limits: Limits | None = None) -> ParsedRun:
    """Parse ``data``; raise ParseError (or TooLarge) with what is wrong and where."""
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise TooLarge(f"the file is {_mb(len(data))}; the limit for evidence files is {_mb(limits.max_bytes)}")
    if not data.strip():
        raise ParseError("the file is empty")
    if data.startswith(b"PK\x03\x04"):
        return _zip(data, limits)
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    start = body.lstrip()[:1]
    if start == b"<":
        return _xml(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnknownFormat("the file is neither UTF-8 text nor a known binary format",
                         f"byte {exc.start + len(data) - len(body)}") from exc
    if start in (b"{", b"["):
        return _json(text, body, filename)
    if csv_table.looks_like_csv(text):
        return csv_table.parse(text)
    raise UnknownFormat(
        "unknown format: not promptfoo, inspect_ai, lm-evaluation-harness, JUnit XML or CSV "
        "(a CSV needs a header line with a case id and a pass/fail column)", "line 1")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _zip(data: bytes, limits: Limits) -> ParsedRun:
    return inspect_ai.parse_eval_zip(data, limits)


def _xml(data: bytes) -> ParsedRun:
    try:
        return junit.parse(data)
    except junit.NotJUnit as exc:
        raise UnknownFormat(
            f"unknown format: XML whose root element is <{exc.root}>, not JUnit's <testsuites> or "
            "<testsuite> (promptfoo's own XML output is not supported: export JSON or JUnit)", "line 1",
        ) from exc


def _json(text: str, raw: bytes, filename: str) -> ParsedRun:
    first, _, rest = text.lstrip().partition("\n")
    if rest.strip() and first.rstrip().endswith("}") and rest.lstrip().startswith("{"):
        # Probably JSON Lines; a pretty-printed object would not end its first line with "}".
        try:
            row = load_json(first, depth_checked=True)
        except ParseError:
            row = None
        if isinstance(row, dict):
            check_depth(raw)
            return _jsonl(text, filename)
    doc = load_json(raw)
    if promptfoo.looks_like_json(doc):
        return promptfoo.parse_json(doc)
    if inspect_ai.looks_like_log(doc):
        return inspect_ai.parse_log(doc)
    if lm_eval.looks_like_results(doc):
        return lm_eval.parse_results(doc)
    if isinstance(doc, dict):
        keys = ", ".join(list(doc)[:8]) or "none"
        raise UnknownFormat(f"unknown format: a JSON object whose top-level keys ({keys}) are not those of "
                         "promptfoo, inspect_ai or lm-evaluation-harness results", "line 1")
    raise UnknownFormat(f"unknown format: the JSON document is a {type(doc).__name__}, not a results object",
                     "line 1")


def _jsonl(text: str, filename: str) -> ParsedRun:
    """JSON Lines, read one line at a time: rows are counted as they are read, never all kept."""
    rows = _rows(text)
    first = next(rows, None)
    if first is None:
        raise ParseError("the file is empty")
    stream = itertools.chain([first], rows)
    if promptfoo.looks_like_row(first[1]):
        return promptfoo.parse_rows(stream)
    if lm_eval.looks_like_sample(first[1]):
        return lm_eval.parse_samples(stream, filename)
    keys = ", ".join(list(first[1])[:8]) or "none"
    raise UnknownFormat(f"unknown format: JSON Lines whose first object has keys ({keys}), not promptfoo "
                     "results or lm-evaluation-harness samples", f"line {first[0]}")


def _rows(text: str) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        row = load_json(line, first_line=number, depth_checked=True)
        if not isinstance(row, dict):
            raise ParseError("each line of a JSON Lines file must be a JSON object", f"line {number}")
        yield number, row
