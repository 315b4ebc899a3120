"""The forum's health figures, each a registered section of the /health page:

- decision cycle time per tier: days from filing an item (its ``created_at``) to its first
  settling decision (approved, approved with conditions, rejected: the decision that moved it to
  decided), for items whose first settling decision lies in the last 365 days; median and
  nearest-rank 90th percentile (forum.health.stats). The tier is the item's tier now, from its
  current weight ratings (items nobody rated are "Not rated").
- escalations per month: escalations recorded (forum escalations, with who and why) in each of
  the last 12 calendar months (UTC), the current month included.
- evidence freshness of decided items: of the items that are decided or closed, how many have
  evidence whose every current run (the latest of each suite) passes the freshness gate now,
  how many have a stale current run, and how many have no evidence.
- evidence age against the model versions in use: the current runs on every item past draft,
  by age (from the time the test ran) and by whether they tested the model version the item is
  at now.

Every figure is computed in SQL aggregates or one query per table, so the page's query count
does not grow with the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from forum.agenda.models import SETTLING_OUTCOMES, AgendaEntry, Decision
from forum.evidence import gates
from forum.evidence.models import EvidenceRun
from forum.health import proximity, stats
from forum.health.charts import Row, Series, bar_chart
from forum.health.sections import HealthSection
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC, Rubric
from forum.weighing.models import Escalation, WeightRating

CYCLE_WINDOW = timedelta(days=365)
MONTHS = 12
UNRATED = ("unrated", "Not rated")
DECIDED_STATUSES = ("decided", "closed")
AGE_BUCKETS = ((30, "0–30 days"), (90, "31–90 days"), (180, "91–180 days"), (365, "181–365 days"),
               (None, "over a year"))
NO_TIME = "run time not stated"  # the row of runs whose file states no run time


# ------------------------------------------------------------------------------ cycle time
@dataclass(frozen=True)
class TierCycle:
    key: str
    label: str
    summary: stats.Summary


def decided_cycles(session: Session, now: datetime, rubric: Rubric = RUBRIC) -> list[tuple[str, float]]:
    """(tier key, days from filing to the first settling decision) for every item whose first
    settling decision lies in the window ending ``now``. One query."""
    first = (
        select(AgendaEntry.item_id.label("item_id"), func.min(Decision.recorded_at).label("decided_at"))
        .join(Decision, Decision.entry_id == AgendaEntry.id)
        .where(Decision.outcome.in_(SETTLING_OUTCOMES))
        .group_by(AgendaEntry.item_id)
        .subquery()
    )
    top = (
        select(func.max(WeightRating.total)).where(WeightRating.item_id == DecisionItem.id)
        .correlate(DecisionItem).scalar_subquery()
    )
    rows = session.execute(
        select(DecisionItem.created_at, first.c.decided_at, top)
        .join(first, first.c.item_id == DecisionItem.id)
        .where(first.c.decided_at > now - CYCLE_WINDOW, first.c.decided_at <= now)
    ).all()
    cycles = []
    for filed_at, decided_at, highest in rows:
        decided_at = _aware(decided_at)
        tier = rubric.tier_for(highest).key if highest is not None else UNRATED[0]
        cycles.append((tier, max(0.0, stats.days_between(filed_at, decided_at))))
    return cycles


def _aware(value: datetime) -> datetime:
    """An aggregate of a UTC column should come back typed; keep it aware in any case."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cycle_by_tier(cycles: list[tuple[str, float]], rubric: Rubric = RUBRIC) -> list[TierCycle]:
    """Summaries per tier, every tier listed (highest first), "Not rated" last when it has items."""
    by_tier: dict[str, list[float]] = {}
    for tier, days in cycles:
        by_tier.setdefault(tier, []).append(days)
    result = [TierCycle(t.key, t.label, stats.summarise(by_tier.get(t.key, [])))
              for t in reversed(rubric.tiers)]
    if by_tier.get(UNRATED[0]):
        result.append(TierCycle(*UNRATED, stats.summarise(by_tier[UNRATED[0]])))
    return result


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _cycle_section(session: Session, now: datetime) -> dict:
    cycles = decided_cycles(session, now)
    tiers = cycle_by_tier(cycles)
    overall = stats.summarise([days for _tier, days in cycles])
    chart = bar_chart(
        "cycle-chart", "Decision cycle time per tier, last 12 months",
        "Median and 90th percentile of the days from filing to decision, per strategic-weight tier: "
        + "; ".join(f"{t.label}: {t.summary.count} decided, median {_days(t.summary.median)} days, "
                    f"90th percentile {_days(t.summary.p90)} days" for t in tiers) + ".",
        [Row(t.label, (t.summary.median, t.summary.p90),
             (_days(t.summary.median) + " d", _days(t.summary.p90) + " d")) for t in tiers],
        [Series("median", "Median"), Series("p90", "90th percentile")],
    )
    return {"tiers": tiers, "overall": overall, "chart": chart, "since": now - CYCLE_WINDOW}


# ----------------------------------------------------------------------------- escalations
def escalations_per_month(session: Session, now: datetime, months: int = MONTHS):
    """[(first day of month, escalations)] for the last ``months`` calendar months. One
    aggregate query: a count per month range, one row back whatever the number of escalations."""
    starts = stats.month_starts(now.date(), months)
    # The current month's range ends at ``now`` itself (an escalation at this very moment counts).
    bounds = [datetime(m.year, m.month, 1, tzinfo=now.tzinfo) for m in starts] + [now + timedelta(microseconds=1)]
    counts = session.execute(select(*(
        func.coalesce(func.sum(case((and_(Escalation.escalated_at >= low, Escalation.escalated_at < high), 1),
                                    else_=0)), 0)
        for low, high in zip(bounds, bounds[1:], strict=False)
    )).where(Escalation.escalated_at >= bounds[0], Escalation.escalated_at <= now)).one()
    return list(zip(starts, (int(n) for n in counts), strict=True))


def _escalation_section(session: Session, now: datetime) -> dict:
    months = escalations_per_month(session, now)
    total = sum(n for _m, n in months)
    chart = bar_chart(
        "escalation-chart", "Escalations per month, last 12 months",
        f"{total} escalations in the last 12 months: "
        + "; ".join(f"{m.strftime('%B %Y')}: {n}" for m, n in months) + ".",
        [Row(m.strftime("%b %Y"), (n,)) for m, n in months],
        [Series("escalations", "Escalations")],
    )
    return {"months": months, "total": total, "chart": chart}


# ------------------------------------------------------------------------ evidence freshness
#: The columns the gates need (forum.evidence.gates.Facts and the stored baseline): lists of
#: many runs load only these, not the tag breakdowns, metrics and failing cases.
GATE_COLUMNS = (
    EvidenceRun.id, EvidenceRun.item_id, EvidenceRun.suite, EvidenceRun.model_version,
    EvidenceRun.run_at, EvidenceRun.uploaded_at, EvidenceRun.passed, EvidenceRun.failed,
    EvidenceRun.errored, EvidenceRun.skipped, EvidenceRun.edge_total, EvidenceRun.edge_passed,
    EvidenceRun.edge_skipped, EvidenceRun.gate_results, EvidenceRun.counting,
)


def _current_run_ids(statuses):
    """The latest run of each suite on items in ``statuses`` (a subquery of run ids)."""
    return (
        select(func.max(EvidenceRun.id))
        .join(DecisionItem, DecisionItem.id == EvidenceRun.item_id)
        .where(DecisionItem.status.in_(statuses))
        .group_by(EvidenceRun.item_id, EvidenceRun.suite)
    )


def _stale_by_version():
    """SQL: the run tested another model version than its item's (forum.evidence.gates
    .stale_by_version): both stated, and different."""
    run_version, item_version = func.coalesce(EvidenceRun.model_version, ""), func.coalesce(DecisionItem.model_version, "")
    return and_(run_version != "", item_version != "", run_version != item_version)


def _oldest_fresh(now: datetime, rubric: Rubric = RUBRIC):
    """SQL: the earliest run time that is still fresh for the item's tier (its tier from the
    standing's highest total, forum.evidence.service.item_tiers; the default tier before any
    rating) — the freshness gate's age rule, read in the database."""
    def cut(tier_key: str | None) -> datetime:
        return now - timedelta(days=gates.thresholds_for(tier_key)["max_age_days"])

    by_total = [(DecisionItem.weight_max >= tier.min_total, cut(tier.key)) for tier in reversed(rubric.tiers)
                if tier.min_total > rubric.tiers[0].min_total]
    return case((DecisionItem.weight_max.is_(None), cut(None)), *by_total, else_=cut(rubric.tiers[0].key))


@dataclass(frozen=True)
class Freshness:
    decided: int
    fresh: int
    stale: int
    without: int
    unknown: int = 0  # current evidence none of which is stale, but some states no run time

    @property
    def share_fresh(self) -> float | None:
        return stats.share(self.fresh, self.decided)


def decided_freshness(session: Session, now: datetime) -> Freshness:
    """Decided (or closed) items by the freshness of their current evidence now, as the
    freshness gate judges it (forum.evidence.gates): stale when some current run tested another
    model version or is older than the tier allows; unknown when none is stale but some states
    no run time (or one in the future). Two aggregate queries: the work is the database's, and
    no row comes back per item."""
    decided = session.scalar(
        select(func.count()).select_from(DecisionItem).where(DecisionItem.status.in_(DECIDED_STATUSES))
    ) or 0
    by_version = _stale_by_version()
    no_time = or_(EvidenceRun.run_at.is_(None), EvidenceRun.run_at > now + gates.CLOCK_SKEW)
    stale = case((by_version, 1), (no_time, 0), (EvidenceRun.run_at < _oldest_fresh(now), 1), else_=0)
    unknown = case((by_version, 0), (no_time, 1), else_=0)
    per_item = (
        select(EvidenceRun.item_id, func.max(stale).label("stale"), func.max(unknown).label("unknown"))
        .join(DecisionItem, DecisionItem.id == EvidenceRun.item_id)
        .where(EvidenceRun.id.in_(_current_run_ids(DECIDED_STATUSES)))
        .group_by(EvidenceRun.item_id)
        .subquery()
    )
    with_evidence, stale_items, unknown_items = session.execute(select(
        func.count(),
        func.coalesce(func.sum(per_item.c.stale), 0),
        func.coalesce(func.sum(case((and_(per_item.c.stale == 0, per_item.c.unknown == 1), 1), else_=0)), 0),
    ).select_from(per_item)).one()
    return Freshness(decided, with_evidence - stale_items - unknown_items, stale_items,
                     decided - with_evidence, unknown_items)


def _freshness_section(session: Session, now: datetime) -> dict:
    f = decided_freshness(session, now)
    rows = [("Fresh evidence", f.fresh), ("Stale evidence", f.stale),
            ("Unknown freshness", f.unknown), ("No evidence", f.without)]
    chart = bar_chart(
        "freshness-chart", "Decided items by evidence freshness",
        f"Of {f.decided} decided or closed items, {f.fresh} have fresh evidence, {f.stale} stale "
        f"evidence, {f.unknown} evidence of unknown freshness and {f.without} no evidence.",
        [Row(label, (n,)) for label, n in rows], [Series("items", "Items")],
    )
    return {"f": f, "rows": rows, "chart": chart,
            "max_age": {k: v["max_age_days"] for k, v in gates.THRESHOLDS["tiers"].items()}}


# ----------------------------------------------------------------------------- evidence age
VERSION_SERIES = (
    Series("current", "Tested on the version in use"),
    Series("older", "Tested on another version"),
    Series("unknown", "Version not stated"),
)


def age_bucket(days: float) -> int:
    for index, (limit, _label) in enumerate(AGE_BUCKETS):
        if limit is None or days <= limit:
            return index
    return len(AGE_BUCKETS) - 1


def version_match(run_version: str, item_version: str) -> str:
    if not run_version or not item_version:
        return "unknown"
    return "current" if run_version == item_version else "older"


def evidence_ages(session: Session, now: datetime) -> dict[tuple[int, str], int]:
    """{(age bucket, version match): current runs} over every item past draft. One aggregate
    query (at most 18 rows back): the buckets and the version match are worked out in SQL."""
    bucket = case(
        (EvidenceRun.run_at.is_(None), len(AGE_BUCKETS)),
        *((EvidenceRun.run_at >= now - timedelta(days=limit), index)
          for index, (limit, _label) in enumerate(AGE_BUCKETS) if limit is not None),
        else_=len(AGE_BUCKETS) - 1,
    ).label("bucket")
    run_version, item_version = func.coalesce(EvidenceRun.model_version, ""), func.coalesce(DecisionItem.model_version, "")
    match = case((or_(run_version == "", item_version == ""), "unknown"), (run_version == item_version, "current"),
                 else_="older").label("match")
    rows = session.execute(
        select(bucket, match, func.count())
        .join(DecisionItem, DecisionItem.id == EvidenceRun.item_id)
        .where(EvidenceRun.id.in_(_current_run_ids(("open", "escalated", "scheduled", "decided", "closed"))))
        .group_by(bucket, match)
    ).all()
    return {(index, key): count for index, key, count in rows}


def _age_section(session: Session, now: datetime) -> dict:
    counts = evidence_ages(session, now)
    keys = [s.key for s in VERSION_SERIES]
    table = [(label, [counts.get((index, key), 0) for key in keys])
             for index, label in enumerate([label for _limit, label in AGE_BUCKETS] + [NO_TIME])]
    totals = [sum(row[1][i] for row in table) for i in range(len(keys))]
    chart = bar_chart(
        "age-chart", "Age of current evidence, by the model version it tested",
        f"{sum(totals)} current evidence runs: "
        + "; ".join(f"{label}: " + ", ".join(f"{n} {s.label.lower()}" for n, s in zip(values, VERSION_SERIES, strict=True))
                    for label, values in table) + ".",
        [Row(label, tuple(values)) for label, values in table], VERSION_SERIES, stacked=True,
    )
    return {"table": table, "totals": totals, "series": VERSION_SERIES, "chart": chart}



def _proximity_section(session: Session, now: datetime) -> dict:
    return {"figures": proximity.habit_figures(session)}


#: The health page's sections, in order.
SECTIONS = (
    HealthSection("cycle_time", "health/_cycle_time.html", _cycle_section),
    HealthSection("escalations", "health/_escalations.html", _escalation_section),
    HealthSection("freshness", "health/_freshness.html", _freshness_section),
    HealthSection("evidence_age", "health/_evidence_age.html", _age_section),
    # The executives' habit figures of technical proximity, after the built-in figures.
    HealthSection("proximity", "proximity/_figures.html", _proximity_section),
)
