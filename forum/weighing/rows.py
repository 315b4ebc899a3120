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
    return lists_of_rows(session, [ids], settings, show_status)[0]


def lists_of_rows(session: Session, lists: Sequence[Sequence[int]], settings: ForumSettings,
                  show_status: bool = True) -> tuple[Markup, ...]:
    """The rows of several lists of items on one page (a home page's), each in its order: read
    and weighed together, so the same statements as one list, and kept together."""

    def render() -> list[str]:
        items = {item.id: item for item in rows_by_ids(session, DecisionItem, list(dict.fromkeys(
            id_ for ids in lists for id_ in ids)), ROW_LOADS)}
        weighings = weigh(session, list(items.values()), settings)
        macro = get_template_attribute("macros/ui.html", "item_rows")
        return [macro([items[id_] for id_ in ids if id_ in items], show_status, weighings) for ids in lists]

    if not any(lists):
        return tuple(Markup("") for _ in lists)
    key = ("item rows", tuple(tuple(ids) for ids in lists), show_status, settings, rules.RULES)
    return rendered(session, key, render, items_only=True)  # nothing of the discussion's
