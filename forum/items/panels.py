"""Extension point for the item page: other areas (forum, evidence, audit …) contribute sections.

An area registers a Panel when its views module is imported (create_app imports every
blueprint). The item view calls each panel's ``build(session, viewer, item)`` and the template
includes ``panel.template`` with the returned dict available as ``p``. A panel's build must issue
a bounded number of queries whatever the data size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.items.models import DecisionItem


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    build: Callable[[Session, User, DecisionItem], dict]
    order: int = 100
    # "main": the wide column under the summary; "side": the narrow column under the facts.
    column: str = "main"


_PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> Panel:
    _PANELS[panel.key] = panel
    return panel


def build_all(session: Session, viewer: User, item: DecisionItem) -> list[tuple[Panel, dict]]:
    return [
        (panel, panel.build(session, viewer, item))
        for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key))
    ]
