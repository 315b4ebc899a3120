"""Every area's models, imported in one place so that the metadata is complete (Alembic, tests)."""

from forum.agenda.models import Action, AgendaEntry, Decision, Meeting, Recusal
from forum.auth.models import OrgFunction, User
from forum.db import Base
from forum.items.models import DecisionItem
from forum.trail.models import Event, TrailHead

__all__ = [
    "Action", "AgendaEntry", "Base", "Decision", "DecisionItem", "Event", "Meeting", "OrgFunction",
    "Recusal", "TrailHead", "User",
]
