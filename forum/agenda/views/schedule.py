"""From the escalation queue to a meeting's agenda in one move: an executive escalates an open
item (with the reason) and schedules it, or schedules an escalated one."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from forum.agenda import entries as agenda_entries
from forum.agenda.forms import ScheduleForm
from forum.agenda.models import Meeting
from forum.agenda.views._common import attach
from forum.auth.decorators import requires
from forum.core import db
from forum.core.errors import DomainError, NotFound
from forum.core.forms import choices
from forum.core.policy import Action
from forum.items import service as items
from forum.weighing import rules

SCHEDULABLE = ("open", "escalated")
MEETING_CHOICES = 20


def _meetings(session) -> list[Meeting]:
    """The meetings an item can still be added to before they are held, soonest first."""
    return list(session.scalars(
        select(Meeting).where(Meeting.status.in_(("draft", "published")))
        .order_by(Meeting.starts_at, Meeting.id).limit(MEETING_CHOICES)))


@requires(Action.MANAGE_AGENDA)
def schedule_item(item_id: int):
    session = db.session()
    try:
        item = items.get_item(session, current_user, item_id)
    except NotFound as error:
        abort(404, description=error.reason)
    if item.status not in SCHEDULABLE:
        flash(f"“{item.title}” is {item.status_label.lower()}: only open or escalated items go on an agenda.",
              "error")
        return redirect(url_for("items.detail", item_id=item.id))
    meetings = _meetings(session)
    form = ScheduleForm()
    form.meeting.choices = choices([("", "Choose a meeting"), *(
        (str(m.id), f"{m.title} — {m.starts_at:%d %b %Y} ({'draft' if m.status == 'draft' else 'published'})")
        for m in meetings)])
    status = 200
    if form.validate_on_submit():
        meeting = next((m for m in meetings if str(m.id) == form.meeting.data), None)
        try:
            if meeting is None:
                raise NotFound("That meeting is not open for new items any more; choose another.")
            with db.attempt():
                entry = agenda_entries.escalate_and_schedule(
                    session, current_user, item, meeting, form.reason.data or "",
                    form.time_box_minutes.data, rules.ForumSettings.from_config(current_app.config))
        except DomainError as error:
            attach(form, error)
            status = error.status
        else:
            flash(f"“{item.title}” is on the agenda of “{meeting.title}” at position {entry.position}.",
                  "success")
            return redirect(url_for("agenda.meeting", meeting_id=meeting.id, _anchor=f"entry-{entry.id}"))
    elif request.method == "POST":
        status = 400
    return render_template("agenda/schedule.html", item=item, form=form, meetings=meetings), status


#: (rule, endpoint, view, methods): added to the blueprint by forum/agenda/views/__init__.py.
ROUTES = (
    ("/escalations/<int:item_id>/schedule", "schedule_item", schedule_item, ["GET", "POST"]),
)
