"""Counting rows into a ParsedRun's totals, tags and edge cases, keeping the first failing cases.

Counting conventions (docs/evidence.md):
- a *row* is one result record (a promptfoo result, an inspect sample-epoch, a JUnit testcase,
  an lm-eval sample line, a CSV line);
- status is one of passed / failed / errored / skipped;
- a row is counted once under each of its tags; a row without tags counts under ``(none)``;
- pass rate = passed / (passed + failed + errored): skipped rows do not count either way.

Edge-case markers are configuration: ``edge_markers`` in forum/evidence/thresholds.json names the
metadata keys looked at (tags, category, type, kind, difficulty …) and the values that mark an
edge case (edge, edge-case, corner-case …). A row is an edge case when one of its tags, or the
value of one of those keys in its metadata, is one of those values (``EdgeMarkers``); it counts
once however many markers it carries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from forum.evidence.parsers.result import NO_TAG, STATUSES, ParsedRun

MARKERS_PATH = Path(__file__).resolve().parent.parent / "thresholds.json"
MAX_FAILING_CASES = 20
MAX_CASE_TEXT = 2000  # characters kept of each input / expected / output / reason
MAX_TAGS = 200  # distinct tags kept in the breakdown; the rest are folded into "(other tags)"


class Tally:
    """Counts rows as a parser walks them; keeps the first failing cases."""

    def __init__(self):
        self.counts = dict.fromkeys(STATUSES, 0)
        self.tags: dict[str, dict[str, int]] = {}
        self.edge = dict.fromkeys(STATUSES, 0)
        self.failing: list[dict] = []

    def add(self, status: str, tags: Iterable[str] = (), edge: bool = False, case=None) -> None:
        """Count one row. ``case`` is a dict or a zero-argument callable returning one, called
        only while fewer than MAX_FAILING_CASES failing cases are kept."""
        self.counts[status] += 1
        seen = False
        for tag in tags:
            seen = True
            bucket = self.tags.get(tag)
            if bucket is None:
                bucket = self.tags[tag] = dict.fromkeys(STATUSES, 0)
            bucket[status] += 1
        if not seen:
            bucket = self.tags.get(NO_TAG)
            if bucket is None:
                bucket = self.tags[NO_TAG] = dict.fromkeys(STATUSES, 0)
            bucket[status] += 1
        if edge:
            self.edge[status] += 1
        if status in ("failed", "errored") and case is not None and len(self.failing) < MAX_FAILING_CASES:
            details = case() if callable(case) else case
            self.failing.append(failing_case(status=status, tags=list(tags), edge=edge, **details))

    def into(self, run: ParsedRun) -> ParsedRun:
        run.passed, run.failed = self.counts["passed"], self.counts["failed"]
        run.errored, run.skipped = self.counts["errored"], self.counts["skipped"]
        run.tags = _fold_tags(self.tags)
        run.edge_total = sum(self.edge.values())
        run.edge_passed = self.edge["passed"]
        run.edge_skipped = self.edge["skipped"]
        run.failing_cases = self.failing
        return run


def _fold_tags(tags: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    if len(tags) <= MAX_TAGS:
        return dict(sorted(tags.items()))
    ranked = sorted(tags.items(), key=lambda kv: -sum(kv[1].values()))
    kept = dict(ranked[:MAX_TAGS - 1])
    other = dict.fromkeys(STATUSES, 0)
    for _tag, counts in ranked[MAX_TAGS - 1:]:
        for status in STATUSES:
            other[status] += counts[status]
    kept["(other tags)"] = other
    return dict(sorted(kept.items()))


def _normal(text: str) -> str:
    return text.strip().lower().lstrip("@").replace("_", "-").replace(" ", "-")


@dataclass(frozen=True)
class EdgeMarkers:
    """Which metadata keys are looked at, and which of their values (or tags) mark an edge case.
    Values are compared without case, with ``_`` and spaces read as ``-`` and a leading ``@``
    (Playwright's tag syntax) dropped."""

    keys: frozenset[str]
    values: frozenset[str]

    @classmethod
    def from_spec(cls, spec: Mapping, where: str = "edge_markers") -> EdgeMarkers:
        keys, values = spec.get("keys"), spec.get("values")
        for name, listed in (("keys", keys), ("values", values)):
            if not isinstance(listed, list) or not listed or not all(isinstance(v, str) and v.strip() for v in listed):
                raise ValueError(f"{where}.{name} must be a non-empty list of words, not {listed!r}")
        return cls(frozenset(k.strip().lower() for k in keys), frozenset(_normal(v) for v in values))

    def is_edge_value(self, value) -> bool:
        """A tag or metadata value (a word, or a list of them) that marks an edge case."""
        if isinstance(value, str):
            return _normal(value[:200]) in self.values
        if isinstance(value, list | tuple):
            return any(isinstance(v, str) and _normal(v[:200]) in self.values for v in value[:200])
        return False

    def in_metadata(self, metadata: Mapping) -> bool:
        """Whether one of the looked-at keys (any case) holds an edge-case value."""
        return any(isinstance(key, str) and key.lower() in self.keys and self.is_edge_value(value)
                   for key, value in metadata.items())


def load_markers(path: Path = MARKERS_PATH) -> EdgeMarkers:
    spec = json.loads(path.read_text(encoding="utf-8"))
    return EdgeMarkers.from_spec(spec.get("edge_markers") or {}, f"{path.name}: edge_markers")


MARKERS = load_markers()


def is_edge_tag(tag: str) -> bool:
    return MARKERS.is_edge_value(tag)


def is_edge_metadata(metadata: Mapping) -> bool:
    return MARKERS.in_metadata(metadata)


def clean_tags(raw) -> list[str]:
    """Tags from a list (or a single string) of tag names, trimmed, without empties/duplicates."""
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple):
        return []
    out: list[str] = []
    for tag in raw:
        if isinstance(tag, str | int | float) and not isinstance(tag, bool):
            text = str(tag).strip()[:80]
            if text and text not in out:
                out.append(text)
    return out


def truncate(value, limit: int = MAX_CASE_TEXT) -> str:
    """Any value as text of at most ``limit`` characters (JSON for structures)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        try:
            value = json.dumps(value, ensure_ascii=False, default=str)
        except (ValueError, RecursionError):
            value = "(a value that cannot be shown)"
    if len(value) > limit:
        return value[:limit] + "…"
    return value


def failing_case(status: str, tags: list[str], edge: bool, id="", input=None, expected=None,
                 output=None, reason=None) -> dict:
    return {
        "id": truncate(id, 200), "status": status, "tags": tags[:20], "edge": edge,
        "input": truncate(input), "expected": truncate(expected), "output": truncate(output),
        "reason": truncate(reason),
    }
