"""The items' standing columns (forum.weighing.standing): kept current in the change's transaction,
and the SQL conditions read from them agree with the rules computed in Python."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select, update

from forum.cli import main
from forum.core import clock
from forum.evidence import service as evidence
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.weighing import queue, ratings, rules, standing, weigh
from forum.weighing.queries import divergence_condition, tier_condition
from tests.evidence.conftest import csv_bytes
from tests.weighing.conftest import scores_for

SETTINGS = rules.ForumSettings()


def _stored(db_session, item) -> dict:
    return standing.stored(db_session.connection(), [item.id])[item.id]


def _selected(db_session, condition, item) -> bool:
    return db_session.scalar(select(DecisionItem.id).where(DecisionItem.id == item.id, condition)) is not None


def test_ratings_keep_the_highest_and_lowest_total(db_session, people, make_item, rate):
    item = make_item(people["procurement"], status="open")
    assert _stored(db_session, item)["weight_max"] is None
    assert _selected(db_session, tier_condition("unrated"), item)
    rate(people["procurement"], item, 2)
    assert (_stored(db_session, item)["weight_max"], _stored(db_session, item)["weight_min"]) == (2, 2)
    assert not _selected(db_session, divergence_condition(), item)
    rate(people["risk"], item, 15)
    db_session.expire_all()
    assert (item.weight_max, item.weight_min) == (15, 2)
    assert _selected(db_session, tier_condition("strategic"), item)
    assert _selected(db_session, divergence_condition(), item)
    rate(people["risk"], item, 3)  # risk revises its rating: only the current ratings count
    assert (_stored(db_session, item)["weight_max"], _stored(db_session, item)["weight_min"]) == (3, 2)
    assert _selected(db_session, tier_condition("tactical"), item)


def test_the_loaded_item_sees_its_new_standing_without_a_version_bump(db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    version = item.version
    ratings.rate(db_session, people["risk"], item, ratings.RatingData(scores_for(12), "Big."))
    assert item.weight_max == 12  # set on the instance by the flush listener, no reload
    db_session.commit()
    assert item.version == version


def test_objection_follows_the_current_positions(db_session, people, make_item, position):
    item = make_item(people["procurement"], status="open")
    position(people["risk"], item, "object")
    assert _stored(db_session, item)["objection"] is True
    position(people["risk"], item, "support")
    assert _stored(db_session, item)["objection"] is False


def test_a_rolled_back_rating_leaves_the_standing_as_it_was(db_session, people, make_item, rate):
    item = make_item(people["procurement"], status="open")
    rate(people["procurement"], item, 4)
    ratings.rate(db_session, people["risk"], item, ratings.RatingData(scores_for(14), "Big."))
    db_session.rollback()
    assert _stored(db_session, item)["weight_max"] == 4


def test_evidence_sets_fail_drift_and_the_moment_it_goes_stale(db_session, people, make_item):
    owner = people["procurement"]
    item = make_item(owner, status="escalated", model_name="bot", model_version="1.0")
    tested = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    evidence.attach_evidence(db_session, owner, item, "week1.csv",
                             csv_bytes(9, 1, edge_passed=9, edge_failed=1, run_at=tested.isoformat()))
    db_session.commit()
    first = _stored(db_session, item)
    assert (first["evidence_fail"], first["evidence_drift"]) == (False, False)
    # Unrated items use the default tier (operational): 90 days.
    assert first["evidence_stale_at"] == tested + timedelta(days=90)

    # Edge cases below the operational minimum (75 %) at the same overall pass rate (90 %):
    # failing, but not drift.
    evidence.attach_evidence(db_session, owner, item, "week2.csv",
                             csv_bytes(17, 1, edge_passed=1, edge_failed=1, run_at=tested.isoformat()))
    db_session.commit()
    assert (_stored(db_session, item)["evidence_fail"], _stored(db_session, item)["evidence_drift"]) == (True, False)

    # A new model version makes the evidence stale at once: drift.
    db_session.refresh(item)
    items.update_model_version(db_session, owner, item, "1.1", expected_version=item.version)
    db_session.commit()
    assert (_stored(db_session, item)["evidence_fail"], _stored(db_session, item)["evidence_drift"]) == (True, True)


@pytest.mark.parametrize(("rated", "days"), [(None, 90), (15, 30), (2, 180)])
def test_stale_at_is_the_tiers_age_limit_and_matches_the_freshness_gate(
    db_session, people, make_item, rate, rated, days
):
    owner = people["procurement"]
    item = make_item(owner, status="open", model_name="bot", model_version="1.0")
    if rated is not None:
        rate(people["risk"], item, rated)
    tested = datetime(2026, 6, 1, tzinfo=UTC)
    run = evidence.attach_evidence(db_session, owner, item, "r.csv",
                                   csv_bytes(5, 0, edge_passed=5, run_at=tested.isoformat()))
    db_session.commit()
    limit = tested + timedelta(days=days)
    assert _stored(db_session, item)["evidence_stale_at"] == limit
    tier = evidence.item_tier(db_session, item)
    for moment, stale in ((limit, False), (limit + timedelta(microseconds=1), True)):
        assert _selected(db_session, rules.FailingEvidence().condition(moment, SETTINGS), item) is stale
        assert _selected(db_session, standing.evidence_drifted(moment), item) is stale
        freshness = {g.key: g.status for g in evidence.recheck(run, item, tier, moment)}["freshness"]
        assert freshness == ("fail" if stale else "pass")


def test_sql_queue_and_python_rules_agree_on_every_demo_item_over_time(db_session):
    """The queue's SQL (standing columns) selects exactly the items weigh() recommends or that
    are escalated, and finds exactly the items whose current evidence drifted — now and as the
    demo's evidence ages."""
    from forum_seed import demo as seed

    seed.load_demo(db_session)
    db_session.commit()
    every = list(db_session.scalars(select(DecisionItem).order_by(DecisionItem.id)))
    connection = db_session.connection()
    assert standing.stored(connection, [i.id for i in every]) == standing.compute(connection, [i.id for i in every])
    start = clock.now()
    checked = set()
    for days in (0, 20, 45, 100, 200, 400):
        moment = start + timedelta(days=days)
        with clock.override(lambda moment=moment: moment):
            weighings = weigh.weigh(db_session, every, SETTINGS)
            python = {i.id for i in every if i.status == "escalated" or weighings[i.id].recommended}
            sql = set(db_session.scalars(
                select(DecisionItem.id).where(queue.queue_condition("", SETTINGS, moment))))
            assert sql == python, days
            drifted_sql = set(db_session.scalars(
                select(DecisionItem.id).where(standing.evidence_drifted(moment))))
            drifted_python = {item_id for item_id, keys in evidence.drifted_gates_of(db_session, every).items()
                              if keys}
            assert drifted_sql == drifted_python, days
            checked.add(len(drifted_sql))
    assert len(checked) > 1  # the ageing evidence changed what drifted at least once


def test_rebuild_puts_right_a_row_written_around_the_application(db_session, people, make_item, rate, app):
    item = make_item(people["procurement"], status="open")
    rate(people["risk"], item, 15)
    db_session.execute(update(DecisionItem).where(DecisionItem.id == item.id).values(weight_max=None))
    db_session.commit()
    assert standing.rebuild(db_session.connection()) == (1, 1)
    assert _stored(db_session, item)["weight_max"] == 15
    assert standing.rebuild(db_session.connection()) == (1, 0)
    db_session.commit()
    result = CliRunner().invoke(main, ["standing", "rebuild"], obj=ScriptInfo(create_app=lambda: app),
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Standing rebuilt for 1 items; 0 were out of date." in result.output


def test_the_queue_order_follows_the_tier_and_the_needed_by_date(db_session, people, make_item, rate):
    """``queue_order`` (the escalation queue's index order) is kept when the item is filed with a
    needed-by date, when its tier moves and when the date is set or cleared by an edit."""
    scale = rules.Scale()
    soon = clock.now().date() + timedelta(days=7)
    item = make_item(people["procurement"], status="draft", needed_by=soon)
    assert _stored(db_session, item)["queue_order"] == scale.order_of(None, soon) == -1
    items.transition(db_session, people["procurement"], item, "submit")
    rate(people["risk"], item, 15)
    assert _stored(db_session, item)["queue_order"] == scale.order_of(15, soon)
    data = items.ItemData(**{**items.current_values(item), "needed_by": None})
    items.update_item(db_session, people["procurement"], item, data, item.version)
    db_session.commit()
    assert _stored(db_session, item)["queue_order"] == scale.order_of(15, None) == scale.order_of(15, soon) + 1
    assert item.queue_order == scale.order_of(15, None)  # the loaded item sees it without a reload
    assert standing.rebuild(db_session.connection()) == (1, 0)  # as a full recompute has it
