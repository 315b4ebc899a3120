"""Numbers and dates from users, bounded to what the database and Python can hold.

Every id, page number, cursor, version marker, amount and date that arrives in a URL, a query or
a form goes through one of these, so that a careless or hostile value (20 digits, ``-1``,
``1e5``, ``NaN``, ``0x10``, `` 5 ``, the year 9999) is refused with a clear message — a 404 for
an id in a path, a 400 or a form error otherwise — instead of reaching the driver (which refuses
integers beyond 64 bits with an OverflowError) or date arithmetic (which overflows past the year
9999).

- ``IdConverter`` replaces Flask's ``int`` URL converter: ids from 1 to MAX_ID (the largest value
  of the tables' INTEGER keys); anything else does not match the route (404).
- ``WholeNumberField``: a form's integer, digits only, within bounds.
- ``VersionField``: the hidden optimistic-lock marker of an edit form.
- ``DayField``: a date between FIRST_DAY and LAST_DAY.
- ``parse_whole_number``: the same rule for a query argument read by hand (``?page=``).
"""

from __future__ import annotations

import re
from datetime import date

from werkzeug.routing import IntegerConverter
from wtforms import DateField, HiddenField, IntegerField
from wtforms.validators import ValidationError

MAX_ID = 2**31 - 1  # INTEGER primary keys and sequence numbers (PostgreSQL's int4)
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)  # a day's end (+1 day) must still be a date
_DIGITS = re.compile(r"[0-9]{1,12}")


class IdConverter(IntegerConverter):
    """``<int:…>`` in a rule: digits, as Flask's own; ``refuse_out_of_range`` (a URL value
    preprocessor) answers 404 for a value outside 1..MAX_ID. Not a min/max on the converter:
    Werkzeug's matcher then reports 405 for other methods of the same rule instead of 404."""


def refuse_out_of_range(_endpoint, values) -> None:
    """404 for an id in a path beyond what the tables hold (before any query sees it)."""
    from flask import abort

    for value in (values or {}).values():
        if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= MAX_ID:
            abort(404, description="There is no such record (the number in the address is out of range).")


def parse_whole_number(text: str | None, lo: int = 0, hi: int = MAX_ID) -> int | None:
    """``text`` as a whole number from ``lo`` to ``hi``: plain digits only (no sign, exponent,
    spaces or other bases); None for anything else."""
    if text is None or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if lo <= value <= hi else None


class WholeNumberField(IntegerField):
    """An integer field that takes plain digits from ``lo`` to ``hi`` and says so otherwise."""

    def __init__(self, label=None, validators=None, lo: int = 0, hi: int = MAX_ID, unit: str = "", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.lo, self.hi, self.unit = lo, hi, unit

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] == "":
            self.data = None
            return
        self.data = parse_whole_number(valuelist[0].strip(), self.lo, self.hi)
        if self.data is None:
            unit = f" {self.unit}" if self.unit else ""
            raise ValueError(f"Give a whole number from {self.lo:,} to {self.hi:,}{unit} (digits only).")


class VersionField(HiddenField):
    """The version an edit form was made from (the optimistic lock): digits from 1 to MAX_ID.
    A damaged marker is a form error, never an exception."""

    MESSAGE = "The form's version marker is damaged; reload the page."

    def __init__(self, label=None, validators=None, required: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required = required
        self.number: int | None = None

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.number = parse_whole_number(str(self.data or ""), 1)

    def pre_validate(self, form):
        if self.data in (None, "") and not self.required:
            return
        if self.number is None:
            raise ValidationError(self.MESSAGE)


class DayField(DateField):
    """A date from FIRST_DAY to LAST_DAY (YYYY-MM-DD), with a message naming the range."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not FIRST_DAY <= self.data <= LAST_DAY:
            self.data = None
            raise ValueError(f"Give a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.")
