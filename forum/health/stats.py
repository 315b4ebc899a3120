"""Pure statistics for the health figures: no database, no clock, so they are tested on
hand-built numbers.

Definitions (the page says them too):
- median: the middle value of the sorted values; for an even count, the mean of the two middle
  values (the usual definition, as ``statistics.median``);
- percentile p (0 < p <= 100), nearest-rank: the value at rank ceil(p / 100 * n) of the n sorted
  values (1-based). It is always one of the observed values, so "90 % of items were decided
  within this many days" holds exactly. For n = 10 the 90th percentile is the 9th value; for
  n < 10 it is the largest but (at most) one value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime


def median(values: Iterable[float]) -> float | None:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return None
    middle = n // 2
    if n % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Iterable[float], p: float) -> float | None:
    """The nearest-rank ``p``-th percentile, or None for no values."""
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p!r} is outside (0, 100]")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class Summary:
    count: int
    median: float | None
    p90: float | None


def summarise(values: Sequence[float]) -> Summary:
    return Summary(len(values), median(values), percentile(values, 90))


def summarise_counts(counts: Iterable[tuple[float, int]]) -> Summary:
    """The same summary of values given as (value, how many times): a histogram, never expanded."""
    ordered = sorted((value, n) for value, n in counts if n > 0)
    total = sum(n for _value, n in ordered)
    if not total:
        return Summary(0, None, None)

    def at(rank: int) -> float:  # the value at 1-based ``rank`` of the sorted values
        seen = 0
        for value, n in ordered:
            seen += n
            if seen >= rank:
                return value
        raise AssertionError("rank beyond the count")

    middle = total // 2
    mid = at(middle + 1) if total % 2 else (at(middle) + at(middle + 1)) / 2
    return Summary(total, mid, at(max(math.ceil(90 / 100 * total), 1)))


def aware(value: datetime) -> datetime:
    """An aggregate of a UTC column should come back typed; keep it aware in any case."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def days_between(start: datetime, end: datetime) -> float:
    """Elapsed days (fractional) from ``start`` to ``end``."""
    return (end - start).total_seconds() / 86_400


def month_starts(end: date, months: int) -> list[date]:
    """The first days of the ``months`` calendar months ending with ``end``'s month, oldest first."""
    year, month = end.year, end.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return starts[::-1]


def per_month(moments: Iterable[datetime], end: date, months: int = 12) -> list[tuple[date, int]]:
    """How many of ``moments`` fall in each of the ``months`` calendar months (UTC) ending with
    ``end``'s month, oldest first; months without any count 0, moments outside are ignored."""
    starts = month_starts(end, months)
    counts = {start: 0 for start in starts}
    for moment in moments:
        key = date(moment.year, moment.month, 1)
        if key in counts:
            counts[key] += 1
    return [(start, counts[start]) for start in starts]


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
