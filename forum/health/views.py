"""The forum health page: everyone logged in sees how the decision cycle keeps up."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from forum.core import clock, db
from forum.health import service  # noqa: F401  (registers the built-in sections)
from forum.health.sections import build_sections

bp = Blueprint("health", __name__)


@bp.get("/health")
@login_required
def index():
    now = clock.now()
    sections = build_sections(db.session(), now)
    return render_template("health/index.html", sections=sections, now=now)
