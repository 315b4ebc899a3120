"""The forum health page (everyone logged in sees how the decision cycle keeps up) and the
executives' habit figures of technical proximity."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import login_required

from forum.core import clock, db, derived
from forum.health import proximity, service
from forum.health.sections import build_sections

bp = Blueprint("health", __name__)


@bp.get("/health")
@login_required
def index():
    def compute():
        now = clock.now()
        return now, build_sections(service.SECTIONS, db.session(), now)

    now, sections = derived.cached_for("health", current_app.config["HEALTH_REFRESH_SECONDS"], compute)
    return render_template("health/index.html", sections=sections, now=now,
                           refresh_minutes=current_app.config["HEALTH_REFRESH_SECONDS"] // 60)


@bp.get("/proximity")
@login_required
def proximity_figures():
    return render_template("proximity/figures.html", figures=proximity.habit_figures(db.session()))
