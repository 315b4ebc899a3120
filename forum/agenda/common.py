"""What the agenda's services share: the limits of what they accept, who counts as an executive,
how an entry is loaded with what the rules need, and how values are written into trail events."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import selectinload

from forum.agenda.models import AgendaEntry, Recusal
from forum.auth.models import User
from forum.core import policy
from forum.core.errors import PermissionDenied
from forum.items.models import DecisionItem

MAX_TITLE = 200
MAX_DURATION = 12 * 60
MAX_TIME_BOX = 240
MAX_TEXT = 20_000
MAX_ACTION_TEXT = 500
MAX_REASON = 500


# ---------------------------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------------------------
def is_executive(user: User | None) -> bool:
    return policy.allows(user, policy.Action.MANAGE_AGENDA)


def require_executive(actor: User, doing: str) -> None:
    if not is_executive(actor):
        raise PermissionDenied(f"Only executives {doing}.")


# ---------------------------------------------------------------------------------------------
# Loading with what the rules need
# ---------------------------------------------------------------------------------------------
def entry_options():
    """Load options for an entry: its item with the filer, its meeting, recusals and decisions."""
    return (
        selectinload(AgendaEntry.item).joinedload(DecisionItem.filer),
        selectinload(AgendaEntry.meeting),
        selectinload(AgendaEntry.recusals).joinedload(Recusal.user),
        selectinload(AgendaEntry.decisions),
    )


# ---------------------------------------------------------------------------------------------
# Values in trail events
# ---------------------------------------------------------------------------------------------
def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def json_value(value):
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
