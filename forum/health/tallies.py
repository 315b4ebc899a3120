"""The health page's figures as counts kept current as changes happen — escalations per month,
decision cycle times per tier, the executives' habit figures, the age and freshness of the
current evidence — so that the page reads a few hundred small rows (``health_tallies``) whatever
the size of the history.

Two writers keep the same counts:

- **as changes happen**: ``on_event`` receives every trail event (``event_recorded``, inside the
  change's transaction, after the trail's lock: changes tally one at a time) and adds to the
  counts the change moves — a decision, a rating that moves a decided item to another tier, a
  review, a proposed edge case, a saved probe; every escalation row counts as it is inserted
  (an ORM event: the escalation is written after its move's trail event); and before a
  transaction commits, the items it changed (or added evidence to) have what they add to the
  evidence tallies worked out again from their rows (``evidence_parts``), the old parts taken
  out (``health_item_parts``) and the new ones put in;
- **from the history**: ``recount`` counts everything again from the tables (a new database
  after a bulk load, `forum health recount` after an import or a change of the rubric's tiers).

The tests hold the two to the same counts, so either is a check of the other. The row
("counted", "", "") marks tallies counted from the whole history; a database migrated with a
history, before its first count, has none, and ``ensure_counted`` counts it then.

Cycle times are kept in buckets: tenths of a day under ten days, whole days under a thousand,
ten days beyond (the median and 90th percentile come out at that precision). Evidence is kept by
day (UTC): its age in whole days, and the day it turns stale (it counts as stale from that day).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, bindparam, delete, event, func, insert, inspect, select, update
from sqlalchemy.orm import Session

from forum.agenda.models import SETTLING_OUTCOMES, Action, AgendaEntry, Decision
from forum.agenda.queries import ActionCounts
from forum.core import clock, db
from forum.core.derived import cached
from forum.core.paging import unindexed
from forum.evidence import gates
from forum.evidence.models import EvidenceRun
from forum.health import stats
from forum.health.models import HealthCycle, HealthItemPart, HealthTally
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC, Rubric
from forum.probes.models import Probe
from forum.proximity.models import ProposedCase, Review
from forum.trail.signals import event_recorded
from forum.weighing.checks import WEIGHING_STATUSES
from forum.weighing.models import Escalation, Position, WeightRating
from forum.weighing.queue import in_queue
from forum.weighing.rules import ForumSettings, Scale

COUNTED = ("counted", "", "")
# metric: period, key
ESCALATIONS = "escalations"  # month, ""
CYCLE = "cycle"  # month of the first settling decision, "tier:bucket"
DECISIONS = "decisions"  # quarter, "all" | "with_evidence" | "fully_reviewed" (first revisions with a snapshot)
WITHOUT_SNAPSHOT = "decisions_without_snapshot"  # "", "": recorded before reviews were kept
AS_DECIDER = "as_decider"  # "", "<user id>:with_evidence" | "<user id>:after_review"
REVIEWS = "reviews"  # "", user id
RUNS_REVIEWED = "runs_reviewed"  # "", user id: distinct runs
CASES = "cases_proposed"  # "", user id
PROBES = "probes"  # quarter, "": saved probes
PROBES_BY = "probes_by"  # "", user id
UNRATED = "unrated"
AGE = "evidence_age"  # run day "YYYY-MM-DD" ("": no stated time), "current" | "older" | "unknown"
FRESHNESS = "freshness"  # decided items: "", "without" | "version"; or the day their evidence turns stale
#                          ("": never by age), "timed" | "no_time" (some current run states no time)
# The open items' counts (the executive home page's): as the health figures' evidence parts, each
# item's part is kept (health_item_parts) and the counts are their sums. Whatever the clock says,
# period ""; where only the clock puts an item in (its evidence goes stale by age), the day it does.
QUEUE = "queue"  # "" | day, "status:tier rank" (rank "-1": unrated): the escalation queue (forum.weighing.queue)
DIVERGENT = "divergent"  # "", "": items being weighed whose functions' tiers diverge
REVALIDATION = "revalidation"  # "" | day, "": decided or closed items whose evidence drifted
REVALIDATION_BY_SYSTEM = "revalidation by system"  # "" | day, system id: the same, per AI system of the register
ITEMS = "items"  # "", status: every item by its status (the item list's counts: forum.items.service)
# The follow-up actions not done yet, kept under their decision's item as its parts are.
OPEN_ACTIONS = "open actions"  # "", owner's user id
ACTIONS_DUE = "actions due"  # the day due, "": overdue on a day, those due on the days before it
#: ("open counted", "", exposure threshold): the queue's counts hold for that escalation threshold.
OPEN_COUNTED = "open counted"
#: The open counts by day are folded: once a day, the first change to settle adds the days gone
#: by into period "" (``fold_past_days``), so that reading them stays a few rows per key however
#: long the history. (FOLDED, "", "") holds the day folded up to (its ordinal): the counts no
#: longer tell a moment before it.
FOLDED = ("open folded", "", "")
FOLDING = (QUEUE, REVALIDATION, REVALIDATION_BY_SYSTEM, ACTIONS_DUE)
DECIDED_STATUSES = ("decided", "closed")
#: ``session.info``: the items a transaction changed (or added evidence to), settled before it commits.
TOUCHED = "forum.health.touched"
#: ``session.info``: the decisions whose follow-up actions it added or changed (their items are touched).
TOUCHED_DECISIONS = "forum.health.touched-decisions"
#: ``session.info`` (from the session factory, ``listen``): the forum's settings (ForumSettings),
#: whose escalation threshold the queue's counts depend on.
SETTINGS = "forum.health.settings"


def month_of(at: datetime | date) -> str:
    return f"{at.year:04d}-{at.month:02d}"


def quarter_of(at: datetime) -> str:
    return f"{at.year} Q{(at.month - 1) // 3 + 1}"


def cycle_bucket(days: float) -> int:
    """The bucket of a cycle time, in tenths of a day (its lower bound)."""
    days = max(0.0, days)
    if days < 10:
        return int(days * 10)
    if days < 1000:
        return int(days) * 10
    return int(days / 10) * 100


def tier_key(highest: int | None, rubric: Rubric = RUBRIC) -> str:
    """The item's tier from its highest current rating ("unrated" before any)."""
    return rubric.tier_for(highest).key if highest is not None else UNRATED


# ------------------------------------------------------------------------------------ writing
def add(session: Session | Connection, metric: str, period: str, key: str, delta: int = 1) -> None:
    """Add ``delta`` to one count. Called under the write lock (changes come one at a time), so
    the update-else-insert cannot race another change."""
    table = HealthTally.__table__
    moved = session.execute(update(table).where(
        table.c.metric == metric, table.c.period == period, table.c.key == key,
    ).values(n=table.c.n + delta)).rowcount
    if not moved:
        session.execute(insert(table).values(metric=metric, period=period, key=key, n=delta))


def _highest_rating(session: Session, item_id: int) -> int | None:
    return session.scalar(select(func.max(WeightRating.total)).where(WeightRating.item_id == item_id))


def _row(session: Session, model, ident):
    """The row an event names, or None (an event written by hand names none)."""
    return session.get(model, ident) if isinstance(ident, int) else None


def _item_id(subject: str) -> int | None:
    kind, _, ident = subject.partition(":")
    return int(ident) if kind == "item" and ident.isdigit() else None


def _decision_counts(recorded_at: datetime, snapshot: dict | None) -> Counter:
    """What one first-revision decision adds to the habit figures."""
    counts: Counter = Counter()
    if snapshot is None:
        counts[(WITHOUT_SNAPSHOT, "", "")] += 1
        return counts
    quarter = quarter_of(recorded_at)
    counts[(DECISIONS, quarter, "all")] += 1
    if not snapshot.get("latest_runs"):
        return counts
    counts[(DECISIONS, quarter, "with_evidence")] += 1
    complete = [not person["missing"] for person in snapshot["deciders"]]
    if all(complete):
        counts[(DECISIONS, quarter, "fully_reviewed")] += 1
    for person, done in zip(snapshot["deciders"], complete, strict=True):
        counts[(AS_DECIDER, "", f"{person['id']}:with_evidence")] += 1
        if done:
            counts[(AS_DECIDER, "", f"{person['id']}:after_review")] += 1
    return counts


def _add_all(session: Session, counts: Counter) -> None:
    for (metric, period, key), n in counts.items():
        add(session, metric, period, key, n)


def _on_decision(session: Session, event, data: dict) -> None:
    decision = _row(session, Decision, data.get("decision"))
    if decision is None or decision.revision != 1:
        return
    _add_all(session, _decision_counts(decision.recorded_at, decision.review_snapshot))
    item_id = _item_id(event.subject)
    if decision.outcome not in SETTLING_OUTCOMES or item_id is None or session.get(HealthCycle, item_id):
        return  # not settling, or not the item's first settling decision
    filed_at = session.scalar(select(DecisionItem.created_at).where(DecisionItem.id == item_id))
    cycle = HealthCycle(item_id=item_id, period=month_of(decision.recorded_at),
                        tier=tier_key(_highest_rating(session, item_id)),
                        bucket=cycle_bucket(stats.days_between(filed_at, decision.recorded_at)))
    session.add(cycle)
    add(session, CYCLE, cycle.period, f"{cycle.tier}:{cycle.bucket}")


def _on_rating(session: Session, event, data: dict) -> None:
    """A decided item's tier is its tier now: a rating that moves it moves its cycle time."""
    item_id = _item_id(event.subject)
    cycle = session.get(HealthCycle, item_id) if item_id is not None else None
    if cycle is None:
        return
    tier = tier_key(_highest_rating(session, item_id))
    if tier != cycle.tier:
        add(session, CYCLE, cycle.period, f"{cycle.tier}:{cycle.bucket}", -1)
        add(session, CYCLE, cycle.period, f"{tier}:{cycle.bucket}")
        cycle.tier = tier


def _escalation_inserted(_mapper, connection: Connection, escalation: Escalation) -> None:
    """Every escalation row counts, in its month (forum.weighing.queue writes it after the move's
    event, inside the same change)."""
    add(connection, ESCALATIONS, month_of(escalation.escalated_at), "")


def _on_review(session: Session, event, data: dict) -> None:
    review = _row(session, Review, data.get("review"))
    if review is None:
        return
    add(session, REVIEWS, "", str(review.reviewer_id))
    again = session.scalar(select(Review.id).where(
        Review.reviewer_id == review.reviewer_id, Review.run_id == review.run_id, Review.id != review.id,
    ).limit(1))
    if again is None:
        add(session, RUNS_REVIEWED, "", str(review.reviewer_id))


def _on_case(session: Session, event, data: dict) -> None:
    case = _row(session, ProposedCase, data.get("case"))
    if case is not None:
        add(session, CASES, "", str(case.proposed_by_id))


def _on_probe(session: Session, event, data: dict) -> None:
    probe = _row(session, Probe, data.get("probe"))
    if probe is None or probe.saved_at is None:
        return
    add(session, PROBES, quarter_of(probe.saved_at), "")
    add(session, PROBES_BY, "", str(probe.run_by_id))


HANDLERS = {
    "decision.recorded": _on_decision,
    "weight.rated": _on_rating,
    "evidence.reviewed": _on_review,
    "case.proposed": _on_case,
    "probe.saved": _on_probe,
}


def on_event(session: Session, *, actor, event, data: dict) -> None:
    """The receiver of ``event_recorded``: the counts this change moves."""
    handler = HANDLERS.get(event.kind)
    if handler is not None:
        handler(session, event, data)


def listen(factory, settings: ForumSettings) -> None:
    """Keep the tallies as changes happen in the sessions of ``factory`` (called by the area's
    ``init_app`` with the app's settings, which its sessions carry)."""
    factory.configure(info={**factory.kw.get("info", {}), SETTINGS: settings})
    event_recorded.connect(on_event)
    if not event.contains(Escalation, "after_insert", _escalation_inserted):
        event.listen(Escalation, "after_insert", _escalation_inserted)
    event.listen(factory, "after_flush", _collect)
    event.listen(factory, "before_commit", _settle)
    event.listen(factory, "after_transaction_end", _forget)


# ---------------------------------------------------------------------------- evidence parts
def version_match(run_version: str | None, item_version: str | None) -> str:
    if not run_version or not item_version:
        return "unknown"
    return "current" if run_version == item_version else "older"


def evidence_parts(status: str, item_version: str | None, weight_max: int | None,
                   runs: list[tuple[datetime | None, str | None]], now: datetime, rubric: Rubric = RUBRIC) -> Counter:
    """What an item adds to the evidence tallies, from its status, model version, highest rating
    and current runs ((run time, model version) of the latest run of each suite):

    - past draft, each current run under (AGE, its day, its version match);
    - decided or closed, the item once under FRESHNESS: without evidence; stale by version (a
      current run tested another version than the item's); otherwise the day its oldest timed
      run passes the tier's maximum age (forum.evidence.gates), and whether some run states no
      time (or one more than a day ahead of ``now``: unknown freshness, as the gate says).

    Nothing here depends on the clock but that last judgement: the page reads the days against
    its own ``now``."""
    parts: Counter = Counter()
    if status == "draft":
        return parts
    for run_at, run_version in runs:
        parts[(AGE, "" if run_at is None else run_at.date().isoformat(), version_match(run_version, item_version))] += 1
    if status not in DECIDED_STATUSES:
        return parts
    if not runs:
        parts[(FRESHNESS, "", "without")] += 1
    elif any(gates.stale_by_version(run_version, item_version) for _at, run_version in runs):
        parts[(FRESHNESS, "", "version")] += 1
    else:
        timed = [run_at for run_at, _v in runs if run_at is not None and run_at <= now + gates.CLOCK_SKEW]
        tier = rubric.tier_for(weight_max).key if weight_max is not None else None
        limit = timedelta(days=gates.thresholds_for(tier)["max_age_days"])
        until = (min(timed) + limit).date().isoformat() if timed else ""
        parts[(FRESHNESS, until, "timed" if len(timed) == len(runs) else "no_time")] += 1
    return parts


def open_parts(standing, settings: ForumSettings, rubric: Rubric = RUBRIC) -> Counter:
    """What an item adds to the open items' counts, from its status and standing values (its
    row): in the escalation queue whatever the clock says (forum.weighing.queue.in_queue), under
    (QUEUE, "", its status and its tier's rank) — or, open and in it only once its evidence goes
    stale, under the day that happens; being weighed with diverging tiers; decided or closed with
    drifted evidence (REVALIDATION: a regression or another model version, or by the day it goes
    stale), also under its AI system (REVALIDATION_BY_SYSTEM); and the item under its status
    (ITEMS)."""
    parts: Counter = Counter({(ITEMS, "", standing.status): 1})
    scale, stale_at = Scale(rubric), standing.evidence_stale_at
    day = stale_at.astimezone(UTC).date().isoformat() if stale_at is not None else ""
    if in_queue(standing, None, settings, rubric):
        parts[(QUEUE, "", f"{standing.status}:{scale.rank_of(standing.weight_max)}")] += 1
    elif standing.status == "open" and day:
        parts[(QUEUE, day, f"open:{scale.rank_of(standing.weight_max)}")] += 1
    if standing.status in WEIGHING_STATUSES and scale.spans(standing.weight_min, standing.weight_max):
        parts[(DIVERGENT, "", "")] += 1
    if standing.status in DECIDED_STATUSES and (standing.evidence_drift or day):
        period = "" if standing.evidence_drift else day
        parts[(REVALIDATION, period, "")] += 1
        if standing.system_id is not None:
            parts[(REVALIDATION_BY_SYSTEM, period, str(standing.system_id))] += 1
    return parts


def _settings(session: Session) -> ForumSettings:
    return session.info.get(SETTINGS) or ForumSettings()


# The statements of ``_items_parts`` and ``refresh_items``, built once: they run at every commit
# that touched an item's evidence, ratings, positions, status, exposure or model version.
_IDS = bindparam("ids", expanding=True)
_STANDING = (DecisionItem.status, DecisionItem.weight_max, DecisionItem.weight_min, DecisionItem.objection,
             DecisionItem.exposure, DecisionItem.evidence_fail, DecisionItem.evidence_drift,
             DecisionItem.evidence_stale_at, DecisionItem.system_id)
_ITEM_FACTS = select(DecisionItem.id, DecisionItem.model_version, *_STANDING)
_LATEST_RUNS = select(func.max(EvidenceRun.id)).group_by(EvidenceRun.item_id, EvidenceRun.suite)
_RUN_FACTS = select(EvidenceRun.item_id, EvidenceRun.run_at, EvidenceRun.model_version)
# ``done`` unindexed: SQLite would otherwise start from every open action of the organisation (the
# (done, due_on) index) rather than from the items' entries (an upload, 7.4 → 12.9 ms).
_OPEN_ACTIONS = (select(AgendaEntry.item_id, Action.owner_id, Action.due_on)
                 .join(Decision, Decision.entry_id == AgendaEntry.id).join(Action, Action.decision_id == Decision.id)
                 .where(unindexed(Action.done).is_(False)))
_ALL = (_ITEM_FACTS, _RUN_FACTS.where(EvidenceRun.id.in_(_LATEST_RUNS)), _OPEN_ACTIONS)
_SOME = (_ITEM_FACTS.where(DecisionItem.id.in_(_IDS)),
         _RUN_FACTS.where(EvidenceRun.id.in_(_LATEST_RUNS.where(EvidenceRun.item_id.in_(_IDS)))),
         _OPEN_ACTIONS.where(AgendaEntry.item_id.in_(_IDS)))
_PARTS_OF = (select(HealthItemPart.item_id, HealthItemPart.metric, HealthItemPart.period, HealthItemPart.key,
                    HealthItemPart.n).where(HealthItemPart.item_id.in_(_IDS)))


def _items_parts(session: Session, item_ids: list[int] | None = None) -> dict[int, Counter]:
    """``evidence_parts`` and ``open_parts`` of the given items (of every item with None), and
    their decisions' open actions (per owner, and by the day due): three queries."""
    (items, latest_runs, open_actions), params = (_ALL, {}) if item_ids is None else (_SOME, {"ids": list(item_ids)})
    runs: dict[int, list] = {}
    for item_id, run_at, version in session.execute(latest_runs, params).yield_per(5000):
        runs.setdefault(item_id, []).append((run_at, version))
    now, settings, found = clock.now(), _settings(session), {}
    for item in session.execute(items, params).yield_per(5000):
        found[item.id] = evidence_parts(item.status, item.model_version, item.weight_max, runs.get(item.id, []), now)
        found[item.id].update(open_parts(item, settings))
    for item_id, owner_id, due_on in session.execute(open_actions, params).yield_per(5000):
        parts = found.setdefault(item_id, Counter())
        parts[(OPEN_ACTIONS, "", str(owner_id))] += 1
        parts[(ACTIONS_DUE, due_on.isoformat(), "")] += 1
    return found


def refresh_items(session: Session, item_ids: Iterable[int]) -> None:
    """Take the items' old parts out of the evidence tallies and put their parts now in."""
    ids = sorted({i for i in item_ids if i is not None})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        new = _items_parts(session, chunk)
        old: dict[int, Counter] = {}
        for item_id, metric, period, key, n in session.execute(_PARTS_OF, {"ids": chunk}):
            old.setdefault(item_id, Counter())[(metric, period, key)] += n
        delta: Counter = Counter()
        changed = [i for i in chunk if new.get(i, Counter()) != old.get(i, Counter())]
        for item_id in changed:
            delta.update(new.get(item_id, Counter()))
            delta.subtract(old.get(item_id, Counter()))
        for (metric, period, key), n in delta.items():
            if n:
                add(session, metric, period, key, n)
        if changed:
            session.execute(delete(HealthItemPart).where(HealthItemPart.item_id.in_(changed)))
            rows = _part_rows({i: new[i] for i in changed if i in new})
            if rows:
                session.execute(insert(HealthItemPart), rows)


def _part_rows(parts: dict[int, Counter]) -> list[dict]:
    return [{"item_id": item_id, "metric": m, "period": p, "key": k, "n": n}
            for item_id, counts in parts.items() for (m, p, k), n in counts.items() if n]


#: An item's columns whose change moves what it adds to the tallies (the standing's columns
#: change with its ratings, positions and evidence, or with these).
_ITEM_MOVES = ("status", "model_version", "exposure", "decided_at", "system_id")


def _collect(session: Session, _flush_context) -> None:
    """After each flush: the items it changed, added evidence to, rated or took a position on (a
    rating moves the item's tier, and with it how old its evidence may be; the ratings, positions
    and evidence move its standing: forum.weighing.standing writes that)."""
    touched = session.info.setdefault(TOUCHED, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, EvidenceRun | WeightRating | Position):
            touched.add(obj.item_id)
    for obj in session.new:
        if isinstance(obj, DecisionItem):
            touched.add(obj.id)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Action):  # a follow-up action added, done, moved to another owner or day
            session.info.setdefault(TOUCHED_DECISIONS, set()).add(obj.decision_id)
    for obj in session.dirty:
        if isinstance(obj, DecisionItem):
            attrs = inspect(obj).attrs  # the flush's changes are still there to see
            if any(getattr(attrs, name).history.has_changes() for name in _ITEM_MOVES):
                touched.add(obj.id)



def _settle(session: Session) -> None:
    """Before a transaction commits: the evidence tallies of the items it touched, and the days
    gone by folded once a day. The change holds the write lock (a request's) or the trail's
    (every change records an event) until it commits, so changes settle one at a time."""
    session.flush()
    touched = session.info.pop(TOUCHED, None) or set()
    decisions = session.info.pop(TOUCHED_DECISIONS, None)
    if decisions:
        touched.update(session.scalars(select(AgendaEntry.item_id).join(Decision, Decision.entry_id == AgendaEntry.id)
                                       .where(Decision.id.in_(decisions))))
    if touched:
        refresh_items(session, touched)
        fold_past_days(session, _today())


_TABLE = HealthTally.__table__
_FOLDED_UP_TO = select(_TABLE.c.n).where(
    _TABLE.c.metric == FOLDED[0], _TABLE.c.period == FOLDED[1], _TABLE.c.key == FOLDED[2])
# "" sorts before every day, so "a day before today" is the range between the two.
_PAST_DAYS = _TABLE.c.metric.in_(FOLDING) & (_TABLE.c.period > "") & (_TABLE.c.period < bindparam("today"))
_PAST_SUMS = select(_TABLE.c.metric, _TABLE.c.key, func.sum(_TABLE.c.n)).where(_PAST_DAYS).group_by(
    _TABLE.c.metric, _TABLE.c.key)


def fold_past_days(session: Session, today: date) -> None:
    """Add the open counts of the days before ``today`` into their period "" and mark them folded
    up to ``today`` (one statement when they were today already). An item's part stays under
    its day (health_item_parts), so taking it out later writes a negative count under that day,
    which the next day's fold adds in too: the sum over "" and the days gone by stays right."""
    if (session.scalar(_FOLDED_UP_TO) or 0) >= today.toordinal():
        return
    params = {"today": today.isoformat()}
    past = session.execute(_PAST_SUMS, params).all()
    if past:
        session.execute(delete(_TABLE).where(_PAST_DAYS), params)
        for metric, key, n in past:
            if n:
                add(session, metric, "", key, n)
    _mark_folded(session, today)


def _mark_folded(session: Session, today: date) -> None:
    moved = session.execute(update(_TABLE).where(
        _TABLE.c.metric == FOLDED[0], _TABLE.c.period == FOLDED[1], _TABLE.c.key == FOLDED[2],
    ).values(n=today.toordinal())).rowcount
    if not moved:
        session.execute(insert(_TABLE).values(
            dict(zip(("metric", "period", "key"), FOLDED, strict=True)) | {"n": today.toordinal()}))


def folded(counts: Counter, today: date) -> Counter:
    """``counts`` ({(metric, period, key): n}) with the open counts of the days before ``today``
    added into period "", as ``fold_past_days`` keeps them; no zero counts."""
    result: Counter = Counter()
    before = today.isoformat()
    for (metric, period, key), n in counts.items():
        if metric in FOLDING and "" < period < before:
            period = ""
        result[(metric, period, key)] += n
    return Counter({key: n for key, n in result.items() if n})


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(TOUCHED, None)
        session.info.pop(TOUCHED_DECISIONS, None)


# ------------------------------------------------------------------------- counting it again
def first_settling(session: Session):
    """(item id, filed at, first settling decision at, highest rating) of every decided item."""
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
    return session.execute(
        select(DecisionItem.id, DecisionItem.created_at, first.c.decided_at, top)
        .join(first, first.c.item_id == DecisionItem.id)
    ).yield_per(5000)


def count_history(session: Session) -> tuple[Counter, list[dict]]:
    """Every count from the tables (the open counts by day folded up to today, as they are
    kept), and every decided item's cycle row."""
    counts, cycles, _parts = _history(session)
    return folded(counts, _today()), cycles


def _today() -> date:
    return clock.now().astimezone(UTC).date()


def _history(session: Session) -> tuple[Counter, list[dict], dict[int, Counter]]:
    counts: Counter = Counter()
    for (at,) in session.execute(select(Escalation.escalated_at)).yield_per(5000):
        counts[(ESCALATIONS, month_of(at), "")] += 1
    cycles = []
    for item_id, filed_at, decided_at, highest in first_settling(session):
        decided_at = stats.aware(decided_at)
        cycle = {"item_id": item_id, "period": month_of(decided_at), "tier": tier_key(highest),
                 "bucket": cycle_bucket(stats.days_between(filed_at, decided_at))}
        cycles.append(cycle)
        counts[(CYCLE, cycle["period"], f"{cycle['tier']}:{cycle['bucket']}")] += 1
    for recorded_at, snapshot in session.execute(
        select(Decision.recorded_at, Decision.review_snapshot).where(Decision.revision == 1)
    ).yield_per(2000):
        counts.update(_decision_counts(recorded_at, snapshot))
    for reviewer, n, runs in session.execute(
        select(Review.reviewer_id, func.count(), func.count(func.distinct(Review.run_id))).group_by(Review.reviewer_id)
    ):
        counts[(REVIEWS, "", str(reviewer))] += n
        counts[(RUNS_REVIEWED, "", str(reviewer))] += runs
    for proposer, n in session.execute(
        select(ProposedCase.proposed_by_id, func.count()).group_by(ProposedCase.proposed_by_id)
    ):
        counts[(CASES, "", str(proposer))] += n
    for saved_at, runner in session.execute(
        select(Probe.saved_at, Probe.run_by_id).where(Probe.saved_at.is_not(None))
    ).yield_per(5000):
        counts[(PROBES, quarter_of(saved_at), "")] += 1
        counts[(PROBES_BY, "", str(runner))] += 1
    parts = _items_parts(session)
    for item_counts in parts.values():
        counts.update(item_counts)
    return counts, cycles, parts


def recount(session: Session) -> int:
    """Count every tally again from the history, under the write lock (no change tallies in
    between), and mark them counted. Returns how many counts were written. The caller commits."""
    db.lock_for_change(session)
    counts, cycles, parts = _history(session)
    today = _today()
    session.execute(delete(HealthItemPart))
    session.execute(delete(HealthCycle))
    session.execute(delete(HealthTally))
    rows = [{"metric": m, "period": p, "key": k, "n": n} for (m, p, k), n in folded(counts, today).items() if n]
    written = len(rows)
    rows.extend(dict(zip(("metric", "period", "key"), mark, strict=True)) | {"n": n}
                for mark, n in ((COUNTED, 1), (_open_mark(session), 1), (FOLDED, today.toordinal())))
    for start in range(0, len(rows), 5000):
        session.execute(insert(HealthTally), rows[start:start + 5000])
    for start in range(0, len(cycles), 5000):
        session.execute(insert(HealthCycle), cycles[start:start + 5000])
    part_rows = _part_rows(parts)
    for start in range(0, len(part_rows), 5000):
        session.execute(insert(HealthItemPart), part_rows[start:start + 5000])
    session.info.pop(TOUCHED, None)  # counted as they are now
    session.info.pop(TOUCHED_DECISIONS, None)
    session.expire_all()
    return written


def _open_mark(session: Session) -> tuple[str, str, str]:
    return OPEN_COUNTED, "", str(_settings(session).exposure_threshold)


def is_counted(session: Session) -> bool:
    """The tallies were counted from the history, the queue's under this forum's escalation
    threshold (a new threshold needs them counted again)."""
    return session.get(HealthTally, COUNTED) is not None and session.get(HealthTally, _open_mark(session)) is not None


def ensure_counted(session: Session) -> bool:
    """Count the tallies from the history if they never were (a database migrated with a
    history); True when it counted (the caller commits)."""
    if is_counted(session):
        return False
    db.lock_for_change(session)
    if is_counted(session):  # another worker counted them while this one waited for the lock
        return False
    recount(session)
    return True


# ------------------------------------------------------------------------------------ reading
def read(session: Session, metrics: Iterable[str], periods: Iterable[str] | None = None) -> dict[tuple[str, str, str], int]:
    """{(metric, period, key): n} of ``metrics`` (in ``periods`` when given)."""
    query = select(HealthTally.metric, HealthTally.period, HealthTally.key, HealthTally.n).where(
        HealthTally.metric.in_(list(metrics)))
    if periods is not None:
        query = query.where(HealthTally.period.in_(list(periods)))
    return {(m, p, k): n for m, p, k, n in session.execute(query) if n}


def stored(session: Session) -> tuple[dict[tuple[str, str, str], int], list[dict]]:
    """Every count as stored, the open counts by day folded up to today (as ``count_history``
    gives them), and every cycle row (to compare with ``count_history``)."""
    counts = folded(Counter({(m, p, k): n for m, p, k, n in session.execute(
        select(HealthTally.metric, HealthTally.period, HealthTally.key, HealthTally.n))
        if m not in (COUNTED[0], OPEN_COUNTED, FOLDED[0])}), _today())
    cycles = [{"item_id": i, "period": p, "tier": t, "bucket": b} for i, p, t, b in session.execute(
        select(HealthCycle.item_id, HealthCycle.period, HealthCycle.tier, HealthCycle.bucket)
        .order_by(HealthCycle.item_id))]
    return counts, cycles


@dataclass(frozen=True)
class OpenCounts:
    queue: dict[tuple[str, int], int]  # the escalation queue's items per status and tier rank (-1: unrated)
    divergent: int  # items being weighed whose functions' tiers diverge
    revalidation: int  # decided or closed items whose current evidence drifted
    by_status: dict[str, int]  # every item by its status
    revalidation_by_system: dict[int, int]  # the revalidation's items per AI system (those with one)
    actions_by_owner: dict[int, int]  # open follow-up actions per owner
    actions_overdue: int  # open follow-up actions due before today


# Period "" and the days before today: "" sorts before every day, so one range of the key.
_OPEN_SUMS = (
    select(HealthTally.metric, HealthTally.key, func.sum(HealthTally.n))
    .where(HealthTally.metric.in_((QUEUE, DIVERGENT, REVALIDATION, REVALIDATION_BY_SYSTEM, ITEMS, OPEN_ACTIONS,
                                   ACTIONS_DUE, OPEN_COUNTED, FOLDED[0])),
           HealthTally.period < bindparam("today"))
    .group_by(HealthTally.metric, HealthTally.key)
)
# The items whose evidence goes stale today, before ``now`` (an index on the column).
_STALE_TODAY = select(DecisionItem.id, *_STANDING).where(
    DecisionItem.evidence_stale_at >= bindparam("since"), DecisionItem.evidence_stale_at < bindparam("now"))


def kept_open_counts(session: Session, settings: ForumSettings, now: datetime) -> OpenCounts | None:
    """``open_counts``, reused until the items change or the minute turns (forum.core.derived)."""
    return cached(session, ("open counts", settings), lambda: open_counts(session, settings, now), items_only=True)


def kept_queue_counts(_app, *, session: Session, settings: ForumSettings,
                      now: datetime) -> dict[tuple[str, int], int] | None:
    """The receiver of forum.weighing.queue.kept_queue_counts."""
    kept = kept_open_counts(session, settings, now)
    return None if kept is None else kept.queue


def kept_revalidation_counts(_app, *, session: Session, now: datetime) -> dict[int, int] | None:
    """The receiver of forum.weighing.drift.kept_revalidation_counts."""
    kept = kept_open_counts(session, _settings(session), now)
    return None if kept is None else kept.revalidation_by_system


def kept_action_counts(_app, *, session: Session, today: date | None) -> ActionCounts | None:
    """The receiver of forum.agenda.queries.kept_action_counts (None for a day other than today's:
    the overdue count is kept for the clock's day)."""
    now = clock.now()
    if today is not None and today != now.astimezone(UTC).date():
        return None
    kept = kept_open_counts(session, _settings(session), now)
    return None if kept is None else ActionCounts(kept.actions_by_owner, kept.actions_overdue)


def kept_status_counts(_app, *, session: Session) -> dict[str, int] | None:
    """The receiver of forum.items.service.kept_status_counts: every item by its status, from
    the kept counts (None before they are counted)."""
    kept = kept_open_counts(session, _settings(session), clock.now())
    return None if kept is None else kept.by_status


def open_counts(session: Session, settings: ForumSettings, now: datetime, rubric: Rubric = RUBRIC) -> OpenCounts | None:
    """The open items' counts at ``now`` from the kept parts' sums: whatever the clock says, plus
    the days before today on which evidence went stale, plus the items whose evidence went stale
    today before ``now`` (read one by one: the day's, not the history's). Two statements. None
    when the tallies were not counted under ``settings``' escalation threshold, or were folded
    past ``now``'s day (read them from the items then)."""
    today = now.astimezone(UTC).date()
    sums = Counter()
    for metric, key, n in session.execute(_OPEN_SUMS, {"today": today.isoformat()}):
        sums[(metric, key)] += n
    if not sums[(OPEN_COUNTED, str(settings.exposure_threshold))] or sums[FOLDED[0], ""] > today.toordinal():
        return None
    since = datetime.combine(today, time.min, tzinfo=UTC)
    for item in session.execute(_STALE_TODAY, {"since": since, "now": now}):
        for (metric, period, key), n in open_parts(item, settings, rubric).items():
            if period:  # the day is today: the items counted whatever the clock says are in already
                sums[(metric, key)] += n
    queue = {}
    for (metric, key), n in sums.items():
        if metric == QUEUE and n:
            status, rank = key.split(":")
            queue[(status, int(rank))] = n
    return OpenCounts(queue=queue, divergent=sums[(DIVERGENT, "")], revalidation=sums[(REVALIDATION, "")],
                      by_status={key: n for (metric, key), n in sums.items() if metric == ITEMS and n},
                      revalidation_by_system={int(key): n for (metric, key), n in sums.items()
                                              if metric == REVALIDATION_BY_SYSTEM and n},
                      actions_by_owner={int(key): n for (metric, key), n in sums.items() if metric == OPEN_ACTIONS and n},
                      actions_overdue=sums[(ACTIONS_DUE, "")])
