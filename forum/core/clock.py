"""The one clock of the application: timezone-aware UTC, overridable for seeding and tests."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current time as an aware UTC datetime (microsecond precision)."""
    if _source is not None:
        value = _source()
        if value.tzinfo is None:
            raise ValueError("the clock override returned a naive datetime")
        return value.astimezone(UTC)
    return datetime.now(UTC)


@contextlib.contextmanager
def override(source: Callable[[], datetime]) -> Iterator[None]:
    """Run a block with ``source`` as the clock (used by the demo seed and by tests)."""
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous
