"""What a system's page reads: its items with their standing, the latest evidence of each suite
across them, its decisions and its versions — a bounded number of statements whatever the
register's size, read as plain facts (not ORM rows) so that ``system_page`` can keep them in the
derived cache until the trail moves: under a write a second, most requests read none of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from forum.agenda.models import Action, AgendaEntry, Decision
from forum.core.derived import cached
from forum.core.paging import first_ids
from forum.evidence import gates
from forum.evidence.gates import stale_by_version
from forum.evidence.models import EvidenceRun
from forum.evidence.service import item_tiers, recheck
from forum.items.models import DecisionItem
from forum.systems.models import AISystem, SystemVersion
from forum.weighing.drift import needs_revalidation

ITEMS_SHOWN = 20
SUITES_SHOWN = 20
DECISIONS_SHOWN = 10
VERSIONS_SHOWN = 20


@dataclass(frozen=True)
class ItemFacts:
    id: int
    title: str
    category_label: str
    model_version: str
    created_at: datetime
    status: str
    status_label: str


@dataclass(frozen=True)
class SystemItem:
    item: ItemFacts
    needs_revalidation: bool  # decided (or closed), and its evidence drifted since


@dataclass(frozen=True)
class RunFacts:
    id: int
    suite: str
    model_version: str
    counting: str
    passed: int
    failed: int
    errored: int
    run_at: datetime | None
    gate_status: str  # the worst of its gates checked now (forum.evidence.gates.worst)
    gate_problems: tuple[str, ...]  # the labels of the gates that do not pass


@dataclass(frozen=True)
class SuiteRun:
    run: RunFacts
    item_title: str
    stale: bool  # tested on another version than the one in use


def system_items(session: Session, system: AISystem, now: datetime) -> tuple[list[SystemItem], int]:
    """The newest ITEMS_SHOWN items about the system and how many there are (two statements: the
    page's ids with the count, then those items; in one, every item of the system was read whole
    to be counted — 6 ms for the 1,200 items of the busiest system at 100,000 items, 2 ms now)."""
    total, ids = first_ids(session, DecisionItem, (DecisionItem.system_id == system.id,),
                           (DecisionItem.created_at.desc(), DecisionItem.id.desc()), ITEMS_SHOWN)
    if not ids:
        return [], 0
    rows = session.execute(
        select(DecisionItem, needs_revalidation(now).label("drifted"))
        .where(DecisionItem.id.in_(ids))
        .order_by(DecisionItem.created_at.desc(), DecisionItem.id.desc())).all()
    return [SystemItem(ItemFacts(i.id, i.title, i.category_label, i.model_version, i.created_at, i.status,
                                 i.status_label), bool(drift)) for i, drift in rows], total


def latest_runs(session: Session, system: AISystem, now: datetime) -> list[SuiteRun]:
    """The latest run of each suite across the system's items, with its gates checked now for its
    item (one statement)."""
    newest = (select(func.max(EvidenceRun.id).label("id"))
              .join(DecisionItem, DecisionItem.id == EvidenceRun.item_id)
              .where(DecisionItem.system_id == system.id)
              .group_by(EvidenceRun.suite).subquery())
    rows = session.execute(
        select(EvidenceRun, DecisionItem)
        .join(DecisionItem, DecisionItem.id == EvidenceRun.item_id)
        .where(EvidenceRun.id.in_(select(newest.c.id)))
        .order_by(EvidenceRun.suite).limit(SUITES_SHOWN)
    ).all()
    tiers = item_tiers(session, [item for _, item in rows])
    found = []
    for r, item in rows:
        checked = recheck(r, item, tiers[item.id], now)
        found.append(SuiteRun(
            RunFacts(r.id, r.suite, r.model_version, r.counting, r.passed, r.failed, r.errored, r.run_at,
                     gates.worst(checked), tuple(g.label for g in checked if g.status not in ("pass", "not_applicable"))),
            item.title, stale_by_version(r.model_version, system.version_in_use)))
    return found


@dataclass(frozen=True)
class DecisionFacts:
    id: int
    recorded_at: datetime
    revision: int
    expires_on: date | None
    conditions: str
    outcome: str
    outcome_label: str


@dataclass(frozen=True)
class SystemDecision:
    decision: DecisionFacts  # the current revision
    item_id: int
    item_title: str
    open_actions: int  # follow-up actions of the decision (any revision) not done yet
    overdue_actions: int


def system_decisions(session: Session, system: AISystem, today: date) -> tuple[list[SystemDecision], int]:
    """The newest DECISIONS_SHOWN decisions about the system's items (their current revisions)
    with their open and overdue actions, and how many there are (two statements: the page's ids
    with the count, then those decisions with their actions counted — counting the actions in the
    first statement counted them for every decision before the limit, 36 ms for the busiest
    system of the 100,000-item data set against 2 ms now)."""
    later = aliased(Decision)
    total, ids = first_ids(
        session, Decision, (DecisionItem.system_id == system.id, ~exists().where(later.amends_id == Decision.id)),
        (Decision.recorded_at.desc(), Decision.id.desc()), DECISIONS_SHOWN,
        joins=((AgendaEntry, AgendaEntry.id == Decision.entry_id), (DecisionItem, DecisionItem.id == AgendaEntry.item_id)))
    if not ids:
        return [], 0
    # The actions of every revision of the decision (they stay on the one that set them), counted
    # with CASE rather than filtered on ``done``: SQLite would take the (done, due_on) index and
    # read every open action of the organisation (80 ms) instead of this decision's (0.04 ms).
    sibling = aliased(Decision)

    def counted(condition):
        return (select(func.sum(case((condition, 1), else_=0)))
                .select_from(sibling).join(Action, Action.decision_id == sibling.id)
                .where(sibling.entry_id == Decision.entry_id).scalar_subquery())

    rows = session.execute(
        select(Decision, DecisionItem.id, DecisionItem.title, counted(Action.done.is_(False)),
               counted(and_(Action.done.is_(False), Action.due_on < today)))
        .join(AgendaEntry, AgendaEntry.id == Decision.entry_id)
        .join(DecisionItem, DecisionItem.id == AgendaEntry.item_id)
        .where(Decision.id.in_(ids))
        .order_by(Decision.recorded_at.desc(), Decision.id.desc())
    ).all()
    return [SystemDecision(DecisionFacts(d.id, d.recorded_at, d.revision, d.expires_on, d.conditions, d.outcome,
                                         d.outcome_label), item_id, title, n_open or 0, n_overdue or 0)
            for d, item_id, title, n_open, n_overdue in rows], total


@dataclass(frozen=True)
class VersionFacts:
    version: str
    recorded_at: datetime
    note: str


@dataclass(frozen=True)
class VersionHistory:
    version: VersionFacts
    runs: int  # evidence runs of the system's items that tested this version
    last_tested: datetime | None
    last_decided: datetime | None  # the latest decision about its items while this version was in use


def version_history(session: Session, system: AISystem) -> list[VersionHistory]:
    """The newest VERSIONS_SHOWN versions, each with when it was tested and decided on (one
    statement). A version is in use from its recording until the system's next one: each
    decision about the system's items belongs to the latest version recorded at or before it
    (one probe of the system's versions per decision), and the decisions are grouped by that
    version in one pass — not searched once per version."""
    version, earlier = SystemVersion, aliased(SystemVersion)
    in_use = (select(earlier.id).where(earlier.system_id == system.id, earlier.recorded_at <= Decision.recorded_at)
              .order_by(earlier.recorded_at.desc(), earlier.id.desc()).limit(1)
              .correlate(Decision).scalar_subquery())
    decided = (select(in_use.label("version_id"), func.max(Decision.recorded_at).label("last"))
               .join(AgendaEntry, AgendaEntry.id == Decision.entry_id)
               .join(DecisionItem, DecisionItem.id == AgendaEntry.item_id)
               .where(DecisionItem.system_id == system.id).group_by(in_use).subquery())
    tested = (select(EvidenceRun.model_version.label("v"), func.count().label("runs"),
                     func.max(func.coalesce(EvidenceRun.run_at, EvidenceRun.uploaded_at)).label("last"))
              .join(DecisionItem, DecisionItem.id == EvidenceRun.item_id)
              .where(DecisionItem.system_id == system.id).group_by(EvidenceRun.model_version).subquery())
    rows = session.execute(
        select(version, tested.c.runs, tested.c.last, decided.c.last)
        .outerjoin(tested, tested.c.v == version.version)
        .outerjoin(decided, decided.c.version_id == version.id)
        .where(version.system_id == system.id)
        .order_by(version.recorded_at.desc(), version.id.desc()).limit(VERSIONS_SHOWN)
    ).all()
    return [VersionHistory(VersionFacts(v.version, v.recorded_at, v.note), runs or 0, last, last_decided)
            for v, runs, last, last_decided in rows]


@dataclass(frozen=True)
class SystemPage:
    items: list[SystemItem]
    items_total: int
    runs: list[SuiteRun]
    decisions: list[SystemDecision]
    decisions_total: int
    versions: list[VersionHistory]


def page_scope(system: AISystem) -> tuple:
    """What the system's page is kept under besides the trail head's ``shared_seq``
    (forum.core.derived ``scope``): the system and its own counter, which a result file for one
    of its items moves — one for another system's item leaves this page in place."""
    return ("system", system.id, system.changed_seq)


def system_page(session: Session, system: AISystem, now: datetime) -> SystemPage:
    """Everything the system's page shows but its obligations, from the derived cache while the
    system's scope stays where it was (forum.core.derived ``scope``: any change but the
    discussion's and the result files of other systems' items, a new minute, recomputes it);
    six statements when it is not there."""

    def compute() -> SystemPage:
        shown, total = system_items(session, system, now)
        decisions, decisions_total = system_decisions(session, system, now.date())
        return SystemPage(shown, total, latest_runs(session, system, now), decisions, decisions_total,
                          version_history(session, system))

    return cached(session, ("system-page", system.id), compute, scope=page_scope(system))
