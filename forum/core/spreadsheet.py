"""CSV for people who open it in a spreadsheet: cells that would run as formulas stay text.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return before one) as a
formula, which is how a title such as ``=HYPERLINK(...)`` turns an export into an attack. Every
CSV the forum writes (the trail's export, proposed edge cases, the register of AI systems) passes
its cells through ``cell``; the JSON exports carry the values unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """The value, with a leading apostrophe when it is text that starts like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A whole CSV document (header first, CRLF line ends) with every cell kept text."""
    return "".join(chunks(header, [rows]))


def chunks(header: Sequence[str], batches: Iterable[Iterable[Sequence]]) -> Iterator[str]:
    """The CSV document in pieces, one per batch of rows, for a streamed download."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for rows in batches:
        for row in rows:
            writer.writerow([cell(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # no batches: the header alone
        yield buffer.getvalue()
