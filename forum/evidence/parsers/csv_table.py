"""A plain CSV table of results, one row per case (UTF-8, optional BOM, comma-separated, first
line = header). Header names are matched case-insensitively; spaces and hyphens count as ``_``.

Required: a pass/fail column (without one, the table holds no cases and is refused, saying so when
its rows are aggregate scores — a ``metric`` column). A case id — ``case_id`` (or ``id``,
``case``, ``test``, ``test_id``, ``name``) — names each case; without that column the cases are
named by their line numbers.
- the pass/fail column: ``passed`` (or ``pass``, ``result``, ``status``, ``outcome``, ``success``)
  holding ``true/false``, ``yes/no``, ``1/0``, ``pass/fail``, ``passed/failed``, ``ok``, or
  ``error/errored``, ``skip/skipped`` for the other two statuses.

Optional: ``tags`` (separated by ``;`` or ``|``), ``category``, ``score`` (a number; its mean is
a headline metric), ``model``, ``model_version`` (or ``version``), ``suite``, ``run_at`` (or
``timestamp``; ISO 8601), ``input``, ``expected``, ``output``, ``reason``. Other columns are
ignored. A row is an edge case when a tag or its category carries an edge-case value
(``edge_markers`` in forum/evidence/thresholds.json: edge, edge-case, corner-case …). A file must name one
model (and one version) at most.
"""

from __future__ import annotations

import csv
import io
import re
from typing import TextIO

from forum.evidence.parsers.fields import finite, parse_time, text_of
from forum.evidence.parsers.result import ParsedRun, ParseError
from forum.evidence.parsers.tally import Tally, clean_tags, is_edge_tag

FORMAT = "csv"
ALIASES = {
    "case_id": ("case_id", "id", "case", "test", "test_id", "name"),
    "passed": ("passed", "pass", "result", "status", "outcome", "success"),
    "tags": ("tags", "tag"),
    "category": ("category",),
    "score": ("score",),
    "model": ("model", "model_id"),
    "model_version": ("model_version", "version"),
    "suite": ("suite",),
    "run_at": ("run_at", "timestamp"),
    "input": ("input",),
    "expected": ("expected",),
    "output": ("output",),
    "reason": ("reason",),
}
STATUS_WORDS = {
    "true": "passed", "yes": "passed", "1": "passed", "pass": "passed", "passed": "passed",
    "ok": "passed", "success": "passed",
    "false": "failed", "no": "failed", "0": "failed", "fail": "failed", "failed": "failed",
    "failure": "failed",
    "error": "errored", "errored": "errored",
    "skip": "skipped", "skipped": "skipped",
}


def _normal(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def header_columns(header: list[str]) -> dict[str, int]:
    """Our column names → their index in the header (first alias present wins)."""
    normal = [_normal(h) for h in header]
    found: dict[str, int] = {}
    for key, aliases in ALIASES.items():
        for alias in aliases:
            if alias in normal:
                found[key] = normal.index(alias)
                break
    return found


_AGGREGATE_NAMES = {"metric", "metric_name", "measure"}


def _refuse_without_cases(header: list[str], columns: dict[str, int]) -> None:
    """A table without a pass/fail column holds no cases: say which kind of table it is (no
    cell is ever quoted; the header is cut short)."""
    if "passed" in columns:
        return
    normal = {_normal(h) for h in header}
    if normal & _AGGREGATE_NAMES:
        raise ParseError("the CSV holds aggregate scores (one row per metric), not cases: attach the "
                         "per-case results, one row per case with a pass/fail column", "line 1")
    names: list[str] = []
    for name in (h.strip()[:30] for h in header):
        if len(", ".join([*names, name])) > 60:
            names.append("…")
            break
        names.append(name)
    raise ParseError(f"the CSV has no pass/fail column (passed, result, status, outcome or success); "
                     f"its columns: {', '.join(names)}", "line 1")


def looks_like_csv(text: str) -> bool:
    first = text.split("\n", 1)[0]
    return "," in first or ";" in first or "\t" in first


def parse(text: str | TextIO) -> ParsedRun:
    """``text``: the CSV, or a text file reading it (opened with ``newline=""``), read a line at a time."""
    reader = csv.reader(io.StringIO(text, newline="") if isinstance(text, str) else text)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ParseError("the CSV file has no header line", "line 1") from exc
    except csv.Error as exc:
        raise ParseError(f"malformed CSV: {exc}", "line 1") from exc
    columns = header_columns(header)
    _refuse_without_cases(header, columns)

    tally = Tally()
    models, versions, suites = set(), set(), set()
    last_run_at = ""  # the greatest run_at text (ISO 8601 sorts as it reads)
    scores: list[float] = []
    width = len(header)

    def cell(row: list[str], key: str) -> str:
        index = columns.get(key)
        return row[index].strip() if index is not None and index < len(row) else ""

    try:
        for row in reader:
            line = reader.line_num
            if not any(c.strip() for c in row):
                continue
            if len(row) > width:
                raise ParseError(f"the row has {len(row)} fields but the header has {width}", f"line {line}")
            if "case_id" in columns:
                case_id = cell(row, "case_id")
                if not case_id:
                    raise ParseError("the case id is empty", f"line {line}, column {header[columns['case_id']].strip()[:40]}")
            else:
                case_id = f"line {line}"  # no id column: a case is named by its line
            word = cell(row, "passed").lower()
            status = STATUS_WORDS.get(word)
            if status is None:
                raise ParseError(
                    f"{cell(row, 'passed')[:40]!r} is not a pass/fail value (use true/false, pass/fail, "
                    "error or skipped)", f"line {line}, column {header[columns['passed']].strip()}",
                )
            tags = clean_tags(re.split(r"[;|]", cell(row, "tags"))) if cell(row, "tags") else []
            category = cell(row, "category")
            edge = any(is_edge_tag(t) for t in tags) or is_edge_tag(category)
            if category and category not in tags:
                tags.append(category[:80])
            raw_score = cell(row, "score")
            if raw_score:
                try:
                    number = finite(float(raw_score))
                except ValueError as exc:
                    raise ParseError(f"the score {raw_score[:40]!r} is not a number",
                                     f"line {line}, column score") from exc
                if number is not None:
                    scores.append(number)
            for key, seen in (("model", models), ("model_version", versions), ("suite", suites)):
                value = cell(row, key)
                if value:
                    seen.add(value)
            if cell(row, "run_at") > last_run_at:
                last_run_at = cell(row, "run_at")
            tally.add(status, tags, edge, case=lambda row=row, case_id=case_id: {
                "id": case_id, "input": cell(row, "input"), "expected": cell(row, "expected"),
                "output": cell(row, "output"),
                "reason": cell(row, "reason") or (f"score {cell(row, 'score')}" if cell(row, "score") else ""),
            })
    except csv.Error as exc:
        raise ParseError(f"malformed CSV: {exc}", f"line {reader.line_num}") from exc
    for key, seen in (("model", models), ("model_version", versions)):
        if len(seen) > 1:
            raise ParseError(f"the file mixes several values of {key} ({', '.join(sorted(seen))[:120]}): "
                             "upload one file per model and version", f"column {key}")
    if tally.counts == dict.fromkeys(tally.counts, 0):
        raise ParseError("the CSV has a header but no result rows", "line 2")
    run = tally.into(ParsedRun(format=FORMAT))
    run.model_id = text_of(next(iter(models), ""))
    run.model_version = text_of(next(iter(versions), ""), 80)
    run.suite = text_of(next(iter(sorted(suites)), "")) or "CSV results"
    run.run_at = parse_time(last_run_at) if last_run_at else None
    if scores:
        run.metrics["mean score"] = sum(scores) / len(scores)
    if "case_id" not in columns:
        run.notes.append("The file has no case id column: its cases are named by their line numbers.")
    return run
