"""The home page, the health check and the load benchmark's baseline."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import text

from forum.core import clock, db
from forum.home import service as home_data
from forum.items.models import DecisionItem
from forum.weighing import rules

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def home():
    """The role home page: what this person should look at first."""
    session = db.session()
    now = clock.now()
    settings = rules.ForumSettings.from_config(current_app.config)
    role = current_user.role
    if role == "staff":
        page = home_data.staff_home(session, current_user, settings, now)
    elif role == "executive":
        page = home_data.executive_home(session, current_user, settings, now)
    elif role == "auditor":
        page = home_data.auditor_home(session, current_user)
    else:
        page = home_data.admin_home(session, current_user)
    return render_template("home.html", page=page, template=f"home/{role}.html")


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
