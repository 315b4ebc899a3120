"""The item page's agenda panel: the meetings the item went to, their decisions and actions."""

from __future__ import annotations

from flask import get_template_attribute
from sqlalchemy.orm import Session

from forum.agenda import queries
from forum.agenda.common import is_executive
from forum.agenda.forms import CloseItemForm
from forum.auth.models import User
from forum.core import clock, derived
from forum.items import panels
from forum.items.models import DecisionItem


def build(session: Session, viewer: User, item: DecisionItem) -> dict:
    """The meetings the item went to, rendered (kept until the trail moves: three queries when
    not), and the form to close the item for an executive who may."""
    today = clock.now().date()

    def render() -> tuple[str, tuple]:
        entries = queries.item_entries(session, item.id)
        latest = entries[-1] if entries else None
        closing = None  # what closing the item hangs on: its latest decision, open actions, recusals
        if latest is not None and latest.decisions:
            closing = (latest.decisions[-1].id, all(a.done for d in latest.decisions for a in d.actions),
                       frozenset(r.user_id for r in latest.recusals))
        return get_template_attribute("agenda/panel.html", "entries_list")(entries, today), closing

    # The list reads the same for every viewer; what closing hangs on is kept with it.
    entries, closing = derived.rendered_with(session, ("agenda panel", item.id, today), render, items_only=True)
    close = None
    if closing is not None and is_executive(viewer) and item.status == "decided" and item.filer_id != viewer.id:
        decision_id, actions_done, recused = closing
        if actions_done and viewer.id not in recused:
            close = {"decision_id": decision_id, "form": CloseItemForm(formdata=None)}
    return {"entries": entries, "close": close}


def facet(_session, viewer: User, item: DecisionItem) -> int | None:
    """Who the panel is for: an executive other than the filer may be offered to close the item
    (unless recused), so theirs is kept per person; everyone else's reads the same."""
    return viewer.id if is_executive(viewer) and item.filer_id != viewer.id else None


PANEL = panels.Panel(key="agenda", template="agenda/panel.html", build=build, order=50, facet=facet,
                     items_only=True)
