"""Agenda pages: meetings and their agendas, the pre-read pack, decisions and amendments, the
minutes, the decision register and follow-up actions. Executives manage; everyone logged in
reads."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum.agenda import actions as agenda_actions
from forum.agenda import common as agenda_common
from forum.agenda import decisions as agenda_decisions
from forum.agenda import entries as agenda_entries
from forum.agenda import meetings as agenda_meetings
from forum.agenda import queries
from forum.agenda.decisions import ActionData, AmendmentData, DecisionData
from forum.agenda.forms import (
    AddEntryForm,
    AmendmentForm,
    CloseItemForm,
    CompleteActionForm,
    ConflictForm,
    DecisionForm,
    EntryForm,
    MeetingForm,
    MeetingStatusForm,
    MoveEntryForm,
    RegisterFilterForm,
    RemoveEntryForm,
)
from forum.agenda.meetings import MeetingData
from forum.agenda.pack import build_sections, decision_filters
from forum.auth.decorators import requires
from forum.auth.service import list_functions
from forum.core import clock, db, paging
from forum.core.errors import DomainError, NotFound, ValidationError
from forum.core.forms import choices
from forum.core.policy import Action, allows
from forum.items import history
from forum.proximity import service as proximity

bp = Blueprint("agenda", __name__)


# --------------------------------------------------------------------------------- helpers
def _or_404(fn, *args):
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


def _attach(form, error: DomainError) -> None:
    target = _field(form, error.field)
    if target is not None:
        target.errors = [*target.errors, error.reason]
    else:
        flash(error.reason, "error")


def _page_number() -> int:
    return paging.page_number(request.args.get("page"))


def _people_choices(session, blank: str) -> list:
    return choices([("", blank), *((str(u.id), u.display_name) for u in queries.people(session))])


def _int_or_none(value) -> int | None:
    return int(value) if value not in (None, "") and str(value).isdigit() else None


# --------------------------------------------------------------------------------- meetings
@bp.get("/meetings")
@login_required
def meetings():
    upcoming, closed = queries.list_meetings(db.session(), _page_number())
    return render_template("agenda/meetings.html", upcoming=upcoming, closed=closed)


def _meeting_data(form: MeetingForm) -> MeetingData:
    starts = form.starts_at.data
    return MeetingData(
        title=form.title.data or "",
        starts_at=starts.replace(tzinfo=UTC) if starts is not None else None,
        duration_minutes=form.duration_minutes.data,
    )


@bp.route("/meetings/new", methods=["GET", "POST"])
@requires(Action.MANAGE_AGENDA)
def new_meeting():
    form = MeetingForm()
    status = 200
    if form.validate_on_submit():
        try:
            with db.attempt():
                meeting = agenda_meetings.create_meeting(db.session(), current_user, _meeting_data(form))
        except DomainError as error:
            _attach(form, error)
            status = error.status
        else:
            flash("Meeting planned as a draft: add items to its agenda, then publish it.", "success")
            return redirect(url_for("agenda.meeting", meeting_id=meeting.id))
    elif request.method == "POST":
        status = 400
    return render_template("agenda/meeting_form.html", form=form, meeting=None), status


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@requires(Action.MANAGE_AGENDA)
def edit_meeting(meeting_id: int):
    session = db.session()
    meeting = _or_404(agenda_meetings.get_meeting, meeting_id)
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
                                                         _int_or_none(form.version.data))
        except DomainError as error:
            _attach(form, error)
            status, conflict = error.status, error.field == "version"
            if conflict:
                form.version.data = str(meeting.version)
        else:
            flash("Meeting details saved." if changes else "Nothing changed.", "success" if changes else "info")
            return redirect(url_for("agenda.meeting", meeting_id=meeting.id))
    elif request.method == "POST":
        status = 400
    return render_template("agenda/meeting_form.html", form=form, meeting=meeting, conflict=conflict), status


@bp.get("/meetings/<int:meeting_id>")
@login_required
def meeting(meeting_id: int):
    return _render_meeting(meeting_id)


def _render_meeting(meeting_id: int, status: int = 200, kept: dict | None = None):
    """The meeting page (the minutes once closed). ``kept`` holds forms to show with the input
    and errors of a refused POST, keyed by (form kind, entry id)."""
    session = db.session()
    view = _or_404(queries.meeting_view, meeting_id)
    kept = kept or {}
    meeting = view.meeting
    manage = agenda_common.is_executive(current_user) and meeting.is_open
    forms: dict = {"status": {}, "entry": {}, "conflict": {}, "decide": {}}
    people = executives = queue = None
    if manage:
        people = _people_choices(session, "No presenter")
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
                form = kept.get(("entry", entry.id)) or EntryForm(
                    formdata=None, prefix=f"e{entry.id}", time_box_minutes=entry.time_box_minutes,
                    presenter=str(entry.presenter_id or ""))
                form.presenter.choices = people
                forms["entry"][entry.id] = form
                if not recused:
                    forms["conflict"][entry.id] = kept.get(("conflict", entry.id)) or ConflictForm(
                        formdata=None, prefix=f"c{entry.id}")
            if in_session and not recused and (not decided or ("decide", entry.id) in kept):
                form = kept.get(("decide", entry.id)) or DecisionForm(formdata=None, prefix=f"d{entry.id}")
                _decision_choices(form, executives, view.recused[entry.id], owners)
                forms["decide"][entry.id] = form
        queue = queries.escalation_queue(session)
        add = kept.get(("add", 0)) or AddEntryForm(formdata=None, prefix="add")
        _add_choices(add, queue, people)
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
    return render_template(
        "agenda/meeting.html", view=view, meeting=meeting, manage=manage, forms=forms, queue=queue,
        close_forms=close_forms, kept=kept, today=clock.now().date(), boards=boards,
        events=history.for_item(session, meeting),  # any object with a .subject reads the same
    ), status


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


def _kept_or_redirect(meeting_id: int, key, form, error: DomainError):
    """After a refused change (undone by its savepoint): the meeting page with the form kept."""
    _attach(form, error)
    return _render_meeting(meeting_id, error.status, {key: form})


def _refused(meeting_id: int, error: DomainError):
    """After a refused change without a form to keep: say why on the meeting page."""
    flash(error.reason, "error")
    return _render_meeting(meeting_id, error.status)


@bp.post("/meetings/<int:meeting_id>/status")
@requires(Action.MANAGE_AGENDA)
def change_status(meeting_id: int):
    meeting = _or_404(agenda_meetings.get_meeting, meeting_id)
    form = MeetingStatusForm()
    if not form.validate_on_submit():
        abort(400, description="The action or the meeting's version is missing from the form.")
    action = form.action.data
    if action == "close" and not form.confirm.data:
        form.confirm.errors = ["Tick the box to confirm that the meeting is to be closed."]
        return _render_meeting(meeting_id, 400, {("status", "close"): form})
    try:
        with db.attempt():
            agenda_meetings.change_meeting_status(db.session(), current_user, meeting, action,
                                                  _int_or_none(form.version.data))
    except DomainError as error:
        return _kept_or_redirect(meeting_id, ("status", action), form, error)
    flash(f"The meeting is now {meeting.status_label.lower()}.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting.id))


@bp.get("/meetings/<int:meeting_id>/pack")
@login_required
def pack(meeting_id: int):
    session = db.session()
    meeting, entries = _or_404(queries.pack_entries, meeting_id)
    sections = build_sections(session, [entry.item for entry in entries])
    return render_template("agenda/pack.html", meeting=meeting, entries=entries, sections=sections)


# --------------------------------------------------------------------------- agenda entries
@bp.post("/meetings/<int:meeting_id>/entries")
@requires(Action.MANAGE_AGENDA)
def add_entry(meeting_id: int):
    session = db.session()
    meeting = _or_404(agenda_meetings.get_meeting, meeting_id)
    form = AddEntryForm(prefix="add")
    form.item.choices = None  # any id: the service checks it against the queue
    form.presenter.choices = None
    form.item.validate_choice = form.presenter.validate_choice = False
    if not form.validate_on_submit():
        return _render_meeting(meeting_id, 400, {("add", 0): form})
    try:
        with db.attempt():
            entry = agenda_entries.add_entry(session, current_user, meeting, _int_or_none(form.item.data),
                                             form.time_box_minutes.data, _int_or_none(form.presenter.data))
    except DomainError as error:
        return _kept_or_redirect(meeting_id, ("add", 0), form, error)
    flash(f"Added to the agenda at position {entry.position}: the item is now scheduled.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry.id}"))


def _entry(meeting_id: int, entry_id: int):
    return _or_404(agenda_entries.get_entry, meeting_id, entry_id)


@bp.post("/meetings/<int:meeting_id>/entries/<int:entry_id>")
@requires(Action.MANAGE_AGENDA)
def update_entry(meeting_id: int, entry_id: int):
    entry = _entry(meeting_id, entry_id)
    form = EntryForm(prefix=f"e{entry_id}")
    form.presenter.choices = None
    form.presenter.validate_choice = False
    if not form.validate_on_submit():
        return _render_meeting(meeting_id, 400, {("entry", entry_id): form})
    try:
        with db.attempt():
            changes = agenda_entries.update_entry(db.session(), current_user, entry, form.time_box_minutes.data,
                                                  _int_or_none(form.presenter.data))
    except DomainError as error:
        return _kept_or_redirect(meeting_id, ("entry", entry_id), form, error)
    flash("Entry updated." if changes else "Nothing changed.", "success" if changes else "info")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry_id}"))


@bp.post("/meetings/<int:meeting_id>/entries/<int:entry_id>/position")
@requires(Action.MANAGE_AGENDA)
def move_entry(meeting_id: int, entry_id: int):
    entry = _entry(meeting_id, entry_id)
    form = MoveEntryForm()
    if not form.validate_on_submit():
        flash("Say which position to move the entry to.", "error")
        return _render_meeting(meeting_id, 400)
    try:
        with db.attempt():
            agenda_entries.move_entry(db.session(), current_user, entry, form.to_position.data)
    except DomainError as error:
        return _refused(meeting_id, error)
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry_id}"))


@bp.post("/meetings/<int:meeting_id>/entries/<int:entry_id>/removal")
@requires(Action.MANAGE_AGENDA)
def remove_entry(meeting_id: int, entry_id: int):
    entry = _entry(meeting_id, entry_id)
    form = RemoveEntryForm()
    if not form.validate_on_submit():
        abort(400, description="The form's security token is missing.")
    title = entry.item.title
    try:
        with db.attempt():
            agenda_entries.remove_entry(db.session(), current_user, entry)
    except DomainError as error:
        return _refused(meeting_id, error)
    flash(f"“{title}” was taken off the agenda and is back in the escalation queue.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id))


@bp.post("/meetings/<int:meeting_id>/entries/<int:entry_id>/conflict")
@requires(Action.MANAGE_AGENDA)
def declare_conflict(meeting_id: int, entry_id: int):
    entry = _entry(meeting_id, entry_id)
    form = ConflictForm(prefix=f"c{entry_id}")
    if not form.validate_on_submit():
        return _render_meeting(meeting_id, 400, {("conflict", entry_id): form})
    try:
        with db.attempt():
            agenda_entries.declare_conflict(db.session(), current_user, entry, form.reason.data)
    except DomainError as error:
        return _kept_or_redirect(meeting_id, ("conflict", entry_id), form, error)
    flash("Conflict declared: you are recused from this item.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry_id}"))


# -------------------------------------------------------------------------------- decisions
def _decision_form(prefix: str) -> DecisionForm:
    form = DecisionForm(prefix=prefix)
    form.deciders.choices = None  # ids are checked by the service
    form.deciders.validate_choice = False
    for row in form.actions:
        row.form.owner.choices = None
        row.form.owner.validate_choice = False
    return form


def _decision_data(form: DecisionForm) -> DecisionData:
    return DecisionData(
        outcome=form.outcome.data or "", rationale=form.rationale.data or "",
        conditions=form.conditions.data or "", expires_on=form.expires_on.data,
        decider_ids=list(form.deciders.data or []),
        actions=[ActionData(text=row.form.text.data or "", owner_id=_int_or_none(row.form.owner.data),
                            due_on=row.form.due_on.data) for row in form.actions],
    )


@bp.post("/meetings/<int:meeting_id>/entries/<int:entry_id>/decision")
@requires(Action.MANAGE_AGENDA)
def decide(meeting_id: int, entry_id: int):
    entry = _entry(meeting_id, entry_id)
    form = _decision_form(f"d{entry_id}")
    if not form.validate_on_submit():
        return _render_meeting(meeting_id, 400, {("decide", entry_id): form})
    try:
        with db.attempt():
            decision = agenda_decisions.record_decision(db.session(), current_user, entry, _decision_data(form))
    except DomainError as error:
        return _kept_or_redirect(meeting_id, ("decide", entry_id), form, error)
    flash(f"Decision recorded: {decision.outcome_label.lower()}. The item is now "
          f"{entry.item.status_label.lower()}.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry_id}"))


@bp.route("/decisions/<int:decision_id>/amendment", methods=["GET", "POST"])
@requires(Action.MANAGE_AGENDA)
def amend(decision_id: int):
    session = db.session()
    decision = _or_404(agenda_decisions.get_decision, decision_id)
    if request.method == "POST":
        form = AmendmentForm()
    else:
        form = AmendmentForm(formdata=None, outcome=decision.outcome, rationale=decision.rationale,
                             conditions=decision.conditions, expires_on=decision.expires_on)
    status = 200
    if form.validate_on_submit():
        try:
            with db.attempt():
                agenda_decisions.amend_decision(session, current_user, decision, AmendmentData(
                    outcome=form.outcome.data or "", rationale=form.rationale.data or "",
                    conditions=form.conditions.data or "", expires_on=form.expires_on.data,
                    reason=form.reason.data or "",
                ))
        except DomainError as error:
            _attach(form, error)
            status = error.status
            decision = agenda_decisions.get_decision(session, decision_id)
        else:
            flash("Amendment recorded: the original decision stays on record.", "success")
            return redirect(url_for("agenda.meeting", meeting_id=decision.entry.meeting_id,
                                    _anchor=f"entry-{decision.entry_id}"))
    elif request.method == "POST":
        status = 400
    recused = agenda_entries.recusal_of(decision.entry, current_user)
    return render_template("agenda/amend.html", form=form, decision=decision, recused=recused), status


@bp.post("/decisions/<int:decision_id>/closure")
@requires(Action.MANAGE_AGENDA)
def close_item(decision_id: int):
    session = db.session()
    decision = _or_404(agenda_decisions.get_decision, decision_id)
    form = CloseItemForm()
    if not form.validate_on_submit():
        abort(400, description="The form's security token is missing.")
    meeting_id, entry_id = decision.entry.meeting_id, decision.entry_id
    try:
        with db.attempt():
            item = agenda_decisions.close_item(session, current_user, decision)
    except DomainError as error:
        return _refused(meeting_id, error)
    flash(f"“{item.title}” is closed.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry_id}"))


@bp.get("/decisions")
@login_required
def decisions():
    session = db.session()
    form = RegisterFilterForm(request.args)
    form.function.choices = choices([("", "Any function"), *((f.key, f.label) for f in list_functions(session))])
    hooks = decision_filters()
    extra = {spec.key: request.args.get(spec.key, "") for spec in hooks}
    status = 200
    filters = queries.RegisterFilters()
    if request.args and not form.validate():
        status = 400
        problems = "; ".join(f"{form[name].label.text}: {errs[0]}" for name, errs in form.errors.items())
        flash(f"Filter ignored — {problems}", "error")
    else:
        filters = queries.RegisterFilters(
            outcome=form.outcome.data or "", function=form.function.data or "",
            date_from=form.date_from.data, date_to=form.date_to.data, extra=extra,
        )
    try:
        page, columns = queries.decision_register(session, filters, _page_number())
    except ValidationError as error:
        flash(f"Filter ignored — {error.reason}", "error")
        status = 400
        page, columns = queries.decision_register(session, queries.RegisterFilters(), 1)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    hook_choices = {spec.key: spec.choices(session) for spec in hooks}
    return render_template("agenda/decisions.html", page=page, form=form, query=query, hooks=hooks,
                           hook_choices=hook_choices, extra=extra, columns=columns), status


# ---------------------------------------------------------------------------------- actions
@bp.get("/actions")
@login_required
def actions():
    return _render_actions()


def _render_actions(status: int = 200, kept: dict | None = None):
    session = db.session()
    today = clock.now().date()
    overdue_only = request.args.get("overdue") == "1"
    mine = queries.open_actions(session, owner=current_user, page=1, per_page=100)
    everyone = None
    if allows(current_user, Action.OVERSEE_ACTIONS):
        everyone = queries.open_actions(session, overdue_on=today if overdue_only else None,
                                        page=_page_number())
    kept = kept or {}
    rows = [*mine.items, *(everyone.items if everyone else [])]
    forms = {
        action.id: kept.get(action.id) or CompleteActionForm(formdata=None, prefix=f"a{action.id}")
        for action in rows if agenda_actions.can_complete(current_user, action)
    }
    query = {"overdue": "1"} if overdue_only else {}
    return render_template("agenda/actions.html", mine=mine, everyone=everyone, forms=forms,
                           today=today, overdue_only=overdue_only, query=query), status


@bp.post("/actions/<int:action_id>/completion")
@login_required
def complete_action(action_id: int):
    session = db.session()
    action = _or_404(agenda_actions.get_action, action_id)
    if not agenda_actions.can_complete(current_user, action):
        abort(403, description="Only the action's owner or an executive can mark it done.")
    form = CompleteActionForm(prefix=f"a{action_id}")
    if not form.validate_on_submit():
        return _render_actions(400, {action_id: form})
    item = action.decision.entry.item
    try:
        with db.attempt():
            agenda_actions.complete_action(session, current_user, action, form.note.data)
    except DomainError as error:
        _attach(form, error)
        return _render_actions(error.status, {action_id: form})
    message = "Action marked done."
    if item.status == "closed":
        message += f" It was the last open action: “{item.title}” is now closed."
    flash(message, "success")
    return redirect(url_for("agenda.actions"))
