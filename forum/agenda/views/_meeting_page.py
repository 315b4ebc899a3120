"""The meeting page (the minutes once closed) with the forms of its changes, kept with their input
and errors after a refused change: the pages that change a meeting, its entries and decisions
answer with it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from forum.agenda import common as agenda_common
from forum.agenda import meetings as agenda_meetings
from forum.agenda import queries
from forum.agenda.entries import recusals_of
from forum.agenda.forms import AddEntryForm, CloseItemForm, ConflictForm, DecisionForm, EntryForm, MeetingStatusForm
from forum.agenda.views._common import attach, entry_or_404, or_404, people_choices
from forum.core import clock, db, derived
from forum.core.errors import DomainError
from forum.core.forms import choices
from forum.core.paging import page_number
from forum.items import history
from forum.proximity import service as proximity

#: How many of a meeting's latest events its page lists; ``?history=all`` lists them all.
RECENT_EVENTS = 10


def _history(session, meeting) -> tuple[list, bool]:
    """The meeting's latest events (all of them with ``?history=all``), oldest first, and whether
    there are more: one query, however long the meeting's history."""
    if request.args.get("history") == "all":
        return history.for_item(session, meeting), False  # any object with a .subject reads the same
    events = history.for_item(session, meeting, newest=RECENT_EVENTS + 1)
    return events[-RECENT_EVENTS:], len(events) > RECENT_EVENTS


def render_meeting(meeting_id: int, status: int = 200, kept: dict | None = None):
    """The meeting page (the minutes once closed). ``kept`` holds forms to show with the input
    and errors of a refused POST, keyed by (form kind, entry id).

    Its content reads the same for everyone with the same role and the same request (the
    picker's search and page, the whole history or not), except for someone recused from one of
    its items: it is kept rendered (derived.rendered_forms) until the trail moves, per that
    facet, its forms carrying each request's own CSRF token. Thirty entries' content took 16 ms
    to read and render (docs/BENCHMARKS.md). A page with a refused form is rendered afresh."""
    session = db.session()
    if kept:
        html, title = _content(session, meeting_id, kept)
        body = derived.afresh(html)
    else:
        recused = current_user.id in queries.recused_in_meeting(session, meeting_id)
        facet = (current_user.role, current_user.id if recused else None, request.args.get("find", ""),
                 request.args.get("page", ""), request.args.get("history") == "all")
        body, title = derived.rendered_forms(session, ("meeting page", meeting_id, facet),
                                             lambda: _content(session, meeting_id, {}))
    return render_template("agenda/meeting.html", body=body, title=title), status


def _content(session, meeting_id: int, kept: dict) -> tuple[str, str]:
    """The meeting page's content (agenda/_meeting_body.html) for the viewer, and its title."""
    view = or_404(queries.meeting_view, meeting_id)
    meeting = view.meeting
    manage = agenda_common.is_executive(current_user) and meeting.is_open
    forms: dict = {"status": {}, "entry": set(), "decide": {}}  # "entry": the ids with buttons
    people = executives = queue = None
    if manage:
        people = people_choices(session, "No presenter")
        owners = choices([("", "Choose the owner"), *((c.value, c.label) for c in people[1:])])
        for spec in agenda_meetings.meeting_actions(meeting.status):
            forms["status"][spec.action] = kept.get(("status", spec.action)) or MeetingStatusForm(
                formdata=None, action=spec.action, version=str(meeting.version))
        in_session = meeting.status == "in_session"
        if in_session:
            executives = queries.executives(session)
        for entry in view.entries:
            decided = bool(entry.decisions)
            recused = any(n.user_id == current_user.id for n in view.recused[entry.id])
            if not decided:
                # Moving and removing are buttons here; the time box, the presenter and a conflict
                # of interest are changed on the entry's own page (render_entry): thirty entries'
                # forms made this page take 40 ms of rendering (docs/BENCHMARKS.md).
                forms["entry"].add(entry.id)
            if in_session and not recused and (not decided or ("decide", entry.id) in kept):
                form = kept.get(("decide", entry.id)) or DecisionForm(formdata=None, prefix=f"d{entry.id}")
                _decision_choices(form, executives, view.recused[entry.id], owners)
                forms["decide"][entry.id] = form
        queue = queries.queue_page(session, request.args.get("find", ""), page_number(request.args.get("page")),
                                   viewer=current_user)
        add = kept.get(("add", 0)) or AddEntryForm(formdata=None, prefix="add")
        _add_choices(add, queue.items, people)
        forms["add"] = add
    # Who among the possible deciders has reviewed the failing cases of each item (for the
    # decision forms; two queries for all entries of a meeting in session).
    boards = {}
    if manage and meeting.status == "in_session":
        boards = proximity.review_boards(session, [e.item_id for e in view.entries], executives)
        for entry in view.entries:
            recused_ids = {note.user_id for note in view.recused[entry.id]}
            boards[entry.item_id].rows = [r for r in boards[entry.item_id].rows if r.user.id not in recused_ids]
    close_forms = {entry_id: CloseItemForm(formdata=None) for entry_id in view.closable} \
        if agenda_common.is_executive(current_user) else {}
    events, more_events = _history(session, meeting)
    body = render_template(
        "agenda/_meeting_body.html", view=view, meeting=meeting, manage=manage, forms=forms, queue=queue,
        close_forms=close_forms, kept=kept, today=clock.now().date(), boards=boards,
        events=events, more_events=more_events, whole_history=request.args.get("history") == "all",
    )
    return body, ("Minutes: " if meeting.status == "closed" else "") + meeting.title


def render_entry(meeting_id: int, entry_id: int, status: int = 200, kept: dict | None = None):
    """An undecided agenda entry's page, for those who manage the agenda while the meeting is
    open: its time box and presenter, and declaring a conflict of interest (unless recused).
    ``kept`` holds a refused form with its input and errors, keyed by its kind ("entry",
    "conflict"). A decided entry, or one of a closed meeting, sends back to the meeting page."""
    session = db.session()
    entry = entry_or_404(meeting_id, entry_id)
    kept = kept or {}
    meeting = entry.meeting
    if not meeting.is_open or entry.decisions:
        flash("This agenda entry can no longer be changed: "
              + ("its decision is recorded." if entry.decisions else f"the meeting is {meeting.status_label.lower()}."),
              "info")
        return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry_id}"))
    recusals = recusals_of(entry)
    my_recusal = next((n for n in recusals if n.user_id == current_user.id), None)
    form = kept.get("entry") or EntryForm(formdata=None, prefix=f"e{entry.id}", time_box_minutes=entry.time_box_minutes,
                                          presenter=str(entry.presenter_id or ""))
    form.presenter.choices = people_choices(session, "No presenter")
    conflict = None if my_recusal else kept.get("conflict") or ConflictForm(formdata=None, prefix=f"c{entry.id}")
    return render_template("agenda/entry.html", meeting=meeting, entry=entry, form=form, conflict=conflict,
                           recusals=recusals, my_recusal=my_recusal), status


def entry_refused(meeting_id: int, entry_id: int, kind: str, form, error: DomainError):
    """After a refused change of an entry (undone by its savepoint): its page with the form kept."""
    attach(form, error)
    return render_entry(meeting_id, entry_id, error.status, {kind: form})


def _decision_choices(form: DecisionForm, executives, recused, owners) -> None:
    recused_ids = {note.user_id for note in recused}
    form.deciders.choices = choices(
        (u.id, u.display_name) for u in executives if u.id not in recused_ids)
    for row in form.actions:
        row.form.owner.choices = owners


def _add_choices(form: AddEntryForm, queue, people) -> None:
    options = [("", "Choose an item")]
    for entry in queue:
        label = f"#{entry.item.id} {entry.item.title}"
        if entry.carry_forward:
            label = f"Carried forward ({entry.carried_from.decision.outcome_label.lower()}): {label}"
        options.append((str(entry.item.id), label))
    form.item.choices = choices(options)
    form.presenter.choices = people


def kept_or_redirect(meeting_id: int, key, form, error: DomainError):
    """After a refused change (undone by its savepoint): the meeting page with the form kept."""
    attach(form, error)
    return render_meeting(meeting_id, error.status, {key: form})


def refused(meeting_id: int, error: DomainError):
    """After a refused change without a form to keep: say why on the meeting page."""
    flash(error.reason, "error")
    return render_meeting(meeting_id, error.status)
