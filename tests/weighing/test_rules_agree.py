"""Each rule's two readings agree (forum.weighing.rules): on generated items — ratings per
function with totals around the tier thresholds, positions including objections, exposure around
the threshold, evidence that passes, fails, regresses, drifts or goes stale at the tier's age
limit — the items an escalation rule's SQL condition selects on the standing columns are exactly
the items its explanation gives a reason for; likewise the tier and the weight divergence, and
the queue's condition against the items weigh() recommends or that are escalated."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from forum.core import clock
from forum.evidence import service as evidence
from forum.health import tallies
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC
from forum.weighing import positions, queue, ratings, rules, weigh
from forum.weighing.models import STANCES
from forum.weighing.rules import Scale
from tests.evidence.conftest import csv_bytes
from tests.health.test_open_counts import counted_from_items
from tests.weighing.conftest import SETTINGS, scores_for

FUNCTIONS = ("procurement", "product", "risk")
THRESHOLD = SETTINGS.exposure_threshold
# Totals on both sides of every tier threshold, and anything in range.
EDGES = sorted({0, RUBRIC.max_total} | {t.min_total + d for t in RUBRIC.tiers[1:] for d in (-1, 0)})
TOTALS = st.one_of(st.sampled_from(EDGES), st.integers(0, RUBRIC.max_total))
# Ages around each tier's limit (tactical 180, operational 90, strategic 30 days), in days.
AGES = st.sampled_from([0, 29, 30, 31, 89, 90, 91, 179, 180, 181, 400])
RUN = st.fixed_dictionaries({
    "age": AGES,
    "counts": st.sampled_from([(10, 0), (9, 1), (8, 2)]),  # suite pass rate 100 / 90 / 80 %
    "edge": st.sampled_from([(5, 0), (9, 1), (3, 1), (1, 1), (0, 0)]),  # 100 / 90 / 75 / 50 % / none
    "version": st.sampled_from(["1.0", "1.0", "1.0", "0.9"]),  # 0.9: not the item's model version
})
ITEM = st.fixed_dictionaries({
    "status": st.sampled_from(["open", "open", "escalated"]),
    "exposure": st.sampled_from([None, 0, THRESHOLD - 1, THRESHOLD, THRESHOLD + 1, 10 * THRESHOLD]),
    "totals": st.fixed_dictionaries({f: st.none() | TOTALS for f in FUNCTIONS}),
    "stances": st.fixed_dictionaries({f: st.none() | st.sampled_from(sorted(STANCES)) for f in FUNCTIONS}),
    "runs": st.lists(RUN, max_size=2),  # runs of one suite: the last is the current one
    "needed_by": st.none() | st.sampled_from([0, 1, 30]),  # days from now
})


def _make(db_session, people, spec, now) -> DecisionItem:
    """The item as ``spec`` says, written through the services but not committed: its evidence
    first, so that the ratings that follow must move the tier the evidence gates depend on."""
    filer = people["procurement"]
    item = items.create_item(db_session, filer, items.ItemData(
        title="Generated", category="vendor_selection", function="procurement",
        model_name="bot", model_version="1.0", exposure=spec["exposure"],
        needed_by=None if spec["needed_by"] is None else now.date() + timedelta(days=spec["needed_by"])))
    for action in {"open": ["submit"], "escalated": ["submit", "escalate"]}[spec["status"]]:
        items.transition(db_session, filer, item, action)
    for n, run in enumerate(spec["runs"]):
        tested = (now - timedelta(days=run["age"])).isoformat()
        (passed, failed), (edge_passed, edge_failed) = run["counts"], run["edge"]
        evidence.attach_evidence(db_session, filer, item, f"run{n}.csv", csv_bytes(
            passed, failed, edge_passed=edge_passed, edge_failed=edge_failed, version=run["version"],
            run_at=tested))
    for function, total in spec["totals"].items():
        if total is not None:
            ratings.rate(db_session, people[function], item, ratings.RatingData(scores_for(total), "Because."))
    for function, stance in spec["stances"].items():
        if stance is not None:
            positions.take_position(db_session, people[function], item, positions.PositionData(stance, "Our view."))
    return item


def _selected(db_session, ids, condition) -> set[int]:
    return set(db_session.scalars(select(DecisionItem.id).where(DecisionItem.id.in_(ids), condition)))


def check_agreement(db_session, batch: list[DecisionItem], now) -> None:
    ids = [item.id for item in batch]
    weighings = weigh.weigh(db_session, batch, SETTINGS)
    weighed = [(item, weighings[item.id]) for item in batch]
    scale = Scale(RUBRIC)
    for tier in (None, *RUBRIC.tiers):
        python = {i for i in ids if weighings[i].tier == tier}
        assert _selected(db_session, ids, scale.tier_condition(tier)) == python, tier
        rank = -1 if tier is None else tier.index
        assert _selected(db_session, ids, scale.rank() == rank) == python, tier
        assert {i.id for i in batch if scale.rank_of(i.weight_max) == rank} == python, tier
    python = {i for i in ids if weighings[i].divergent}
    assert _selected(db_session, ids, scale.divergent()) == python, "divergence"
    assert {i.id for i in batch if scale.spans(i.weight_min, i.weight_max)} == python, "divergence"
    for rule in rules.RULES:
        explained = rule.explain(db_session, weighed, SETTINGS)
        assert _selected(db_session, ids, rule.condition(now, SETTINGS)) == set(explained), rule.name
        assert explained == {i: r.text for i in ids for r in weighings[i].reasons if r.rule == rule.name}
        # the third reading, on the item's standing values (the tallies' counts keep it)
        assert {i.id for i in batch if rule.holds(i, now, SETTINGS)} == set(explained), rule.name
    queued = {i for i in ids if weighings[i].status == "escalated" or weighings[i].recommended}
    assert _selected(db_session, ids, queue.queue_condition("", SETTINGS, now)) == queued
    assert {i.id for i in batch if queue.in_queue(i, now, SETTINGS)} == queued
    # the queue's order: its first key stored with the standing, read in Python and in SQL, and
    # the queue's pages in the order the page promises (highest tier first, then the soonest
    # needed-by date, none last, then the oldest), a page of one item at a time
    orders = {i.id: scale.order_of(i.weight_max, i.needed_by) for i in batch}
    assert {i.id: i.queue_order for i in batch} == orders
    assert dict(db_session.execute(select(DecisionItem.id, scale.queue_order()).where(DecisionItem.id.in_(ids))).all()) == orders
    promised = sorted((i for i in batch if i.id in queued), key=lambda i: (
        -scale.rank_of(i.weight_max), i.needed_by is None, i.needed_by or now.date(), i.id))
    filters = queue.QueueFilters()
    paged = [queue.queue_ids(db_session, filters, SETTINGS, page=n, per_page=1).ids for n in range(1, len(queued) + 1)]
    assert paged == [[i.id] for i in promised]
    assert queue.queue_ids(db_session, filters, SETTINGS, per_page=4).ids == [i.id for i in promised][:4]
    # whatever the clock says: what the queue holds before any evidence can have gone stale
    before_any = now - timedelta(days=10_000)
    assert {i.id for i in batch if queue.in_queue(i, None, SETTINGS)} == _selected(
        db_session, ids, queue.queue_condition("", SETTINGS, before_any))
    # … and the counts kept from each item's part (the forum holds only this batch): at ``now``, a
    # second either side of each moment evidence goes stale, and long after
    tallies.refresh_items(db_session, ids)  # what the commit would do
    moments = {now, now + timedelta(days=10_000)} | {
        i.evidence_stale_at + timedelta(seconds=d) for i in batch if i.evidence_stale_at for d in (-1, 0, 1)}
    for moment in sorted(moments):
        assert tallies.open_counts(db_session, SETTINGS, moment) == counted_from_items(db_session, SETTINGS, moment), moment


def _spec(status="open", exposure=None, totals=(), stances=(), runs=(), needed_by=None) -> dict:
    return {"status": status, "exposure": exposure, "totals": {f: dict(totals).get(f) for f in FUNCTIONS},
            "stances": {f: dict(stances).get(f) for f in FUNCTIONS}, "runs": list(runs), "needed_by": needed_by}


def _passing(age: int) -> dict:
    return {"age": age, "counts": (10, 0), "edge": (5, 0), "version": "1.0"}


OPERATIONAL, STRATEGIC = (t.min_total for t in RUBRIC.tiers[1:])
# The boundaries, every run: totals on each side of a threshold, exposure at the threshold, and
# passing evidence exactly at and just past each tier's age limit.
BOUNDARIES = [
    _spec(totals={"procurement": OPERATIONAL - 1, "product": OPERATIONAL}),
    _spec(totals={"procurement": STRATEGIC - 1, "risk": STRATEGIC}, stances={"risk": "object"}),
    _spec(totals={"product": STRATEGIC - 1}, exposure=THRESHOLD),
    _spec(status="escalated", exposure=THRESHOLD + 1, stances={"product": "concerns"}, needed_by=1),
    _spec(status="escalated", totals={"risk": STRATEGIC}, needed_by=30),
    _spec(totals={"product": STRATEGIC}, needed_by=1),
]
AGEING = [
    _spec(runs=[_passing(90)]), _spec(runs=[_passing(91)]),
    _spec(totals={"risk": STRATEGIC}, runs=[_passing(30)]), _spec(totals={"risk": STRATEGIC}, runs=[_passing(31)]),
    _spec(totals={"risk": 0}, runs=[_passing(180)]), _spec(totals={"risk": 0}, runs=[_passing(181)]),
]


@example(specs=BOUNDARIES)
@example(specs=AGEING)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(ITEM, min_size=1, max_size=4))
def test_every_rule_selects_in_sql_exactly_the_items_it_explains(db_session, people, specs):
    now = clock.now().replace(microsecond=0) + timedelta(seconds=1)  # as exact as a CSV's run_at
    with clock.override(lambda: now):
        try:
            batch = [_make(db_session, people, spec, now) for spec in specs]
            db_session.flush()
            check_agreement(db_session, batch, now)
        finally:
            db_session.rollback()  # each example on the same empty forum
