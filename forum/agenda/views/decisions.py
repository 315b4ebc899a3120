"""Decisions: recording one on an entry (with its deciders and follow-up actions), amending it,
closing the decided item."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forum.agenda import decisions as agenda_decisions
from forum.agenda import entries as agenda_entries
from forum.agenda.decisions import ActionData, AmendmentData, DecisionData
from forum.agenda.forms import AmendmentForm, CloseItemForm, DecisionForm
from forum.agenda.views._common import attach, entry_or_404, int_or_none, or_404
from forum.agenda.views._meeting_page import kept_or_redirect, refused, render_meeting
from forum.auth.decorators import requires
from forum.core import db
from forum.core.errors import DomainError
from forum.core.policy import Action


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
        actions=[ActionData(text=row.form.text.data or "", owner_id=int_or_none(row.form.owner.data),
                            due_on=row.form.due_on.data) for row in form.actions],
    )


@requires(Action.MANAGE_AGENDA)
def decide(meeting_id: int, entry_id: int):
    entry = entry_or_404(meeting_id, entry_id)
    form = _decision_form(f"d{entry_id}")
    if not form.validate_on_submit():
        return render_meeting(meeting_id, 400, {("decide", entry_id): form})
    try:
        with db.attempt():
            decision = agenda_decisions.record_decision(db.session(), current_user, entry, _decision_data(form))
    except DomainError as error:
        return kept_or_redirect(meeting_id, ("decide", entry_id), form, error)
    flash(f"Decision recorded: {decision.outcome_label.lower()}. The item is now "
          f"{entry.item.status_label.lower()}.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry_id}"))


@requires(Action.MANAGE_AGENDA)
def amend(decision_id: int):
    session = db.session()
    decision = or_404(agenda_decisions.get_decision, decision_id)
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
            attach(form, error)
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


@requires(Action.MANAGE_AGENDA)
def close_item(decision_id: int):
    session = db.session()
    decision = or_404(agenda_decisions.get_decision, decision_id)
    form = CloseItemForm()
    if not form.validate_on_submit():
        abort(400, description="The form's security token is missing.")
    meeting_id, entry_id = decision.entry.meeting_id, decision.entry_id
    try:
        with db.attempt():
            item = agenda_decisions.close_item(session, current_user, decision)
    except DomainError as error:
        return refused(meeting_id, error)
    flash(f"“{item.title}” is closed.", "success")
    return redirect(url_for("agenda.meeting", meeting_id=meeting_id, _anchor=f"entry-{entry_id}"))


#: (rule, endpoint, view, methods): added to the blueprint by forum/agenda/views/__init__.py.
ROUTES = (
    ("/meetings/<int:meeting_id>/entries/<int:entry_id>/decision", "decide", decide, ["POST"]),
    ("/decisions/<int:decision_id>/amendment", "amend", amend, ["GET", "POST"]),
    ("/decisions/<int:decision_id>/closure", "close_item", close_item, ["POST"]),
)
