"""The forum health page (everyone logged in sees how the decision cycle keeps up) and the
executives' habit figures of technical proximity."""

from __future__ import annotations

from flask import Blueprint, render_template
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

    def render_body():
        now = clock.now()
        return [render_template("health/_content.html", sections=build_sections(service.SECTIONS, session, now),
                                now=now)]

    # The figures and their charts read the same for everyone: kept rendered until the next
    # change (or the next minute: evidence ages with the clock). Rendering the charts took a
    # third of the warm page.
    body = derived.rendered(session, ("health page",), render_body)[0]
    return render_template("health/index.html", body=body)


@bp.get("/proximity")
@login_required
def proximity_figures():
    session = db.session()
    _counted(session)
    return render_template("proximity/figures.html", figures=proximity.habit_figures(session))
