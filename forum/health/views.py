"""The forum health page (everyone logged in sees how the decision cycle keeps up) and the
executives' habit figures of technical proximity."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from forum.core import clock, db
from forum.health import proximity, service
from forum.health.sections import build_sections

bp = Blueprint("health", __name__)


@bp.get("/health")
@login_required
def index():
    now = clock.now()
    sections = build_sections(service.SECTIONS, db.session(), now)
    return render_template("health/index.html", sections=sections, now=now)


@bp.get("/proximity")
@login_required
def proximity_figures():
    return render_template("proximity/figures.html", figures=proximity.habit_figures(db.session()))
