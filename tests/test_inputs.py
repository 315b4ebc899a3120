"""Numbers and dates from users are bounded (forum.core.inputs): hostile values become a clear
refusal, never a driver error."""

from __future__ import annotations

from datetime import date

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from forum.core.inputs import MAX_ID, DayField, VersionField, WholeNumberField, parse_whole_number

HOSTILE = ["-1", "1e5", "1.5", "NaN", "Infinity", "0x10", " 5 ", "+5", "٣", "99999999999999999999", ""]


@pytest.mark.parametrize("text", HOSTILE)
def test_only_plain_digits_in_range_are_whole_numbers(text):
    assert parse_whole_number(text) is None


def test_whole_numbers_within_bounds():
    assert parse_whole_number("0") == 0
    assert parse_whole_number("42", 1, 100) == 42
    assert parse_whole_number(str(MAX_ID)) == MAX_ID
    assert parse_whole_number(str(MAX_ID + 1)) is None
    assert parse_whole_number("0", 1) is None


class Sample(FlaskForm):
    class Meta:
        csrf = False

    amount = WholeNumberField("Amount", lo=0, hi=1000, unit="minutes")
    version = VersionField(required=True)
    day = DayField("Day")


def form(app, **data) -> Sample:
    with app.test_request_context(method="POST", data=data):
        made = Sample(MultiDict(data))
        made.validate()
        return made


@pytest.mark.parametrize("value", ["1e5", "NaN", "-1", "1001", "0x10", "1" + "0" * 30])
def test_a_hostile_amount_is_a_form_error_naming_the_range(app, value):
    made = form(app, amount=value, version="3", day="2026-01-01")
    assert made.amount.errors == ["Give a whole number from 0 to 1,000 minutes (digits only)."]


@pytest.mark.parametrize("value", ["-1", "1e5", "1.5", "NaN", "Infinity", "0x10", " 5 ", "", "0", "99999999999999999999"])
def test_a_damaged_version_marker_is_a_form_error(app, value):
    made = form(app, amount="1", version=value, day="2026-01-01")
    assert made.version.errors == [VersionField.MESSAGE]


def test_a_good_version_marker_is_a_number(app):
    made = form(app, amount="1", version="7", day="2026-01-01")
    assert made.version.errors == [] and made.version.number == 7


@pytest.mark.parametrize("value", ["9999-12-31", "1899-12-31", "0000-00-00", "10000-01-01", "2026-02-30"])
def test_days_outside_what_can_be_stored_are_form_errors(app, value):
    made = form(app, amount="1", version="7", day=value)
    assert made.day.errors and made.day.data is None


def test_days_inside_the_range_are_dates(app):
    assert form(app, amount="1", version="7", day="9998-12-31").day.data == date(9998, 12, 31)


@pytest.mark.parametrize("path", ["/items/99999999999999999999", "/items/9223372036854775808", "/items/2147483648",
                                  "/items/0", "/meetings/99999999999999999999/pack", "/items/1%00"])
def test_ids_beyond_the_tables_are_not_found_not_errors(client, login, make_user, path):
    login(make_user())
    assert client.get(path).status_code in (400, 404)


def test_an_agenda_entry_for_a_30_digit_item_is_refused_not_an_error():
    from forum.agenda.views._common import int_or_none

    assert int_or_none("1" * 30) is None and int_or_none("12") == 12 and int_or_none("") is None
