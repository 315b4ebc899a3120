"""Follow-up actions: the open actions (one's own, and everyone's for those who oversee them), and
marking one done."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum.agenda import actions as agenda_actions
from forum.agenda import queries
from forum.agenda.forms import CompleteActionForm
from forum.agenda.views._common import attach, or_404, page_number
from forum.core import clock, db
from forum.core.errors import DomainError
from forum.core.policy import Action, allows


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
                                        page=page_number())
    kept = kept or {}
    rows = [*mine.items, *(everyone.items if everyone else [])]
    forms = {
        action.id: kept.get(action.id) or CompleteActionForm(formdata=None, prefix=f"a{action.id}")
        for action in rows if agenda_actions.can_complete(current_user, action)
    }
    query = {"overdue": "1"} if overdue_only else {}
    return render_template("agenda/actions.html", mine=mine, everyone=everyone, forms=forms,
                           today=today, overdue_only=overdue_only, query=query), status


@login_required
def complete_action(action_id: int):
    session = db.session()
    action = or_404(agenda_actions.get_action, action_id)
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
        attach(form, error)
        return _render_actions(error.status, {action_id: form})
    message = "Action marked done."
    if item.status == "closed":
        message += f" It was the last open action: “{item.title}” is now closed."
    flash(message, "success")
    return redirect(url_for("agenda.actions"))


#: (rule, endpoint, view, methods): added to the blueprint by forum/agenda/views/__init__.py.
ROUTES = (
    ("/actions", "actions", actions, ["GET"]),
    ("/actions/<int:action_id>/completion", "complete_action", complete_action, ["POST"]),
)
