"""What a parser produces: a ParsedRun, or a ParseError (or one of its kinds) saying what is wrong
and where.

Statuses: a *row* (one result record) is passed, failed, errored or skipped; the pass rate is
passed / (passed + failed + errored): skipped rows do not count either way.

Where the counts come from (``ParsedRun.counting``):
- ``cases``: the file holds one record per case, and each was counted;
- ``stated``: the file holds no per-case records, but states exact counts (inspect_ai's header:
  scored samples and accuracy; lm-eval's per-document 0/1 metrics over their sample count) —
  no tags, no failing cases, no edge cases are known from it;
- ``none``: nothing in the file can be counted (a corpus-level BLEU or F1, a results file with
  no sample count): the run has headline metrics only, and no pass rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

STATUSES = ("passed", "failed", "errored", "skipped")
COUNTINGS = ("cases", "stated", "none")
NO_TAG = "(none)"


class ParseError(ValueError):
    """The file cannot be read as evidence. ``where`` names the line, key or member at fault."""

    status = 400

    def __init__(self, message: str, where: str | None = None):
        super().__init__(f"{message} ({where})" if where else message)
        self.message = message
        self.where = where


class UnknownFormat(ParseError):
    """The content is none of the supported formats (pages answer 400, the API 415)."""


class TooLarge(ParseError):
    status = 413


@dataclass
class ParsedRun:
    format: str
    counting: str = "cases"  # one of COUNTINGS
    suite: str = ""
    model_id: str = ""
    model_version: str = ""
    run_at: datetime | None = None
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    tags: dict[str, dict[str, int]] = field(default_factory=dict)
    edge_total: int = 0
    edge_passed: int = 0
    edge_skipped: int = 0
    metrics: dict[str, float | None] = field(default_factory=dict)
    failing_cases: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errored + self.skipped

    @property
    def pass_rate(self) -> float | None:
        if self.counting == "none":
            return None
        return rate(self.passed, self.passed + self.failed + self.errored)

    @property
    def edge_pass_rate(self) -> float | None:
        return rate(self.edge_passed, self.edge_total - self.edge_skipped)


def rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None
