"""Technical proximity pages: an executive's review of a run's failing cases, proposing an edge
case (a panel on the item page), the proposed cases as an evidence CSV."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forum.auth.decorators import requires
from forum.core import db
from forum.core.errors import DomainError, NotFound
from forum.core.policy import Action
from forum.evidence import service as evidence
from forum.items import panels
from forum.items import service as items
from forum.items.views import render_detail
from forum.proximity import service
from forum.proximity.forms import ProposeCaseForm, ReviewForm

bp = Blueprint("proximity", __name__)

PANEL_CASES = 10  # proposed cases listed on the item page (the CSV has them all)


def _load_run(run_id: int):
    try:
        return evidence.get_run(db.session(), current_user, run_id)
    except NotFound as error:
        abort(404, description=error.reason)


def _load_item(item_id: int):
    try:
        return items.get_item(db.session(), current_user, item_id)
    except NotFound as error:
        abort(404, description=error.reason)


# ------------------------------------------------------------------------------------ review
@bp.route("/evidence/<int:run_id>/review", methods=["GET", "POST"])
@requires(Action.REVIEW_CASES)
def review(run_id: int):
    session = db.session()
    run, item = _load_run(run_id)
    form = ReviewForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                with db.attempt():
                    done = service.record_review(session, current_user, run, item, form.note.data or "")
            except DomainError as error:
                form.note.errors = [*form.note.errors, error.reason]
                status = error.status
                run, item = _load_run(run_id)
            else:
                shown = ("nothing failed in this run" if done.nothing_failed
                         else f"{done.cases_shown} failing case{'' if done.cases_shown == 1 else 's'} seen")
                flash(f"Review of run #{run.id} recorded: {shown}.", "success")
                return redirect(url_for("evidence.detail", run_id=run.id))
        else:
            status = 400
    return render_template(
        "proximity/review.html", run=run, item=item, cases=service.ordered_cases(run), form=form,
        reviews=service.reviews_of_run(session, run.id),
    ), status


# ---------------------------------------------------------------------------- proposed cases
def _panel(session, viewer, item) -> dict:
    """One query: the newest proposed cases with their proposers, and their count."""
    cases, counts = service.newest_proposed(session, [item.id], PANEL_CASES)
    cases, total = cases[item.id], counts[item.id]
    can = service.can_propose(viewer, item)
    return {"cases": cases, "total": total, "form": ProposeCaseForm(formdata=None) if can else None}


# What the panel offers depends on the viewer's role only (proposing, trying an input).
PANEL = panels.Panel(key="proximity", template="proximity/panel.html", build=_panel, order=25,
                     facet=lambda _session, viewer, _item: viewer.role, items_only=True)


@bp.post("/items/<int:item_id>/proposed-cases")
@requires(Action.TAKE_PART)
def propose(item_id: int):
    session = db.session()
    item = _load_item(item_id)
    form = ProposeCaseForm()
    if not form.validate_on_submit():
        return render_detail(session, item, status=400, proximity_form=form)
    try:
        with db.attempt():
            case = service.propose_case(session, current_user, item, service.ProposalData(
                form.description.data or "", form.example_input.data or ""))
    except DomainError as error:
        if error.field in ("description", "example_input"):
            form[error.field].errors = [*form[error.field].errors, error.reason]
        else:
            flash(error.reason, "error")
        return render_detail(session, _load_item(item_id), status=error.status, proximity_form=form)
    flash("Edge case proposed: it is in the item's list and in the pre-read pack, and exported for "
          "the test team with the other proposed cases.", "success")
    return redirect(url_for("items.detail", item_id=item.id, _anchor=f"case-{case.id}"))


@bp.get("/items/<int:item_id>/proposed-cases.csv")
@login_required
def export(item_id: int):
    item = _load_item(item_id)
    cases = service.proposed_cases(db.session(), [item.id])[item.id]
    response = Response(service.export_csv(cases), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="item-{item.id}-proposed-edge-cases.csv"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
