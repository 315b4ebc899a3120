"""Who may do what: the one permission table of the forum (docs/architecture.md).

Each action names what a role may do in general; the rules about a particular record (only the
filer edits a draft, an executive recuses from items they filed, a function's member speaks for
that function) sit on top of it in the area that owns the record. Page decorators
(``forum.auth.decorators.requires``), services, the API's token scopes and the authorisation test
matrix all read this table, so changing who may do something is a change here.

Deactivated accounts may do nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

ROLES = ("staff", "executive", "auditor", "admin")


class Action(StrEnum):
    READ = "read"  # items, evidence, positions, decisions, meetings
    READ_DRAFTS = "read_drafts"  # other people's draft items, and everything on them
    FILE = "file"  # file and edit items (own, before escalation)
    TAKE_PART = "take_part"  # rate weight, take a position, comment, attach evidence, escalate, propose cases
    MANAGE_AGENDA = "manage_agenda"  # meetings, decisions, actions (with recusal on own items)
    OVERSEE_ACTIONS = "oversee_actions"  # everyone's open follow-up actions, not only one's own
    REVIEW_CASES = "review_cases"  # review a run's failing cases hands-on before deciding
    READ_TRAIL = "read_trail"  # browse, export and verify the decision trail
    RECORD_CHECKPOINT = "record_checkpoint"  # the auditors' own checkpoints of the trail
    ADMINISTER = "administer"  # accounts, functions and other people's tokens


POLICY: dict[Action, frozenset[str]] = {
    Action.READ: frozenset(ROLES),
    Action.READ_DRAFTS: frozenset({"auditor"}),
    Action.FILE: frozenset({"staff", "executive"}),
    Action.TAKE_PART: frozenset({"staff", "executive"}),
    Action.MANAGE_AGENDA: frozenset({"executive"}),
    Action.OVERSEE_ACTIONS: frozenset({"executive", "auditor"}),
    Action.REVIEW_CASES: frozenset({"executive"}),
    Action.READ_TRAIL: frozenset({"executive", "auditor"}),
    Action.RECORD_CHECKPOINT: frozenset({"auditor"}),
    Action.ADMINISTER: frozenset({"admin"}),
}


class Account(Protocol):
    role: str
    active: bool


def roles_for(action: Action) -> frozenset[str]:
    return POLICY[action]


def allows(account: Account | None, action: Action) -> bool:
    """Whether ``account`` (None: nobody logged in) may take ``action`` at all."""
    return account is not None and bool(account.active) and account.role in POLICY[action]
