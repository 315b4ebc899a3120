"""Read a model-test result file into one ParsedRun, detecting its format from the content.

Detection (the file name is never used to choose a format):
1. ``PK\\x03\\x04`` → a zip: an inspect_ai ``.eval`` log when it holds ``header.json``;
   or an lm-evaluation-harness run when it holds a results JSON and samples JSONL (see lm_eval);
2. ``<`` → XML: JUnit when the root is ``<testsuites>`` or ``<testsuite>``, NUnit 3 for
   ``<test-run>``, a Visual Studio TRX for ``<TestRun>`` (see dotnet); promptfoo's own
   ``<promptfoo>`` XML and other roots are refused as unknown;
3. ``{`` or ``[`` → JSON: a promptfoo results file (``results.results[]``), an inspect_ai log
   (``eval`` with ``task``/``model``) or an lm-eval results file (``results`` with ``n-samples``,
   ``configs`` …) or lm-eval samples as one array (0.4.2 and earlier); when the text holds one
   JSON object per line instead, JSON Lines: promptfoo rows (``success`` + ``testCase``) or
   lm-eval samples (``doc_id`` + ``doc``);
4. otherwise a CSV table with the columns described in ``csv_table``.
"""

from __future__ import annotations

import io
import itertools
from typing import BinaryIO

from forum.evidence.parsers import csv_table, dotnet, inspect_ai, junit, lm_eval, promptfoo, stream
from forum.evidence.parsers.archive import zip_members
from forum.evidence.parsers.result import NO_TAG, STATUSES, ParsedRun, ParseError, TooLarge, UnknownFormat
from forum.evidence.parsers.safe_json import check_depth, json_lines, load_json, utf8_error
from forum.evidence.parsers.source import Limits, Source

FORMAT_LABELS = {
    promptfoo.FORMAT_JSON: "promptfoo JSON",
    promptfoo.FORMAT_JSONL: "promptfoo JSONL",
    inspect_ai.FORMAT_JSON: "inspect_ai log (JSON)",
    inspect_ai.FORMAT_EVAL: "inspect_ai log (.eval)",
    lm_eval.FORMAT_RESULTS: "lm-evaluation-harness results",
    lm_eval.FORMAT_SAMPLES: "lm-evaluation-harness samples",
    lm_eval.FORMAT_BUNDLE: "lm-evaluation-harness results + samples",
    junit.FORMAT: "JUnit XML",
    dotnet.FORMAT_NUNIT: "NUnit 3 XML",
    dotnet.FORMAT_TRX: "Visual Studio TRX",
    csv_table.FORMAT: "CSV",
}

__all__ = ["FORMAT_LABELS", "NO_TAG", "STATUSES", "Limits", "ParseError", "ParsedRun", "Source", "TooLarge",
           "UnknownFormat", "parse"]


def parse(data: bytes | BinaryIO, filename: str = "", limits: Limits | None = None) -> ParsedRun:
    """Parse ``data`` — the file's bytes, or a seekable binary file (an upload spooled to disk,
    read a piece at a time) — and raise ParseError (or TooLarge) with what is wrong and where."""
    limits = limits or Limits()
    source = Source(data)
    if source.size > limits.max_bytes:
        raise TooLarge(f"the file is {_mb(source.size)}; the limit for evidence files is {_mb(limits.max_bytes)}")
    if source.first_non_space() is None:
        raise ParseError("the file is empty")
    if source.read(0, 4) == b"PK\x03\x04":
        return _zip(source, limits)
    start = 3 if source.read(0, 3) == b"\xef\xbb\xbf" else 0  # the body: after a BOM
    first = source.first_non_space(start)
    byte = source.read(first, 1) if first is not None else b""
    if byte == b"<":
        return _xml(source.read(start))
    if byte in (b"{", b"["):
        # One pass over the file checks it is UTF-8 and not nested too deeply (refused in that order).
        bad: list[int] = []
        check_depth(source, start=start, utf8_errors=bad)
        _refuse_not_utf8(bad[0] if bad else None, start, source.read(0, 8))
        return _json(source, start, first, filename)
    _refuse_not_utf8(utf8_error(source.pieces(start)), start, source.read(0, 8))
    newline = source.find(b"\n", start)
    if csv_table.looks_like_csv(source.read(start, None if newline < 0 else newline - start).decode("utf-8")):
        # Read a line at a time from the file (the wrapper is detached after: the file is not ours).
        lines = source.open()
        lines.seek(start)
        text = io.TextIOWrapper(lines, encoding="utf-8", newline="")
        try:
            return csv_table.parse(text)
        finally:
            text.detach()
    raise UnknownFormat(
        "unknown format: not promptfoo, inspect_ai, lm-evaluation-harness, JUnit, NUnit, TRX or CSV "
        "(a CSV needs a header line with a case id and a pass/fail column)", "line 1")


#: Files people attach by mistake, known by their first bytes: named in the refusal.
_NOT_RESULTS = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip archive (unpack it first)"),
    (b"7z\xbc\xaf", "a 7-Zip archive"), (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"Rar!", "a RAR archive"),
)


def _refuse_not_utf8(bad: int | None, start: int, head: bytes = b"") -> None:
    if bad is None:
        return
    for magic, what in _NOT_RESULTS:
        if head.startswith(magic):
            raise UnknownFormat(f"this is {what}, not a test result file: attach the results your eval tool "
                                "wrote (JSON, JSON Lines, XML, CSV or an inspect .eval)")
    raise UnknownFormat("the file is neither UTF-8 text nor a known binary format", f"byte {bad + start}")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _zip(source: Source, limits: Limits) -> ParsedRun:
    infos = zip_members(source)
    if inspect_ai.looks_like_eval_zip(infos):
        return inspect_ai.parse_eval_zip(source, limits, infos)
    if lm_eval.looks_like_bundle(infos):
        return lm_eval.parse_bundle(source, limits, infos)
    names = ", ".join(list(infos)[:5]) or "none"
    raise UnknownFormat("unknown format: a zip archive with no header.json (an inspect_ai .eval log) and no "
                        f"lm-evaluation-harness results JSON with its samples JSONL (members: {names})")


def _xml(data: bytes) -> ParsedRun:
    try:
        return junit.parse(data)
    except junit.NotJUnit as exc:
        if dotnet.is_dotnet_root(exc.root):
            return dotnet.parse(data)
        root = exc.root.rpartition("}")[2][:60]
        raise UnknownFormat(
            f"unknown format: XML with root <{root}>, not JUnit (<testsuites>, <testsuite>), NUnit 3 "
            "(<test-run>) or TRX (<TestRun>); for promptfoo, export JSON or JUnit", "line 1",
        ) from exc


def _json(source: Source, start: int, first: int, filename: str) -> ParsedRun:
    """The JSON from ``start`` (after a BOM; line numbers count from there) whose first byte
    that is not white space is at ``first``; already checked to be UTF-8 and not too deep."""
    newline = source.find(b"\n", first)
    more = source.first_non_space(newline + 1) if newline >= 0 else None
    if more is not None and source.read(more, 1) == b"{":
        line = source.read(first, newline - first).rstrip()
        if line.endswith(b"}"):
            # Probably JSON Lines; a pretty-printed object would not end its first line with "}".
            try:
                row = load_json(line, depth_checked=True)
            except ParseError:
                row = None
            if isinstance(row, dict):
                return _jsonl(source, start, filename)
    try:
        return _json_streamed(source, first)
    except stream.NotStreamable:
        # Malformed JSON, or not an object: read it whole, as json reads it (and reports it).
        return _json_document(load_json(source.read(start), depth_checked=True))


_ROW_ARRAYS = frozenset({promptfoo.ROWS, inspect_ai.ROWS})  # streamed past, not kept


def _json_streamed(source: Source, start: int) -> ParsedRun:
    """One pass: the rows are counted as they stream past, the rest of the document is kept
    (small: the header), then the format is detected from it."""
    doc, counted = stream.walk(source.pieces(start), _ROW_ARRAYS, _count_rows)
    if promptfoo.looks_like_json(doc):
        return promptfoo.parse_json(doc, _raised(counted[promptfoo.ROWS]))
    if inspect_ai.looks_like_log(doc):
        samples = counted.get(inspect_ai.ROWS, False)
        if samples is False:  # no samples array in the log
            return inspect_ai.parse_log(doc)
        if not isinstance(samples, ParseError) and (samples is None or not samples.fits(doc)):
            # The header came after the samples: count them again, knowing the scorers.
            _doc, again = stream.walk(source.pieces(start), frozenset({inspect_ai.ROWS}),
                                      lambda _path, rows, _root: inspect_ai.count_samples(doc, rows))
            samples = again[inspect_ai.ROWS]
        return inspect_ai.parse_log(doc, samples)
    return _json_document(doc)


def _count_rows(path, rows, root):
    """The row counter for the array at ``path``, chosen before the format is known (the header
    may come after the rows): promptfoo's rows need no header; inspect's samples need the scorers
    from ``results`` and ``eval``, so they are counted here only when those came first (None:
    count them again once the document is read)."""
    if path == promptfoo.ROWS:
        return promptfoo.count_rows(rows)
    if isinstance(root.get("eval"), dict) and "results" in root:
        return inspect_ai.count_samples(root, rows)
    return None


def _raised(value):
    if isinstance(value, ParseError):
        raise value
    return value


def _json_document(doc) -> ParsedRun:
    if promptfoo.looks_like_json(doc):
        return promptfoo.parse_json(doc)
    if inspect_ai.looks_like_log(doc):
        return inspect_ai.parse_log(doc)
    if lm_eval.looks_like_results(doc):
        return lm_eval.parse_results(doc)
    if isinstance(doc, list) and doc and lm_eval.looks_like_sample(doc[0]):
        # lm-eval 0.4.2 and earlier wrote the samples as one JSON array, not JSON Lines.
        return lm_eval.parse_samples(enumerate(doc, 1))
    if isinstance(doc, dict):
        keys = ", ".join(list(doc)[:8]) or "none"
        raise UnknownFormat(f"unknown format: a JSON object whose top-level keys ({keys}) are not those of "
                         "promptfoo, inspect_ai or lm-evaluation-harness results", "line 1")
    raise UnknownFormat(f"unknown format: the JSON document is a {type(doc).__name__}, not a results object",
                     "line 1")


def _jsonl(source: Source, start: int, filename: str) -> ParsedRun:
    """JSON Lines, read one line at a time: rows are counted as they are read, never all kept.
    Fast (stream.json_lines) while the lines are plain JSON objects; otherwise read again line by
    line with the json module, which says what is wrong and where."""
    try:
        return _jsonl_rows(stream.json_lines(source.pieces(start)), filename)
    except stream.NotStreamable:
        lines = source.open()
        lines.seek(start)
        return _jsonl_rows(json_lines(lines), filename)


def _jsonl_rows(rows, filename: str) -> ParsedRun:
    first = next(rows, None)
    if first is None:
        raise ParseError("the file is empty")
    rest = itertools.chain([first], rows)
    if promptfoo.looks_like_row(first[1]):
        return promptfoo.parse_rows(rest)
    if lm_eval.looks_like_sample(first[1]):
        return lm_eval.parse_samples(rest, filename)
    keys = ", ".join(list(first[1])[:8]) or "none"
    raise UnknownFormat(f"unknown format: JSON Lines whose first object has keys ({keys}), not promptfoo "
                     "results or lm-evaluation-harness samples", f"line {first[0]}")
