"""The rubric as data, tier derivation and the divergence rule on the edge values of the
thresholds — in Python and in the SQL filters the lists use."""

from __future__ import annotations

import json

import pytest

from forum.core.errors import ValidationError
from forum.core.paging import rows_by_ids
from forum.items import rubric as rubric_module
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC, RubricError, load_rubric, parse_rubric
from forum.weighing.queries import ItemListFilters, list_items
from forum.weighing.rules import Scale
from tests.weighing.conftest import scores_for

OPERATIONAL = RUBRIC.tier("operational").min_total
STRATEGIC = RUBRIC.tier("strategic").min_total
SCALE = Scale(RUBRIC)


def test_the_shipped_rubric_has_six_criteria_scored_0_to_3_with_a_guide_per_score():
    assert RUBRIC.keys == (
        "financial_exposure", "regulatory", "customer_brand", "irreversibility", "vendor_lock_in",
        "data_sensitivity",
    )
    assert RUBRIC.max_score == 3 and RUBRIC.max_total == 18
    assert all(len(c.guides) == 4 and all(c.guides) for c in RUBRIC.criteria)
    assert [(t.key, t.min_total) for t in RUBRIC.tiers] == [
        ("tactical", 0), ("operational", 6), ("strategic", 12),
    ]


@pytest.mark.parametrize(("total", "tier"), [
    (0, "tactical"), (OPERATIONAL - 1, "tactical"), (OPERATIONAL, "operational"),
    (STRATEGIC - 1, "operational"), (STRATEGIC, "strategic"), (RUBRIC.max_total, "strategic"),
])
def test_a_total_gives_the_tier_whose_threshold_it_reaches(total, tier):
    assert RUBRIC.tier_for(total).key == tier


def test_the_item_tier_is_the_highest_any_current_rating_gives_and_none_before_any():
    assert SCALE.tier([]) is None
    assert SCALE.tier([0]).key == "tactical"
    assert SCALE.tier([2, STRATEGIC, OPERATIONAL]).key == "strategic"
    assert SCALE.tier([OPERATIONAL - 1, OPERATIONAL]).key == "operational"


@pytest.mark.parametrize(("totals", "divergent"), [
    ([], False),
    ([STRATEGIC], False),  # one rating alone never diverges
    ([OPERATIONAL - 1, OPERATIONAL - 1], False),
    ([OPERATIONAL - 1, OPERATIONAL], True),  # one point apart, but across a threshold
    ([OPERATIONAL, STRATEGIC - 1], False),  # five points apart, same tier
    ([STRATEGIC - 1, STRATEGIC], True),
    ([0, RUBRIC.max_total], True),
    ([OPERATIONAL, OPERATIONAL, STRATEGIC], True),
])
def test_divergence_means_tiers_differ_by_a_full_tier_or_more(totals, divergent):
    assert SCALE.diverges(totals) is divergent


def test_scores_for_helper_adds_up():
    assert all(sum(scores_for(t).values()) == t for t in range(RUBRIC.max_total + 1))


def _spec() -> dict:
    return json.loads(rubric_module.RUBRIC_PATH.read_text(encoding="utf-8"))


def test_the_rubric_is_read_from_its_data_file(tmp_path):
    spec = _spec()
    spec["tiers"][1]["min_total"] = 4
    spec["criteria"][0]["label"] = "Money at stake"
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    changed = load_rubric(path)
    assert changed.criteria[0].label == "Money at stake"
    assert changed.tier_for(4).key == "operational"
    assert RUBRIC.tier_for(4).key == "tactical"  # the one in force is untouched


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s["criteria"][0]["guides"].pop(), "needs 4 non-empty guides"),
    (lambda s: s["criteria"].append(dict(s["criteria"][0])), "unique"),
    (lambda s: s["tiers"][0].update(min_total=1), "start at 0"),
    (lambda s: s["tiers"][2].update(min_total=5), "rise strictly"),
    (lambda s: s["tiers"][2].update(min_total=99), "reachable"),
    (lambda s: s.pop("tiers"), "malformed"),
    (lambda s: s.update(max_score=0), "max_score"),
])
def test_a_malformed_rubric_is_refused_with_a_reason(change, message):
    spec = _spec()
    change(spec)
    with pytest.raises(RubricError, match=message):
        parse_rubric(spec)


def test_an_unreadable_rubric_file_is_refused(tmp_path):
    path = tmp_path / "rubric.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(RubricError, match="cannot read"):
        load_rubric(path)


# --------------------------------------------------------------- the SQL filters agree at the edges
EDGE_CASES = {
    "unrated": [],
    "tactical-edge": [OPERATIONAL - 1],
    "operational-edge": [OPERATIONAL],
    "operational-top": [STRATEGIC - 1, OPERATIONAL],
    "strategic-edge": [STRATEGIC],
    "split-low": [OPERATIONAL - 1, OPERATIONAL],
    "split-high": [STRATEGIC - 1, STRATEGIC],
}


@pytest.fixture
def edge_items(db_session, people, make_item, rate):
    raters = [people["procurement"], people["risk"]]
    made = {}
    for name, totals in EDGE_CASES.items():
        item = make_item(people["procurement"], status="open", title=name)
        for rater, total in zip(raters, totals, strict=False):
            rate(rater, item, total)
        made[name] = item
    return made


def _titles(db_session, viewer, **filters) -> set[str]:
    page = list_items(db_session, viewer, ItemListFilters(**filters), 1, 100)
    return {i.title for i in rows_by_ids(db_session, DecisionItem, page.ids)}


def test_the_list_filters_by_tier_and_divergence_exactly_as_the_rubric_derives_them(
    db_session, people, edge_items
):
    viewer = people["product"]
    for tier in ("tactical", "operational", "strategic"):
        expected = {n for n, t in EDGE_CASES.items() if t and SCALE.tier(t).key == tier}
        assert _titles(db_session, viewer, tier=tier) == expected, tier
    assert _titles(db_session, viewer, tier="unrated") == {"unrated"}
    divergent = {n for n, t in EDGE_CASES.items() if SCALE.diverges(t)}
    assert divergent == {"split-low", "split-high"}
    assert _titles(db_session, viewer, divergent=True) == divergent
    assert _titles(db_session, viewer, tier="strategic", divergent=True) == {"split-high"}


def test_an_unknown_tier_filter_is_refused(db_session, people):
    with pytest.raises(ValidationError, match="Unknown tier 'epic'"):
        list_items(db_session, people["product"], ItemListFilters(tier="epic"))
