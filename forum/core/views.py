"""The home page, the health check and the load benchmark's baseline."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import text

from forum import db
from forum.forum import service as forum
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.items.service import ItemFilters

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def home():
    session = db.session()
    counts = items.status_counts(session, current_user)
    recent = items.list_items(session, current_user, ItemFilters(), 1, 8)
    mine = (
        items.list_items(session, current_user, ItemFilters(mine=True), 1, 8)
        if current_user.can_file_items else None
    )
    shown = recent.items + (mine.items if mine else [])
    weighings = forum.weigh(session, shown, forum.ForumSettings.from_config(current_app.config))
    return render_template("home.html", counts=counts, recent=recent, mine=mine, weighings=weighings)


@bp.get("/healthz")
def health():
    """Liveness and database reachability, for load balancers."""
    db.session().execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/bench/baseline")
@login_required
def bench_baseline():
    """The load benchmark's yardstick (bench/load.py): the least a page can cost on this server
    (the login session's user, one primary-key query, a one-line template). Served only when
    FORUM_BENCH_BASELINE is set; 404 otherwise."""
    if not current_app.config["BENCH_BASELINE"]:
        abort(404)
    item = db.session().get(DecisionItem, 1)
    return render_template("core/bench_baseline.html", item=item)
