"""What the agenda's pages share: loading or 404, service errors shown on their form field,
paging, people to choose from."""

from __future__ import annotations

from flask import abort, flash, request

from forum.agenda import entries as agenda_entries
from forum.agenda import queries
from forum.core import db, paging
from forum.core.errors import DomainError, NotFound
from forum.core.forms import choices
from forum.core.inputs import parse_whole_number


def or_404(fn, *args):
    try:
        return fn(db.session(), *args)
    except NotFound as error:
        abort(404, description=error.reason)


def _field(form, name: str | None):
    """The form field a service error names ("rationale", "actions-1-owner" …), or None."""
    if not name:
        return None
    parts = name.split("-")
    target = form
    try:
        while parts:
            part = parts.pop(0)
            if part.isdigit():
                target = target.entries[int(part)].form
            else:
                target = target[part]
    except (KeyError, IndexError, AttributeError, TypeError):
        return None
    return target if hasattr(target, "errors") and not hasattr(target, "entries") else None


def attach(form, error: DomainError) -> None:
    target = _field(form, error.field)
    if target is not None:
        target.errors = [*target.errors, error.reason]
    else:
        flash(error.reason, "error")


def page_number() -> int:
    return paging.page_number(request.args.get("page"))


def people_choices(session, blank: str) -> list:
    return choices([("", blank), *((str(u.id), u.display_name) for u in queries.people(session))])


def int_or_none(value) -> int | None:
    """A form's id or version as an int; None when it is missing, not plain digits or beyond what
    the database holds (the service then refuses it with its own message)."""
    return parse_whole_number(str(value), 0) if value not in (None, "") else None


def entry_or_404(meeting_id: int, entry_id: int):
    return or_404(agenda_entries.get_entry, meeting_id, entry_id)
