"""Technical proximity pages: an executive's review of a run's failing cases, proposing an edge
case (a panel on the item page), the proposed cases as an evidence CSV, and the habit figures.
Also registers the item-page panel and the pre-read pack section."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from forum.core import db
from forum.agenda.pack import register_pack_section
from forum.auth.models import User
from forum.core.pages import roles_required
from forum.core.errors import DomainError, NotFound
from forum.health.sections import register_health_section
from forum.evidence import service as evidence
from forum.items import panels
from forum.items import service as items
from forum.items.views import render_detail
from forum.proximity import figures as habit
from forum.proximity import history  # noqa: F401  (registers the history describers)
from forum.proximity import service
from forum.proximity.forms import ProposeCaseForm, ReviewForm
from forum.proximity.models import Review

bp = Blueprint("proximity", __name__)

PANEL_CASES = 10  # proposed cases listed on the item page (the CSV has them all)
PACK_CASES = 20


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
@roles_required("executive")
def review(run_id: int):
    session = db.session()
    run, item = _load_run(run_id)
    form = ReviewForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                done = service.record_review(session, current_user, run, item, form.note.data or "")
            except DomainError as error:
                session.rollback()
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
    """Two queries: the newest proposed cases with their proposers, and the count."""
    cases = service.proposed_cases(session, [item.id], limit=PANEL_CASES)[item.id]
    total = service.count_proposed(session, [item.id])[item.id]
    can = service.can_propose(viewer, item)
    return {"cases": cases, "total": total, "form": ProposeCaseForm(formdata=None) if can else None}


panels.register(panels.Panel(key="proximity", template="proximity/panel.html", build=_panel, order=25))


@bp.post("/items/<int:item_id>/proposed-cases")
@roles_required("staff", "executive")
def propose(item_id: int):
    session = db.session()
    item = _load_item(item_id)
    form = ProposeCaseForm()
    if not form.validate_on_submit():
        return render_detail(session, item, status=400, proximity_form=form)
    try:
        case = service.propose_case(session, current_user, item, service.ProposalData(
            form.description.data or "", form.example_input.data or ""))
    except DomainError as error:
        session.rollback()
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


# ------------------------------------------------------------------------------ pre-read pack
def _pack(session, pack_items) -> dict[int, dict]:
    """Per item: the latest run of each suite with who has reviewed its failing cases, and the
    proposed edge cases (four queries for all the pack's items)."""
    ids = [item.id for item in pack_items]
    runs = service.latest_runs(session, ids)
    reviewers: dict[int, list[str]] = {run.id: [] for found in runs.values() for run in found}
    for run_id, name in session.execute(
        select(Review.run_id, User.display_name).join(User, User.id == Review.reviewer_id)
        .where(Review.item_id.in_(ids)).group_by(Review.run_id, User.id, User.display_name)
        .order_by(User.display_name)
    ):
        if run_id in reviewers:  # reviews of superseded runs do not count here
            reviewers[run_id].append(name)
    cases = service.proposed_cases(session, ids, limit=PACK_CASES)
    counts = service.count_proposed(session, ids)
    return {
        item_id: {"runs": [(run, reviewers[run.id]) for run in runs[item_id]], "cases": cases[item_id],
                  "total": counts[item_id]}
        for item_id in ids
    }


register_pack_section("proximity", "proximity/pack_section.html", _pack, order=25)

# The habit figures also belong on the forum-health page, after its built-in figures.
register_health_section(
    "proximity", "proximity/_figures.html",
    lambda session, now: {"figures": habit.habit_figures(session)}, order=200,
)


# ------------------------------------------------------------------------------------ figures
@bp.get("/proximity")
@login_required
def figures():
    return render_template("proximity/figures.html", figures=habit.habit_figures(db.session()))
