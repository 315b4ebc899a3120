"""For auditors and regulators: a system's obligations report (every obligation that applies,
met or open, with the evidence run and the decision behind each confirmation and whether they
still hold), and the register's export in CSV or JSON with each system's standing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from forum.agenda.models import AgendaEntry, Decision
from forum.core import spreadsheet
from forum.evidence.gates import stale_by_version
from forum.evidence.models import EvidenceRun
from forum.items.models import DecisionItem
from forum.register import obligations
from forum.systems.models import AISystem
from forum.weighing import drift


@dataclass
class RunBasis:
    run: EvidenceRun
    item: DecisionItem
    stale: bool  # tested on another version than the one the system runs now


@dataclass
class DecisionBasis:
    decision: Decision
    item: DecisionItem
    amended: bool  # a later revision replaced it


@dataclass
class Line:
    state: obligations.ObligationState
    run: RunBasis | None
    decision: DecisionBasis | None

    @property
    def status(self) -> str:
        """met, met-but-check (what shows it no longer holds as it did), or open."""
        if self.state.record is None:
            return "open"
        if (self.run and self.run.stale) or (self.decision and self.decision.amended):
            return "check"
        return "met"


@dataclass
class Section:
    checklist: obligations.Checklist
    lines: list[Line]


def obligations_report(session: Session, system: AISystem) -> list[Section]:
    """Every framework's obligations for the system with what shows each met (three statements)."""
    lists = obligations.checklists(session, system)
    records = [s.record for c in lists for s in c.states if s.record is not None]
    run_ids = {r.run_id for r in records if r.run_id}
    decision_ids = {r.decision_id for r in records if r.decision_id}
    runs = {}
    if run_ids:
        for run, item in session.execute(select(EvidenceRun, DecisionItem)
                                         .join(DecisionItem, DecisionItem.id == EvidenceRun.item_id)
                                         .where(EvidenceRun.id.in_(run_ids))):
            runs[run.id] = RunBasis(run, item, stale_by_version(run.model_version, system.version_in_use))
    decisions = {}
    if decision_ids:
        later = aliased(Decision)
        for decision, item, later_id in session.execute(
                select(Decision, DecisionItem, later.id)
                .join(AgendaEntry, AgendaEntry.id == Decision.entry_id)
                .join(DecisionItem, DecisionItem.id == AgendaEntry.item_id)
                .outerjoin(later, later.amends_id == Decision.id)
                .where(Decision.id.in_(decision_ids))):
            decisions[decision.id] = DecisionBasis(decision, item, later_id is not None)
    return [Section(c, [Line(s, runs.get(s.record.run_id) if s.record else None,
                             decisions.get(s.record.decision_id) if s.record else None) for s in c.states])
            for c in lists]


def report_rows(sections: list[Section]) -> Iterator[list]:
    """The report as CSV rows (after REPORT_HEADER)."""
    for section in sections:
        for line in section.lines:
            r = line.state.record
            yield [section.checklist.framework.key, line.state.obligation.key, line.state.obligation.title,
                   line.status, r.confirmed_by if r else "", _iso(r.confirmed_at) if r else "",
                   r.run_id if r and r.run_id else "", line.run.run.suite if line.run else "",
                   line.run.run.model_version if line.run else "",
                   r.decision_id if r and r.decision_id else "",
                   line.decision.decision.outcome if line.decision else "",
                   r.document_url if r else "", r.note if r else ""]


REPORT_HEADER = ["framework", "obligation", "title", "status", "confirmed_by", "confirmed_at", "evidence_run",
                 "suite", "version_tested", "decision", "outcome", "document_url", "note"]


# ------------------------------------------------------------------------------- the export
EXPORT_FIELDS = ["id", "name", "vendor", "model", "version_in_use", "status", "owner_function", "intended_use",
                 "personal_data", "special_categories", "eu_ai_act", "high_risk_area", "gpai_role", "risk_tier",
                 "items", "decisions_to_revalidate", "obligations_applicable", "obligations_met",
                 "obligations_open", "updated_at", "url"]
BATCH = 200


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def export_batches(session: Session, conditions: list, now: datetime, url_of) -> Iterator[list[dict]]:
    """The systems meeting ``conditions`` by id, BATCH at a time (keyset), each as a dict of
    EXPORT_FIELDS; four statements per batch whatever the register's size."""
    last = 0
    while True:
        batch = list(session.scalars(select(AISystem).where(*conditions, AISystem.id > last)
                                     .order_by(AISystem.id).limit(BATCH)))
        if not batch:
            return
        ids = [s.id for s in batch]
        counts = dict(session.execute(select(DecisionItem.system_id, func.count()).where(
            DecisionItem.system_id.in_(ids)).group_by(DecisionItem.system_id)).all())
        drifted = set(session.scalars(select(AISystem.id).where(
            AISystem.id.in_(ids), drift.with_decisions_to_revalidate(now))))
        standing = obligations.standings(session, batch)
        yield [{
            "id": s.id, "name": s.name, "vendor": s.vendor, "model": s.model_name,
            "version_in_use": s.version_in_use, "status": s.status, "owner_function": s.owner_function_key,
            "intended_use": s.intended_use, "personal_data": s.personal_data,
            "special_categories": s.special_categories, "eu_ai_act": s.eu_ai_act,
            "high_risk_area": s.high_risk_area, "gpai_role": s.gpai_role, "risk_tier": s.risk_tier,
            "items": counts.get(s.id, 0), "decisions_to_revalidate": s.id in drifted,
            "obligations_applicable": standing[s.id].applicable, "obligations_met": standing[s.id].met,
            "obligations_open": [f"{f}/{o}" for f, o in standing[s.id].open],
            "updated_at": _iso(s.updated_at), "url": url_of(s),
        } for s in batch]
        last = ids[-1]
        session.expunge_all()  # a long export holds one batch at a time


def csv_chunks(batches: Iterator[list[dict]]) -> Iterator[str]:
    def rows(batch):
        for entry in batch:
            yield [";".join(entry[f]) if f == "obligations_open" else
                   ("yes" if entry[f] else "no") if isinstance(entry[f], bool) else entry[f] for f in EXPORT_FIELDS]

    return spreadsheet.chunks(EXPORT_FIELDS, (rows(batch) for batch in batches))


def json_chunks(batches: Iterator[list[dict]], exported_at: datetime, filters: dict) -> Iterator[str]:
    """One JSON document: when, with which filters, and the systems (streamed batch by batch)."""
    yield '{"exported_at": ' + json.dumps(_iso(exported_at)) + ', "filters": ' + json.dumps(filters) + ', "systems": ['
    first = True
    for batch in batches:
        for entry in batch:
            yield ("" if first else ", ") + json.dumps(entry, ensure_ascii=False)
            first = False
    yield "]}\n"
