"""The obligations a system carries (its frameworks, by its classification) and confirming them:
each confirmation names what shows the obligation met — an evidence run of the system's items, a
decision about them, a document — and is a trail event; reopening one is too."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import and_, delete, exists, false, or_, select, true
from sqlalchemy.orm import Session

from forum.agenda.models import AgendaEntry, Decision
from forum.auth.models import User
from forum.core import clock
from forum.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.evidence.models import EvidenceRun
from forum.items.models import DecisionItem
from forum.register.models import ObligationRecord
from forum.systems import frameworks
from forum.systems.models import AISystem
from forum.systems.service import may_change
from forum.trail.service import record

CHOICES_SHOWN = 50
MAX_NOTE = 500


@dataclass
class ObligationState:
    framework: frameworks.Framework
    obligation: frameworks.Obligation
    record: ObligationRecord | None


@dataclass
class Checklist:
    framework: frameworks.Framework
    states: list[ObligationState]

    @property
    def met(self) -> int:
        return sum(1 for s in self.states if s.record is not None)


def checklists(session: Session, system: AISystem) -> list[Checklist]:
    """Every framework's obligations that apply to the system, with their confirmations (one statement)."""
    records = {(r.framework, r.obligation): r for r in session.scalars(
        select(ObligationRecord).where(ObligationRecord.system_id == system.id))}
    lists = []
    for framework in frameworks.all_frameworks():
        states = [ObligationState(framework, o, records.get((framework.key, o.key)))
                  for o in framework.applicable(system)]
        if states:
            lists.append(Checklist(framework, states))
    return lists


@dataclass
class Standing:
    """How far a system is with its obligations: what applies and what is still open."""

    applicable: int
    open: list[tuple[str, str]]  # (framework key, obligation key) not confirmed yet

    @property
    def met(self) -> int:
        return self.applicable - len(self.open)


def standings(session: Session, systems: list[AISystem]) -> dict[int, Standing]:
    """Each system's Standing (one statement for all of them)."""
    confirmed: set[tuple[int, str, str]] = set()
    if systems:
        confirmed = {tuple(row) for row in session.execute(
            select(ObligationRecord.system_id, ObligationRecord.framework, ObligationRecord.obligation)
            .where(ObligationRecord.system_id.in_([s.id for s in systems])))}
    found = {}
    for system in systems:
        pairs = [(f.key, o.key) for f in frameworks.all_frameworks() for o in f.applicable(system)]
        found[system.id] = Standing(len(pairs), [p for p in pairs if (system.id, *p) not in confirmed])
    return found


def _applies(obligation: frameworks.Obligation):
    """SQL for Obligation.applies_to."""
    if not obligation.when:
        return true()
    return or_(*(getattr(AISystem, field).in_(values) for field, values in obligation.when))


@functools.cache
def with_obligations_unmet():
    """SQL condition on AISystem: an obligation that applies to it is not confirmed (one term per
    obligation of the frameworks, whatever the register's size). Built once per process, as the
    frameworks are read once: building its terms took 2 ms of every request of the filtered
    register, whose page then came from the derived cache."""
    terms = [and_(_applies(o), ~exists().where(
        ObligationRecord.system_id == AISystem.id, ObligationRecord.framework == f.key,
        ObligationRecord.obligation == o.key)) for f in frameworks.all_frameworks() for o in f.obligations]
    return or_(*terms) if terms else false()


def run_choices(session: Session, system: AISystem) -> list[tuple[int, str]]:
    rows = session.execute(
        select(EvidenceRun.id, EvidenceRun.suite, EvidenceRun.model_version, DecisionItem.title)
        .join(DecisionItem, DecisionItem.id == EvidenceRun.item_id).where(DecisionItem.system_id == system.id)
        .order_by(EvidenceRun.id.desc()).limit(CHOICES_SHOWN))
    return [(run_id, f"{suite} ({version or 'version not stated'}) — {title}") for run_id, suite, version, title in rows]


def decision_choices(session: Session, system: AISystem) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Decision.id, Decision.outcome, Decision.recorded_at, DecisionItem.title)
        .join(AgendaEntry, AgendaEntry.id == Decision.entry_id).join(DecisionItem, DecisionItem.id == AgendaEntry.item_id)
        .where(DecisionItem.system_id == system.id).order_by(Decision.id.desc()).limit(CHOICES_SHOWN))
    return [(decision_id, f"{outcome.replace('_', ' ')}, {at:%d %b %Y} — {title}")
            for decision_id, outcome, at, title in rows]


def state_of(session: Session, system: AISystem, framework_key: str, obligation_key: str) -> ObligationState:
    """One obligation the system carries, with its confirmation if any; NotFound when the system
    carries no such obligation."""
    framework = frameworks.framework(framework_key)
    found = next((o for o in framework.applicable(system) if o.key == obligation_key), None) if framework else None
    if found is None:
        raise NotFound(f"{system.name} carries no obligation {framework_key}/{obligation_key}.")
    confirmed = session.scalar(select(ObligationRecord).where(
        ObligationRecord.system_id == system.id, ObligationRecord.framework == framework_key,
        ObligationRecord.obligation == obligation_key))
    return ObligationState(framework, found, confirmed)


def confirm(session: Session, actor: User, system: AISystem, framework_key: str, obligation_key: str, *,
            run_id: int | None = None, decision_id: int | None = None, document_url: str = "",
            note: str = "") -> ObligationRecord:
    if not may_change(actor):
        raise PermissionDenied("Only staff and executives confirm obligations.")
    state = state_of(session, system, framework_key, obligation_key)
    obligation = state.obligation
    document_url, note = (document_url or "").strip(), (note or "").strip()
    if run_id is not None and run_id not in dict(run_choices(session, system)):
        raise ValidationError("Choose an evidence run of an item about this system.", "run")
    if decision_id is not None and decision_id not in dict(decision_choices(session, system)):
        raise ValidationError("Choose a decision about an item of this system.", "decision")
    if document_url:
        parts = urlsplit(document_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(document_url) > 500:
            raise ValidationError("Give the document as an http(s) address of at most 500 characters.", "document_url")
    if run_id is None and decision_id is None and not document_url:
        raise ValidationError("Say what shows it is met: an evidence run, a decision or a document.", "run")
    if len(note) > MAX_NOTE:
        raise ValidationError(f"Keep the note to {MAX_NOTE} characters.", "note")
    if state.record is not None:
        raise Conflict(f"“{obligation.title}” is already confirmed; reopen it first to confirm it anew.", "run")
    entry = ObligationRecord(system_id=system.id, framework=framework_key, obligation=obligation_key,
                             confirmed_at=clock.now(), confirmed_by=actor.email, run_id=run_id,
                             decision_id=decision_id, document_url=document_url, note=note)
    session.add(entry)
    session.flush()
    record(session, actor, "system.obligation_confirmed", system.subject, {
        "name": system.name, "framework": framework_key, "obligation": obligation_key, "run": run_id,
        "decision": decision_id, "document_url": document_url, "note": note})
    return entry


def reopen(session: Session, actor: User, system: AISystem, framework_key: str, obligation_key: str) -> None:
    if not may_change(actor):
        raise PermissionDenied("Only staff and executives reopen obligations.")
    obligation = state_of(session, system, framework_key, obligation_key).obligation
    removed = session.execute(delete(ObligationRecord).where(
        ObligationRecord.system_id == system.id, ObligationRecord.framework == framework_key,
        ObligationRecord.obligation == obligation_key)).rowcount
    if not removed:
        raise Conflict(f"“{obligation.title}” is not confirmed.", "obligation")
    record(session, actor, "system.obligation_reopened", system.subject,
           {"name": system.name, "framework": framework_key, "obligation": obligation_key})
