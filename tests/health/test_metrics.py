"""The health figures on a hand-built history whose medians and 90th percentiles are known."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from forum.health import service, tallies
from forum.health.stats import Summary
from forum.items import service as items
from forum.items.models import DecisionItem
from tests.health.conftest import CSV_VERSION

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
STRATEGIC, OPERATIONAL = 14, 8  # rubric totals: tactical 0–5, operational 6–11, strategic 12–18


def _decided(history, gap_days, total=None, outcome="approved", decided_at=NOW - 30 * DAY):
    item = history.item(decided_at - gap_days * DAY)
    if total is not None:
        history.rate(item, total, decided_at - gap_days * DAY + timedelta(minutes=5))
    history.decide(item, decided_at, outcome)
    return item


def test_cycle_time_per_tier_has_the_known_medians_and_90th_percentiles(db_session, history):
    for gap in (10, 20, 40):
        _decided(history, gap, STRATEGIC)
    _decided(history, 30, STRATEGIC, outcome="rejected")  # a rejection settles the item too
    _decided(history, 5, OPERATIONAL)
    _decided(history, 15, OPERATIONAL, outcome="approved_with_conditions")
    # deferred two days after filing, approved ten days later: its cycle ends at the approval
    deferred = history.item(NOW - 42 * DAY)
    history.rate(deferred, OPERATIONAL, NOW - 42 * DAY + timedelta(minutes=5))
    history.decide(deferred, NOW - 40 * DAY, "deferred")
    history.decide(deferred, NOW - 30 * DAY, "approved")
    _decided(history, 7)  # nobody rated it
    _decided(history, 3, STRATEGIC, decided_at=NOW - 400 * DAY)  # outside the 12 months
    history.item(NOW - 50 * DAY)  # escalated, never decided: no cycle yet

    rows, overall = service.cycle_by_tier(db_session, NOW)
    tiers = {t.key: t.summary for t in rows}

    assert tiers["strategic"] == Summary(count=4, median=25.0, p90=40.0)  # 10 20 30 40: rank 4
    assert tiers["operational"] == Summary(count=3, median=12.0, p90=15.0)  # 5 12 15: rank 3
    assert tiers["tactical"] == Summary(count=0, median=None, p90=None)
    assert tiers["unrated"] == Summary(count=1, median=7.0, p90=7.0)
    assert list(tiers) == ["strategic", "operational", "tactical", "unrated"]
    assert overall == Summary(count=8, median=13.5, p90=40.0)  # 5 7 10 12 | 15 20 30 40
    # The same figures counted again from the history (forum health recount).
    tallies.recount(db_session)
    assert service.cycle_by_tier(db_session, NOW) == (rows, overall)


def test_the_unrated_row_is_left_out_when_every_decided_item_was_rated(db_session, history):
    _decided(history, 4, STRATEGIC)
    rows, _overall = service.cycle_by_tier(db_session, NOW)
    assert [row.key for row in rows] == ["strategic", "operational", "tactical"]


def test_a_rating_after_the_decision_moves_the_item_to_its_tier_now(db_session, history):
    """An item sent back after its decision (its model changed) and rated again counts in its
    new tier; its cycle time stays the one to its first settling decision."""
    item = _decided(history, 6, OPERATIONAL)
    item.status = "open"  # sent back (forum.evidence's drift check moves it so)
    db_session.commit()
    history.rate(item, STRATEGIC, NOW - 20 * DAY)
    rows, _overall = service.cycle_by_tier(db_session, NOW)
    tiers = {t.key: t.summary for t in rows}
    assert tiers["strategic"] == Summary(count=1, median=6.0, p90=6.0)
    assert tiers["operational"].count == 0
    kept = tallies.stored(db_session)
    tallies.recount(db_session)
    assert tallies.stored(db_session) == kept


def test_cycle_times_are_kept_at_a_tenth_of_a_day_under_ten_days_then_to_the_day():
    assert [tallies.cycle_bucket(d) for d in (0.0, 0.26, 9.99, 10.0, 12.7, 999.9, 1234.5, -1)] == \
        [0, 2, 99, 100, 120, 9990, 12300, 0]


def test_escalations_are_counted_per_calendar_month_over_the_last_twelve(db_session, history):
    for at in (datetime(2026, 10, 1, 0, 0, tzinfo=UTC), datetime(2026, 10, 31, 23, 59, tzinfo=UTC),
               datetime(2026, 8, 15, tzinfo=UTC), datetime(2025, 11, 30, tzinfo=UTC)):
        item = history.item(at - DAY, status="open")
        history.escalate(item, at)

    months = service.escalations_per_month(db_session, NOW)

    assert [m for m, _n in months][0] == date(2025, 12, 1)
    assert [m for m, _n in months][-1] == date(2026, 11, 1)
    counts = dict(months)
    assert counts[date(2026, 10, 1)] == 2
    assert counts[date(2026, 8, 1)] == 1
    assert sum(counts.values()) == 3  # November 2025 lies before the twelve months


def _evidence_world(history):
    fresh = history.item(NOW - 20 * DAY, model_version=CSV_VERSION)
    history.attach(fresh, NOW - 5 * DAY)
    history.decide(fresh, NOW - 2 * DAY)
    updated = history.item(NOW - 20 * DAY, model_version="2026.09.0")  # tested an older version
    history.attach(updated, NOW - 10 * DAY)
    history.decide(updated, NOW - 2 * DAY)
    old = history.item(NOW - 120 * DAY, model_version=CSV_VERSION)  # 100 days: over 90 (operational)
    history.attach(old, NOW - 100 * DAY)
    history.decide(old, NOW - 50 * DAY)
    history.decide(history.item(NOW - 20 * DAY), NOW - 2 * DAY)  # decided without evidence
    undecided = history.item(NOW - 250 * DAY, status="open")  # no model version on the item
    history.attach(undecided, NOW - 200 * DAY)
    draft = history.item(NOW - 20 * DAY, status="draft", model_version=CSV_VERSION)
    history.attach(draft, NOW - 1 * DAY)  # drafts are not in the figures


def test_share_of_decided_items_with_fresh_evidence(db_session, history):
    _evidence_world(history)

    f = service.decided_freshness(db_session, NOW)

    assert (f.decided, f.fresh, f.stale, f.without) == (4, 1, 2, 1)
    assert f.share_fresh == 0.25
    # as days pass, the fresh item's evidence (5 days old, 90 allowed) turns stale on its 90th day
    assert service.decided_freshness(db_session, NOW + 84 * DAY).fresh == 1
    assert service.decided_freshness(db_session, NOW + 85 * DAY).fresh == 0
    kept = tallies.stored(db_session)
    tallies.recount(db_session)
    assert tallies.stored(db_session) == kept


def test_evidence_figures_follow_status_version_and_new_runs(db_session, history):
    """The evidence tallies move with each change to an item: a new run replaces its suite's
    current run, a new model version makes its runs stale, a draft submitted adds its runs."""
    _evidence_world(history)
    fresh = db_session.scalar(select(DecisionItem).where(DecisionItem.model_version == CSV_VERSION,
                                                          DecisionItem.status == "decided").order_by(DecisionItem.id))
    history.attach(fresh, NOW - 1 * DAY)  # the same suite again: still one current run
    assert service.evidence_ages(db_session, NOW)[(0, "current")] == 1
    fresh.model_version = "2026.12.0"  # the model moved on (decided items record it as a model update)
    db_session.commit()
    f = service.decided_freshness(db_session, NOW)
    assert (f.fresh, f.stale) == (0, 3)
    assert service.evidence_ages(db_session, NOW)[(0, "older")] == 2
    draft = db_session.scalar(select(DecisionItem).where(DecisionItem.status == "draft"))
    items.transition(db_session, history.cast["filer"], draft, "submit")
    db_session.commit()
    assert service.evidence_ages(db_session, NOW)[(0, "current")] == 1  # its run of yesterday
    kept = tallies.stored(db_session)
    tallies.recount(db_session)
    assert tallies.stored(db_session) == kept


def test_evidence_age_against_the_model_version_in_use(db_session, history):
    _evidence_world(history)

    ages = service.evidence_ages(db_session, NOW)

    assert ages == {
        (0, "current"): 1,  # 5 days, tested the version in use
        (0, "older"): 1,  # 10 days, but the item moved to 2026.09.0
        (2, "current"): 1,  # 100 days
        (3, "unknown"): 1,  # 200 days, the item names no version
    }


def test_age_buckets_and_version_match():
    assert [service.age_bucket(d) for d in (0, 30, 30.01, 90, 91, 180, 365, 366)] == [0, 0, 1, 1, 2, 2, 3, 4]
    assert tallies.version_match("1.0", "1.0") == "current"
    assert tallies.version_match("1.0", "1.1") == "older"
    assert tallies.version_match("", "1.1") == tallies.version_match("1.0", "") == "unknown"
