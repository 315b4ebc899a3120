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


def check_filters(form, args) -> bool:
    """Validate a list page's filter form (GET); on a fault flash "Filter ignored — …" naming each
    field and return False, so the page shows everything with status 400."""
    if not args or form.validate():
        return True
    problems = "; ".join(f"{form[name].label.text}: {errs[0]}" for name, errs in form.errors.items())
    flash(f"Filter ignored — {problems}", "error")
    return False
