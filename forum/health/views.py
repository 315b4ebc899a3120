"""The forum health page (everyone logged in sees how the decision cycle keeps up) and the
executives' habit figures of technical proximity."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import login_required

from forum.core import clock, db, derived
from forum.health import proximity, service, tallies
from forum.health.sections import build_sections

bp = Blueprint("health", __name__)


def _counted(session) -> None:
    """The tallies, counted from the history once if they never were (forum.health.tallies)."""
    if tallies.ensure_counted(session):
        session.commit()


@bp.get("/health")
@login_required
def index():
    session = db.session()
    _counted(session)
    now = clock.now()

    def summarised():
        at = clock.now()
        return at, build_sections([s for s in service.SECTIONS if not s.current], session, at)

    seconds = current_app.config["HEALTH_REFRESH_SECONDS"]
    as_of, kept = derived.cached_for("health", seconds, summarised)
    built = dict((section.key, (section, context)) for section, context in kept)
    built.update((section.key, (section, context)) for section, context in
                 build_sections([s for s in service.SECTIONS if s.current], session, now))
    sections = [built[s.key] for s in service.SECTIONS if s.key in built]
    return render_template("health/index.html", sections=sections, now=now, as_of=as_of,
                           summarised=[section for section, _context in kept],
                           refresh_minutes=seconds // 60)


@bp.get("/proximity")
@login_required
def proximity_figures():
    session = db.session()
    _counted(session)
    return render_template("proximity/figures.html", figures=proximity.habit_figures(session))
