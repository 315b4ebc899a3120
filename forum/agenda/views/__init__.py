"""Agenda pages: meetings and their agendas, the pre-read pack, decisions and amendments, the
minutes, the decision register and follow-up actions. Executives manage; everyone logged in
reads.

The one blueprint ``agenda``. Each module of this package holds the pages of one use case and
lists them in its ``ROUTES`` table (rule, endpoint, view, methods), which is added here: the
endpoints (``agenda.meeting``, ``agenda.decide`` …) are the views' names.
"""

from __future__ import annotations

from flask import Blueprint

from forum.agenda.views import actions, decisions, entries, meetings, register, schedule


def _blueprint() -> Blueprint:
    blueprint = Blueprint("agenda", __name__)
    for module in (meetings, entries, decisions, register, actions, schedule):
        for rule, endpoint, view, methods in module.ROUTES:
            blueprint.add_url_rule(rule, endpoint, view, methods=methods)
    return blueprint


bp = _blueprint()
