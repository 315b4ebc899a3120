"""Every area's models, imported in one place so that the metadata is complete (Alembic, tests)."""

from forum.audit.models import Checkpoint
from forum.auth.models import OrgFunction, User
from forum.db import Base
from forum.items.models import DecisionItem
from forum.trail.models import Event, TrailHead

__all__ = ["Base", "Checkpoint", "DecisionItem", "Event", "OrgFunction", "TrailHead", "User"]
