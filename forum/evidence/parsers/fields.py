"""One value read from a record: a metric, a count, a time, a short text, a nested key. Absent or
unreadable informative values become None or ""; a count that is not one is refused."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

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


def parse_time(value) -> datetime | None:
    """An ISO 8601 string or a Unix timestamp as an aware UTC datetime; None when absent or
    unreadable (the run time is informative: a bad one is not worth refusing the file)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            if not math.isfinite(value):
                return None
            return datetime.fromtimestamp(value, UTC)
        text = str(value).strip()
        if not text:
            return None
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


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
