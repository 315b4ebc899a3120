"""Helpers shared by the areas' forms."""

from collections.abc import Iterable

from flask import flash
from wtforms.fields.choices import SelectChoice


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


def attach_error(form, error) -> None:
    """Show a service's DomainError next to the form field it names (else as a flashed message)."""
    target = form._fields.get(error.field) if error.field else None
    if target is not None:
        target.errors = [*target.errors, error.reason]
    else:
        flash(error.reason, "error")
