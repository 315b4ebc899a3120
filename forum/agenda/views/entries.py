"""Agenda entries: adding an escalated item, its time box and presenter, its position, taking it
off the agenda, declaring a conflict of interest."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from forum.agenda import entries as agenda_entries
from forum.agenda import meetings as agenda_meetings
from forum.agenda.forms import AddEntryForm, ConflictForm, EntryForm, MoveEntryForm, RemoveEntryForm
from forum.agenda.views._common import entry_or_404, int_or_none, or_404
from forum.agenda.views._meeting_page import entry_refused, kept_or_redirect, refused, render_entry, render_meeting
from forum.auth.decorators import requires
from forum.core import db
from forum.core.errors import DomainError
from forum.core.policy import Action


@requires(Action.MANAGE_AGENDA)
def add_entry(meeting_id: int):
    session = db.session()
    meeting = or_404(agenda_meetings.get_meeting, meeting_id)
    form = AddEntryForm(prefix="add")
    form.item.choices = None  # any id: the service checks it against the queue
    form.presenter.choices = None
    form.item.validate_choice = form.presenter.validate_choice = False
    if not form.validate_on_submit():
        return render_meeting(meeting_id, 400, {("add", 0): form})
    try:
        with db.attempt():
            entry = agenda_entries.add_entry(session, current_user, meeting, int_or_none(form.item.data),
                                             form.time_box_minutes.data, int_or_none(form.presenter.data))
    except DomainError as error:
        return kept_or_redirect(meeting_id, ("add", 0), form, error)
    flash(f"Added to the agenda at position {entry.position}: the item is now scheduled.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry.id}"))


@requires(Action.MANAGE_AGENDA)
def entry_page(meeting_id: int, entry_id: int):
    """An agenda entry's page: its time box and presenter, and declaring a conflict of interest."""
    return render_entry(meeting_id, entry_id)


@requires(Action.MANAGE_AGENDA)
def update_entry(meeting_id: int, entry_id: int):
    entry = entry_or_404(meeting_id, entry_id)
    form = EntryForm(prefix=f"e{entry_id}")
    form.presenter.choices = None
    form.presenter.validate_choice = False
    if not form.validate_on_submit():
        return render_entry(meeting_id, entry_id, 400, {"entry": form})
    try:
        with db.attempt():
            changes = agenda_entries.update_entry(db.session(), current_user, entry, form.time_box_minutes.data,
                                                  int_or_none(form.presenter.data))
    except DomainError as error:
        return entry_refused(meeting_id, entry_id, "entry", form, error)
    flash("Entry updated." if changes else "Nothing changed.", "success" if changes else "info")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry_id}"))


@requires(Action.MANAGE_AGENDA)
def move_entry(meeting_id: int, entry_id: int):
    entry = entry_or_404(meeting_id, entry_id)
    form = MoveEntryForm()
    if not form.validate_on_submit():
        flash("Say which position to move the entry to.", "error")
        return render_meeting(meeting_id, 400)
    try:
        with db.attempt():
            agenda_entries.move_entry(db.session(), current_user, entry, form.to_position.data)
    except DomainError as error:
        return refused(meeting_id, error)
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry_id}"))


@requires(Action.MANAGE_AGENDA)
def remove_entry(meeting_id: int, entry_id: int):
    entry = entry_or_404(meeting_id, entry_id)
    form = RemoveEntryForm()
    if not form.validate_on_submit():
        abort(400, description="The form's security token is missing.")
    title = entry.item.title
    try:
        with db.attempt():
            agenda_entries.remove_entry(db.session(), current_user, entry)
    except DomainError as error:
        return refused(meeting_id, error)
    flash(f"“{title}” was taken off the agenda and is back in the escalation queue.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id))


@requires(Action.MANAGE_AGENDA)
def declare_conflict(meeting_id: int, entry_id: int):
    entry = entry_or_404(meeting_id, entry_id)
    form = ConflictForm(prefix=f"c{entry_id}")
    if not form.validate_on_submit():
        return render_entry(meeting_id, entry_id, 400, {"conflict": form})
    try:
        with db.attempt():
            agenda_entries.declare_conflict(db.session(), current_user, entry, form.reason.data)
    except DomainError as error:
        return entry_refused(meeting_id, entry_id, "conflict", form, error)
    flash("Conflict declared: you are recused from this item.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry_id}"))


#: (rule, endpoint, view, methods): added to the blueprint by forum/agenda/views/__init__.py.
ROUTES = (
    ("/meetings/<int:meeting_id>/entries", "add_entry", add_entry, ["POST"]),
    ("/meetings/<int:meeting_id>/entries/<int:entry_id>", "entry", entry_page, ["GET"]),
    ("/meetings/<int:meeting_id>/entries/<int:entry_id>", "update_entry", update_entry, ["POST"]),
    ("/meetings/<int:meeting_id>/entries/<int:entry_id>/position", "move_entry", move_entry, ["POST"]),
    ("/meetings/<int:meeting_id>/entries/<int:entry_id>/removal", "remove_entry", remove_entry, ["POST"]),
    ("/meetings/<int:meeting_id>/entries/<int:entry_id>/conflict", "declare_conflict", declare_conflict, ["POST"]),
)
