"""Every area's models, imported in one place so that the metadata is complete (Alembic, tests)."""

from forum.agenda.models import Action, AgendaEntry, Decision, Meeting, Recusal
from forum.api.models import ApiToken
from forum.audit.models import Checkpoint
from forum.auth.models import OrgFunction, SetPasswordLink, User
from forum.core.db import Base
from forum.evidence.models import EvidenceChunk, EvidenceRun
from forum.health.models import HealthCycle, HealthItemPart, HealthTally
from forum.items.models import DecisionItem
from forum.notify.models import EmailOptOut, Follow, Notification, OutboxMessage, ReminderSent
from forum.probes.models import ModelEndpoint, Probe, ProbeAnswer
from forum.proximity.models import ProposedCase, Review
from forum.register.models import GroupCount, ObligationRecord
from forum.systems.models import AISystem, SystemVersion
from forum.trail.models import Event, TrailHead
from forum.weighing.models import Comment, Escalation, Position, WeightRating

__all__ = [
    "AISystem", "Action", "AgendaEntry", "ApiToken", "Base", "Checkpoint", "Comment", "Decision",
    "DecisionItem", "EmailOptOut", "Escalation", "Event", "EvidenceChunk", "EvidenceRun", "Follow", "HealthCycle", "HealthItemPart", "HealthTally", "Meeting",
    "GroupCount", "ModelEndpoint", "Notification", "ObligationRecord", "OrgFunction", "OutboxMessage", "Position", "Probe",
    "ProbeAnswer", "ProposedCase", "Recusal",
    "ReminderSent", "Review", "SetPasswordLink", "SystemVersion", "TrailHead", "User", "WeightRating",
]
