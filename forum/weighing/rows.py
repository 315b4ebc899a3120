"""The rows of the item lists (the item list, the home pages), rendered from a page's ids.

A row shows the item, who filed it, its function and status, and the forum's flags on it (tier,
divergence, escalation recommended): the same for every viewer, and fixed by the data and the
clock. So the rendered rows of a page of ids are kept in the derived cache until the trail moves
(forum.core.derived.rendered); while they are, the page reads neither the items, nor their
ratings, positions and evidence, nor renders them again. Which ids the viewer may see is decided
before, by the query that found the page's ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import get_template_attribute
from markupsafe import Markup
from sqlalchemy.orm import Session

from forum.core.derived import rendered
from forum.core.paging import rows_by_ids
from forum.items.models import DecisionItem
from forum.items.service import ROW_LOADS
from forum.weighing import rules
from forum.weighing.rules import ForumSettings
from forum.weighing.weigh import weigh


def item_rows(session: Session, ids: Sequence[int], settings: ForumSettings, show_status: bool = True) -> Markup:
    """The rows of the items ``ids``, in that order, with their flags (macros/ui.html
    ``item_rows``): three statements and the rules' when rendered, none while kept."""

    def render() -> str:
        items = rows_by_ids(session, DecisionItem, ids, ROW_LOADS)
        return get_template_attribute("macros/ui.html", "item_rows")(items, show_status, weigh(session, items, settings))

    if not ids:
        return Markup("")
    return rendered(session, ("item rows", tuple(ids), show_status, settings, rules.RULES), render)
