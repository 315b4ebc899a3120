"""The forum's pages: its panel on the item page, the forms it posts, and the escalation queue.

Each form posts to its own route and redirects back to the item with a flash; when the input is
refused the item page is rendered again with the form's errors and the error's status.
"""

from __future__ import annotations

import functools

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum.auth.decorators import requires
from forum.auth.service import function_labels
from forum.core import clock, db, pages, paging
from forum.core.errors import DomainError, NotFound, ValidationError
from forum.core.forms import check_filters, choices
from forum.core.policy import Action, allows
from forum.items import panels
from forum.items import service as items
from forum.items.rubric import RUBRIC
from forum.items.views import render_detail
from forum.weighing import checks, comments, drift, positions, queries, ratings, rules, weigh
from forum.weighing import queue as escalations
from forum.weighing.forms import (
    CommentForm,
    EscalationForm,
    ItemFilterForm,
    PositionForm,
    QueueFilterForm,
    RatingForm,
)
from forum.weighing.models import STANCES
from forum.weighing.rows import item_rows

bp = Blueprint("forum", __name__)

PANEL_TEMPLATE = "forum/panel.html"
DRIFTED_SHOWN = 8  # systems with decisions to revalidate, above the queue


def _settings() -> rules.ForumSettings:
    return rules.ForumSettings.from_config(current_app.config)


def _item(item_id: int):
    try:
        return items.get_item(db.session(), current_user, item_id)
    except NotFound as error:
        abort(404, description=error.reason)


def function_required(view):
    """Staff and executives who belong to a function (ratings and positions are per function)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not checks.can_weigh(current_user):
            abort(403, description="Ratings and positions are taken per function, and your "
                                   "account belongs to no function.")
        return view(*args, **kwargs)

    return requires(Action.TAKE_PART)(wrapper)


# ---------------------------------------------------------------------------------- the panel
def _rating_values(forum: weigh.ItemForum, function_key: str | None) -> dict:
    current = next((r for r in forum.ratings if r.function_key == function_key), None)
    if current is None:
        return {}
    return {f"score_{k}": v for k, v in current.scores.items()} | {"reason": current.reason}


def _position_values(forum: weigh.ItemForum, function_key: str | None) -> dict:
    current = next((p for p in forum.positions if p.function_key == function_key), None)
    return {"stance": current.stance, "rationale": current.rationale} if current else {}


def build_panel(session, viewer, item) -> dict:
    """The forum section of the item page (see forum.items.panels)."""
    settings = _settings()
    forum = weigh.item_forum(session, item, settings, request.args.get("comments", type=int))
    forms = {}
    if checks.can_weigh(viewer) and item.status in checks.WEIGHING_STATUSES:
        forms["rating"] = RatingForm(formdata=None, data=_rating_values(forum, viewer.function_key))
        forms["position"] = PositionForm(formdata=None, data=_position_values(forum, viewer.function_key))
    if comments.can_discuss(viewer) and item.status in checks.DISCUSSION_STATUSES:
        forms["comment"] = CommentForm(formdata=None)
    if item.status == "open" and items.may_perform(viewer, item, items.TRANSITIONS["escalate"]):
        forms["escalation"] = EscalationForm(formdata=None, data={"version": str(item.version)})
    editable = {c.id for c in forum.comments.items if comments.can_edit_comment(viewer, item, c)}
    rated = {r.function_key: r for r in forum.ratings}
    return {
        "forum": forum, "w": forum.weighing, "forms": forms, "rubric": RUBRIC, "stances": STANCES,
        "editable": editable, "rated": rated, "asks": _asks(viewer, forum, forms, rated),
        "flags": _flags(forum.weighing),
    }


def _flags(w) -> list[panels.Flag]:
    """The tier, a divergence and a recommended escalation, for the top of the item page."""
    if w is None or w.status == "draft":
        return []
    flags = [panels.Flag(w.tier.label, f"tier-{w.tier.key}", "#weight", "The strategic weight's tier")
             if w.tier else panels.Flag("Not rated", "tier-none", "#weight", "No function has rated the weight")]
    if w.divergent:
        flags.append(panels.Flag("Weight divergence", "flag-divergent", "#weight",
                                 "The functions' ratings differ by a tier or more"))
    if w.recommended:
        flags.append(panels.Flag("Escalation recommended", "flag-escalate", "#escalation",
                                 " ".join(r.text for r in w.reasons)))
    return flags


def _asks(viewer, forum: weigh.ItemForum, forms: dict, rated: dict) -> list[panels.Ask]:
    """What the item asks of the viewer's function: its rating and its position, while missing."""
    asks = []
    if "rating" in forms and viewer.function_key not in rated:
        asks.append(panels.Ask(f"Your function ({viewer.function_label}) has not rated the strategic weight yet.",
                               "Rate the weight", "#rate-weight"))
    if "position" in forms and not any(p.function_key == viewer.function_key for p in forum.positions):
        asks.append(panels.Ask(f"Your function ({viewer.function_label}) has not taken a position yet.",
                               "Take the position", "#take-position"))
    return asks


def _panel_facet(session, viewer, item):
    """What of the viewer the forum panel shows: what their role may do, their function (its
    rating and position fill the forms), the discussion's page, and — only for someone who
    commented on the item — who they are (their comments carry an edit link)."""
    commenter = comments.can_discuss(viewer) and viewer.id in comments.commenters(session, item.id)
    return (viewer.role, viewer.function_key, request.args.get("comments", type=int), viewer.id if commenter else None)


PANEL = panels.Panel(key="forum", template=PANEL_TEMPLATE, build=build_panel, order=10, facet=_panel_facet)


# ------------------------------------------------------------------------------ the actions
def _refused(session, item_id: int, name: str, form, error: DomainError | None = None):
    """Render the item page again with ``form`` (and its errors) in place of the blank one."""
    status = 400
    if error is not None:
        status = error.status
        shown_in_form = error.field and error.field in form and error.field != "version"
        target = form[error.field] if shown_in_form else None
        if target is not None:
            target.errors = [*target.errors, error.reason]
        else:
            flash(error.reason, "error")
    return render_detail(session, _item(item_id), status=status, forum_forms={name: form})


def _back(item, anchor: str, message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("items.detail", item_id=item.id, _anchor=anchor))


@bp.post("/items/<int:item_id>/ratings")
@function_required
def rate(item_id: int):
    session = db.session()
    item = _item(item_id)
    form = RatingForm()
    if not form.validate_on_submit():
        return _refused(session, item_id, "rating", form)
    data = ratings.RatingData(scores=form.scores(), reason=form.reason.data or "")
    try:
        with db.attempt():
            rating = ratings.rate(session, current_user, item, data)
    except DomainError as error:
        return _refused(session, item_id, "rating", form, error)
    if rating is None:
        return _back(item, "weight", "Your function's rating is unchanged.", "info")
    tier = RUBRIC.tier_for(rating.total)
    return _back(item, "weight", f"Rating saved for {current_user.function_label}: "
                                 f"{rating.total} of {RUBRIC.max_total}, {tier.label.lower()}.")


@bp.post("/items/<int:item_id>/positions")
@function_required
def take_position(item_id: int):
    session = db.session()
    item = _item(item_id)
    form = PositionForm()
    if not form.validate_on_submit():
        return _refused(session, item_id, "position", form)
    data = positions.PositionData(stance=form.stance.data, rationale=form.rationale.data or "")
    try:
        with db.attempt():
            position = positions.take_position(session, current_user, item, data)
    except DomainError as error:
        return _refused(session, item_id, "position", form, error)
    if position is None:
        return _back(item, "positions", "Your function's position is unchanged.", "info")
    return _back(item, "positions", f"Position saved for {current_user.function_label}: "
                                    f"{position.stance_label.lower()}.")


@bp.post("/items/<int:item_id>/comments")
@requires(Action.TAKE_PART)
def comment(item_id: int):
    session = db.session()
    item = _item(item_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _refused(session, item_id, "comment", form)
    try:
        with db.attempt():
            added = comments.add_comment(session, current_user, item, form.body.data or "")
    except DomainError as error:
        return _refused(session, item_id, "comment", form, error)
    flash("Comment added.", "success")
    return redirect(url_for("items.detail", item_id=item.id, _anchor=f"comment-{added.id}"))


@bp.route("/items/<int:item_id>/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@requires(Action.TAKE_PART)
def edit_comment(item_id: int, comment_id: int):
    session = db.session()
    item = _item(item_id)
    try:
        found = comments.get_comment(session, item, comment_id)
    except NotFound as error:
        abort(404, description=error.reason)
    if found.author_id != current_user.id:
        abort(403, description="Only the author of a comment can edit it.")
    form = CommentForm(data={"body": found.body} if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        try:
            with db.attempt():
                changed = comments.edit_comment(session, current_user, item, found, form.body.data or "")
        except DomainError as error:
            status = error.status
            if error.field == "body":
                form.body.errors = [*form.body.errors, error.reason]
            else:
                flash(error.reason, "error")
        else:
            flash("Comment saved; its earlier text stays in the item's history." if changed
                  else "Nothing changed.", "success" if changed else "info")
            return redirect(url_for("items.detail", item_id=item.id, _anchor=f"comment-{found.id}"))
    elif request.method == "POST":
        status = 400
    return render_template("forum/comment_edit.html", item=item, comment=found, form=form), status


@bp.post("/items/<int:item_id>/escalations")
@requires(Action.TAKE_PART)
def escalate(item_id: int):
    session = db.session()
    item = _item(item_id)
    form = EscalationForm()
    if not form.validate_on_submit():
        return _refused(session, item_id, "escalation", form)
    try:
        with db.attempt():
            escalations.escalate(session, current_user, item, form.reason.data or "", _settings(),
                             expected_version=int(form.version.data))
    except DomainError as error:
        return _refused(session, item_id, "escalation", form, error)
    return _back(item, "escalation", "Escalated: the item is now in the executives' queue.")


# ---------------------------------------------------------------------------------- the queue
@bp.get("/escalations")
@login_required
def queue():
    session = db.session()
    form = QueueFilterForm(request.args)
    form.awaiting.choices = choices([("", "Any function"), *((f.key, f.label) for f in function_labels(session))])
    status, filters = 200, escalations.QueueFilters()
    if not check_filters(form, request.args):
        status = 400
    else:
        filters = escalations.QueueFilters(
            tier=form.tier.data or "", divergent=bool(form.divergent.data),
            awaiting=form.awaiting.data or "", status=form.status.data or "",
        )
    page_number = paging.page_number(request.args.get("page"))
    settings = _settings()
    try:
        page = escalations.queue_ids(session, filters, settings, page_number, current_app.config["ITEMS_PER_PAGE"])
    except ValidationError as error:
        abort(400, description=error.reason)
    rows = escalations.queue_rows(session, page.ids, settings, allows(current_user, Action.MANAGE_AGENDA))
    query = pages.filter_args()
    systems = drift.drifted_systems(session, clock.now(), DRIFTED_SHOWN)
    filters_html = pages.kept_filters(session, "forum/_queue_filters.html", query, status == 200, form=form)
    return render_template("forum/queue.html", page=page, rows=rows, form=form, query=query,
                           drifted_systems=systems, filters_html=filters_html), status


# --------------------------------------------------------------------------------- the item list
@bp.get("/items")
@login_required
def item_list():
    """Every item the viewer may see, with the weighing's filters and each item's tier."""
    session = db.session()
    form = ItemFilterForm(request.args)
    functions = [("", "Any function"), *((f.key, f.label) for f in function_labels(session))]
    form.function.choices = choices(functions)
    form.awaiting.choices = choices(functions)
    status = 200
    if not check_filters(form, request.args):
        status = 400
        filters = queries.ItemListFilters()
    else:
        filters = queries.ItemListFilters(
            status=form.status.data or "", function=form.function.data or "",
            category=form.category.data or "", mine=request.args.get("mine") == "1",
            tier=form.tier.data or "", divergent=bool(form.divergent.data),
            awaiting=form.awaiting.data or "",
        )
    page_number = paging.page_number(request.args.get("page"))
    try:
        page = queries.list_items(session, current_user, filters, page_number, current_app.config["ITEMS_PER_PAGE"])
    except ValidationError as error:
        abort(400, description=error.reason)
    query = pages.filter_args()
    everyone_query = {k: v for k, v in query.items() if k != "mine"}
    rows = item_rows(session, page.ids, rules.ForumSettings.from_config(current_app.config))
    filters_html = pages.kept_filters(session, "items/_filters.html", query, status == 200, form=form,
                                      filters=filters)
    return render_template(
        "items/list.html", page=page, form=form, filters=filters, query=query,
        everyone_query=everyone_query, rows=rows, filters_html=filters_html,
    ), status
