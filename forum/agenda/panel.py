"""The item page's agenda panel: the meetings the item went to, their decisions and actions."""

from __future__ import annotations

from sqlalchemy.orm import Session

from forum.agenda import queries
from forum.agenda.common import is_executive
from forum.agenda.forms import CloseItemForm
from forum.auth.models import User
from forum.core import clock
from forum.items import panels
from forum.items.models import DecisionItem


def build(session: Session, viewer: User, item: DecisionItem) -> dict:
    """Three queries whatever the number of meetings, decisions and actions."""
    entries = queries.item_entries(session, item.id)
    latest = entries[-1] if entries else None
    close = None
    if latest is not None and is_executive(viewer) and item.status == "decided" \
            and latest.decisions and item.filer_id != viewer.id \
            and not any(r.user_id == viewer.id for r in latest.recusals) \
            and all(a.done for d in latest.decisions for a in d.actions):
        close = {"decision": latest.decisions[-1], "form": CloseItemForm(formdata=None)}
    return {"entries": entries, "close": close, "today": clock.now().date()}


PANEL = panels.Panel(key="agenda", template="agenda/panel.html", build=build, order=50)
