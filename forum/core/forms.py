"""Helpers shared by the areas' forms."""

from collections.abc import Iterable

from flask import flash
from flask_wtf import FlaskForm
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


def problems(form) -> str:
    """The form's faults in one line, each named by its field's label."""
    return "; ".join(f"{form[name].label.text}: {errs[0]}" for name, errs in form.errors.items())


def check_filters(form, args, announce: bool = True) -> bool:
    """Validate a list page's filter form (GET); on a fault flash "Filter ignored — …" naming each
    field (unless ``announce`` is off: an export answers 400 itself) and return False, so the page
    shows everything with status 400."""
    if not args or form.validate():
        return True
    if announce:
        flash(f"Filter ignored — {problems(form)}", "error")
    return False


class ConfirmForm(FlaskForm):
    """The button of a confirmation page or of a one-click action: nothing but its CSRF token."""
