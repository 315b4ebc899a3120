"""The forum's health figures, each a registered section of the /health page:

- decision cycle time per tier: days from filing an item (its ``created_at``) to its first
  settling decision (approved, approved with conditions, rejected: the decision that moved it to
  decided), for items whose first settling decision lies in the last 12 calendar months (UTC,
  the current one included); median and nearest-rank 90th percentile (forum.health.stats), at
  a tenth of a day under ten days and to the day beyond. The tier is the item's tier now, from
  its current weight ratings (items nobody rated are "Not rated").
- escalations per month: escalations recorded (forum escalations, with who and why) in each of
  the last 12 calendar months (UTC), the current month included.
- evidence freshness of decided items: of the items that are decided or closed, how many have
  evidence whose every current run (the latest of each suite) passes the freshness gate now,
  how many have a stale current run, and how many have no evidence.
- evidence age against the model versions in use: the current runs on every item past draft,
  by age (from the time the test ran) and by whether they tested the model version the item is
  at now.

Every figure is read from tallies kept current as changes happen (forum.health.tallies): a
read costs the same whatever the size of the history. The evidence figures are kept by day and
read against the page's moment (evidence ages and turns stale as days pass).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from forum.evidence import gates
from forum.evidence.models import EvidenceRun
from forum.health import proximity, stats, tallies
from forum.health.charts import Row, Series, bar_chart
from forum.health.sections import HealthSection
from forum.items.rubric import RUBRIC, Rubric

MONTHS = 12
UNRATED = (tallies.UNRATED, "Not rated")
AGE_BUCKETS = ((30, "0–30 days"), (90, "31–90 days"), (180, "91–180 days"), (365, "181–365 days"),
               (None, "over a year"))
NO_TIME = "run time not stated"  # the row of runs whose file states no run time


# ------------------------------------------------------------------------------ cycle time
@dataclass(frozen=True)
class TierCycle:
    key: str
    label: str
    summary: stats.Summary


def window(now: datetime, months: int = MONTHS) -> list[date]:
    """The first days of the last ``months`` calendar months (UTC), the current one included."""
    return stats.month_starts(now.date(), months)


def cycle_by_tier(session: Session, now: datetime, rubric: Rubric = RUBRIC) -> tuple[list[TierCycle], stats.Summary]:
    """Cycle-time summaries per tier (highest first, "Not rated" last when it has items) and over
    all tiers, for the items first settled in the last 12 calendar months: read from the tallies
    (forum.health.tallies), at most a few thousand small rows whatever the number of items."""
    periods = [tallies.month_of(m) for m in window(now)]
    by_tier: dict[str, Counter] = {}
    overall: Counter = Counter()
    for (_metric, _period, key), n in tallies.read(session, [tallies.CYCLE], periods).items():
        tier, _, bucket = key.rpartition(":")
        days = int(bucket) / 10
        by_tier.setdefault(tier, Counter())[days] += n
        overall[days] += n
    result = [TierCycle(t.key, t.label, stats.summarise_counts(by_tier.get(t.key, {}).items()))
              for t in reversed(rubric.tiers)]
    if by_tier.get(UNRATED[0]):
        result.append(TierCycle(*UNRATED, stats.summarise_counts(by_tier[UNRATED[0]].items())))
    return result, stats.summarise_counts(overall.items())


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _cycle_section(session: Session, now: datetime) -> dict:
    tiers, overall = cycle_by_tier(session, now)
    chart = bar_chart(
        "cycle-chart", "Decision cycle time per tier, last 12 months",
        "Median and 90th percentile of the days from filing to decision, per strategic-weight tier: "
        + "; ".join(f"{t.label}: {t.summary.count} decided, median {_days(t.summary.median)} days, "
                    f"90th percentile {_days(t.summary.p90)} days" for t in tiers) + ".",
        [Row(t.label, (t.summary.median, t.summary.p90),
             (_days(t.summary.median) + " d", _days(t.summary.p90) + " d")) for t in tiers],
        [Series("median", "Median"), Series("p90", "90th percentile")],
    )
    first = window(now)[0]
    return {"tiers": tiers, "overall": overall, "chart": chart,
            "since": datetime(first.year, first.month, 1, tzinfo=UTC)}


# ----------------------------------------------------------------------------- escalations
def escalations_per_month(session: Session, now: datetime, months: int = MONTHS) -> list[tuple[date, int]]:
    """[(first day of month, escalations)] for the last ``months`` calendar months, from the
    tallies: one row per month."""
    starts = window(now, months)
    counts = tallies.read(session, [tallies.ESCALATIONS], [tallies.month_of(m) for m in starts])
    return [(m, counts.get((tallies.ESCALATIONS, tallies.month_of(m), ""), 0)) for m in starts]


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
    model version or its oldest run has passed the tier's maximum age (from the day it does);
    unknown when none is stale but some run states no run time (or one more than a day ahead).
    Read from the tallies (forum.health.tallies): a row per day on which some decided item's
    evidence turns stale, whatever the number of items."""
    today = now.date().isoformat()
    decided = fresh = stale = without = unknown = 0
    for (_metric, until, kind), n in tallies.read(session, [tallies.FRESHNESS]).items():
        decided += n
        if kind == "without":
            without += n
        elif kind == "version" or (until and until <= today):
            stale += n
        elif kind == "no_time":
            unknown += n
        else:
            fresh += n
    return Freshness(decided, fresh, stale, without, unknown)


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


def evidence_ages(session: Session, now: datetime) -> dict[tuple[int, str], int]:
    """{(age bucket, version match): current runs} over every item past draft, from the tallies
    (forum.health.tallies): a row per day some current run ran, whatever the number of runs.
    The age is in whole days (UTC) from the day the test ran."""
    today = now.date()
    counts: Counter = Counter()
    for (_metric, day, match), n in tallies.read(session, [tallies.AGE]).items():
        bucket = len(AGE_BUCKETS) if not day else age_bucket((today - date.fromisoformat(day)).days)
        counts[(bucket, match)] += n
    return dict(counts)


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
