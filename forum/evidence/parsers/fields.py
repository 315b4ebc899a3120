"""One value read from a record: a metric, a count, a time, a short text, a nested key. Absent or
unreadable informative values become None or ""; a count that is not one is refused."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from forum.evidence.parsers.result import ParseError


def finite(value) -> float | None:
    """A metric value as a finite float, or None (NaN, infinities, strings such as "N/A")."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def count(value, where: str, required: bool = True) -> int | None:
    """A count from the file: a whole number ≥ 0; NaN, negatives and non-numbers are refused."""
    if value is None and not required:
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(f"{value!r} is not a count (a whole number of 0 or more)", where)
    if value < 0:
        raise ParseError(f"the count {value} is negative", where)
    return value


#: Run times before this are not believed: tools write 0 or a small number for "not recorded".
EARLIEST_RUN = datetime(2000, 1, 1, tzinfo=UTC)
#: A number this large is milliseconds since the epoch, not seconds (1e11 s is the year 5138;
#: 1e11 ms is 1973, before EARLIEST_RUN anyway).
MILLISECONDS_FROM = 1e11


def parse_time(value) -> datetime | None:
    """A run time as an aware UTC datetime, or None when the value states none that can be read.

    Read: Unix time in seconds or milliseconds (a number, or a string of digits such as
    Playwright's JUnit ``timestamp="1641057782965"``), ISO 8601 with or without a zone (no zone
    is taken as UTC) and with a space instead of the ``T``, and the RFC 2822 form of e-mail and
    HTTP dates. Times before 2000 are not believed (a 0 or a small number means "not recorded").
    The run time is informative: an unreadable one is not worth refusing the file, but the gates
    then say that freshness is unknown."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
            value = float(value)
        if isinstance(value, int | float):
            if not math.isfinite(value):
                return None
            seconds = value / 1000 if abs(value) >= MILLISECONDS_FROM else value
            parsed = datetime.fromtimestamp(seconds, UTC)
        else:
            parsed = _date_text(str(value).strip())
    except (ValueError, OverflowError, OSError, TypeError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return parsed if parsed >= EARLIEST_RUN else None


def _date_text(text: str) -> datetime | None:
    if not text:
        return None
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    if re.match(r"[A-Za-z]{3},?\s", text) or re.search(r"\d\d:\d\d(:\d\d)?\s+([A-Z]{2,4}|[+-]\d{4})$", text):
        return parsedate_to_datetime(text)  # RFC 2822: "Tue, 04 Jan 2022 13:02:03 GMT"
    return None


def text_of(value, limit: int = 200) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()[:limit]


def dig(obj, *keys):
    """obj[k1][k2]… or None when any step is missing or not a mapping."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def items_of(value) -> list:
    """``value`` if it is a list, else nothing: a file may hold anything where a list belongs."""
    return value if isinstance(value, list) else []


def entries_of(value) -> dict:
    """``value`` if it is an object, else nothing: a file may hold anything where one belongs."""
    return value if isinstance(value, dict) else {}
