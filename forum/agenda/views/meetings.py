"""Meetings: the list, planning and editing one, its page (the minutes once closed), its status
changes and its pre-read pack."""

from __future__ import annotations

from datetime import UTC

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum.agenda import meetings as agenda_meetings
from forum.agenda import queries
from forum.agenda.forms import MeetingForm, MeetingStatusForm
from forum.agenda.meetings import MeetingData
from forum.agenda.pack import build_sections
from forum.agenda.views._common import attach, int_or_none, or_404, page_number
from forum.agenda.views._meeting_page import kept_or_redirect, render_meeting
from forum.auth.decorators import requires
from forum.core import db, derived, paging
from forum.core.errors import DomainError
from forum.core.policy import Action, allows


@login_required
def meetings():
    upcoming, closed = queries.list_meetings(db.session(), page_number(),
                                             upcoming_page=paging.page_number(request.args.get("upcoming")))
    return render_template("agenda/meetings.html", upcoming=upcoming, closed=closed)


def _meeting_data(form: MeetingForm) -> MeetingData:
    starts = form.starts_at.data
    return MeetingData(
        title=form.title.data or "",
        starts_at=starts.replace(tzinfo=UTC) if starts is not None else None,
        duration_minutes=form.duration_minutes.data,
    )


@requires(Action.MANAGE_AGENDA)
def new_meeting():
    form = MeetingForm()
    status = 200
    if form.validate_on_submit():
        try:
            with db.attempt():
                meeting = agenda_meetings.create_meeting(db.session(), current_user, _meeting_data(form))
        except DomainError as error:
            attach(form, error)
            status = error.status
        else:
            flash("Meeting planned as a draft: add items to its agenda, then publish it.", "success")
            return redirect(url_for("agenda.meeting", meeting_id=meeting.id))
    elif request.method == "POST":
        status = 400
    return render_template("agenda/meeting_form.html", form=form, meeting=None), status


@requires(Action.MANAGE_AGENDA)
def edit_meeting(meeting_id: int):
    session = db.session()
    meeting = or_404(agenda_meetings.get_meeting, meeting_id)
    if meeting.status == "closed":
        flash("The meeting is closed: its details can no longer change.", "error")
        return redirect(url_for("agenda.meeting", meeting_id=meeting.id))
    if request.method == "POST":
        form = MeetingForm()
    else:
        form = MeetingForm(formdata=None, title=meeting.title, duration_minutes=meeting.duration_minutes,
                           starts_at=meeting.starts_at.replace(tzinfo=None), version=str(meeting.version))
    status, conflict = 200, False
    if form.validate_on_submit():
        try:
            with db.attempt():
                changes = agenda_meetings.update_meeting(session, current_user, meeting, _meeting_data(form),
                                                         int_or_none(form.version.data))
        except DomainError as error:
            attach(form, error)
            status, conflict = error.status, error.field == "version"
            if conflict:
                form.version.data = str(meeting.version)
        else:
            flash("Meeting details saved." if changes else "Nothing changed.", "success" if changes else "info")
            return redirect(url_for("agenda.meeting", meeting_id=meeting.id))
    elif request.method == "POST":
        status = 400
    return render_template("agenda/meeting_form.html", form=form, meeting=meeting, conflict=conflict), status


@login_required
def meeting(meeting_id: int):
    return render_meeting(meeting_id)


@requires(Action.MANAGE_AGENDA)
def change_status(meeting_id: int):
    meeting = or_404(agenda_meetings.get_meeting, meeting_id)
    form = MeetingStatusForm()
    if not form.validate_on_submit():
        abort(400, description="The action or the meeting's version is missing from the form.")
    action = form.action.data
    if action == "close" and not form.confirm.data:
        form.confirm.errors = ["Tick the box to confirm that the meeting is to be closed."]
        return render_meeting(meeting_id, 400, {("status", "close"): form})
    try:
        with db.attempt():
            agenda_meetings.change_meeting_status(db.session(), current_user, meeting, action,
                                                  int_or_none(form.version.data))
    except DomainError as error:
        return kept_or_redirect(meeting_id, ("status", action), form, error)
    flash(f"The meeting is now {meeting.status_label.lower()}.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting.id))


@login_required
def pack(meeting_id: int):
    """The pre-read pack. Its article is kept rendered in the derived cache until the trail
    moves (or the minute turns): it reads the same for every reader with the same permission to
    review failing cases, and with 30 entries building it took 40 ms (docs/BENCHMARKS.md)."""
    session = db.session()
    may_review = allows(current_user, Action.REVIEW_CASES)

    def article() -> tuple[str, str]:
        meeting, entries = or_404(queries.pack_entries, meeting_id)
        sections = build_sections(session, [entry.item for entry in entries])
        return render_template("agenda/_pack_article.html", meeting=meeting, entries=entries,
                               sections=sections), meeting.title

    html, title = derived.rendered_with(session, ("pack", meeting_id, may_review), article)
    return render_template("agenda/pack.html", meeting_id=meeting_id, title=title, article=html)


#: (rule, endpoint, view, methods): added to the blueprint by forum/agenda/views/__init__.py.
ROUTES = (
    ("/meetings", "meetings", meetings, ["GET"]),
    ("/meetings/new", "new_meeting", new_meeting, ["GET", "POST"]),
    ("/meetings/<int:meeting_id>/edit", "edit_meeting", edit_meeting, ["GET", "POST"]),
    ("/meetings/<int:meeting_id>", "meeting", meeting, ["GET"]),
    ("/meetings/<int:meeting_id>/status", "change_status", change_status, ["POST"]),
    ("/meetings/<int:meeting_id>/pack", "pack", pack, ["GET"]),
)
