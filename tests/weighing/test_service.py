"""The forum's service: ratings, positions, comments, escalation — rules, permissions, states,
bad input (nothing stored, no event) and exactly one trail event per change."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, true

from forum.core import clock
from forum.core.errors import Conflict, PermissionDenied, ValidationError
from forum.items import service as items
from forum.trail.models import Event
from forum.weighing import checks, comments, positions, queue, ratings, rules, weigh
from forum.weighing.models import Comment, Escalation, Position, WeightRating
from tests.weighing.conftest import SETTINGS, event_count, scores_for


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _last_event(session) -> Event:
    return session.scalars(select(Event).order_by(Event.seq.desc()).limit(1)).one()


def _decide_and_close(session, executive, item, stop: str = "closed"):
    """Move an escalated item on through the executives' transitions."""
    for action, status in (("schedule", "scheduled"), ("decide", "decided"), ("close", "closed")):
        items.transition(session, executive, item, action)
        if status == stop:
            break
    session.commit()


# ------------------------------------------------------------------------------------ ratings
def test_a_rating_is_stored_for_the_raters_function_with_one_event(db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    before = event_count(db_session)
    rating = ratings.rate(db_session, people["risk"], item, ratings.RatingData(scores_for(13), " Big. "))
    db_session.commit()
    assert (rating.function_key, rating.total, rating.reason) == ("risk", 13, "Big.")
    assert event_count(db_session) == before + 1
    event = _last_event(db_session)
    assert (event.kind, event.subject, event.actor) == ("weight.rated", item.subject, people["risk"].email)
    assert event.data == {"function": "risk", "before": None, "after": {
        "scores": scores_for(13), "total": 13, "tier": "strategic", "reason": "Big."}}


def test_a_later_rating_by_the_same_function_replaces_the_current_one_and_keeps_both_in_the_trail(
    db_session, people, make_item
):
    item = make_item(people["procurement"], status="open")
    ratings.rate(db_session, people["procurement"], item, ratings.RatingData(scores_for(3), "Small."))
    ratings.rate(db_session, people["procurement2"], item, ratings.RatingData(scores_for(8), "Bigger than we thought."))
    db_session.commit()
    current = db_session.scalars(select(WeightRating).where(WeightRating.item_id == item.id)).all()
    assert [(r.function_key, r.total, r.rater_id) for r in current] == [
        ("procurement", 8, people["procurement2"].id)]
    events = db_session.scalars(select(Event).where(Event.kind == "weight.rated").order_by(Event.seq)).all()
    assert [e.data["after"]["total"] for e in events] == [3, 8]
    assert events[1].data["before"]["total"] == 3 and events[1].data["before"]["reason"] == "Small."


def test_rating_again_with_the_same_scores_and_reason_writes_nothing(db_session, people, make_item, rate):
    item = make_item(people["procurement"], status="open")
    rate(people["risk"], item, 7, "Same.")
    before = event_count(db_session)
    assert ratings.rate(db_session, people["risk"], item, ratings.RatingData(scores_for(7), "Same.")) is None
    assert event_count(db_session) == before


@pytest.mark.parametrize(("scores", "field", "message"), [
    (scores_for(6) | {"regulatory": 4}, "score_regulatory", "4 is outside 0–3"),
    (scores_for(6) | {"regulatory": -1}, "score_regulatory", "-1 is outside 0–3"),
    (scores_for(6) | {"irreversibility": "2"}, "score_irreversibility", "give a whole number"),
    (scores_for(6) | {"irreversibility": True}, "score_irreversibility", "give a whole number"),
    (scores_for(6) | {"astrology": 1}, "scores", "Unknown criteria: astrology"),
    ({k: v for k, v in scores_for(6).items() if k != "data_sensitivity"}, "score_data_sensitivity", "missing"),
    ("all threes", "scores", "criterion: score pairs"),
])
def test_bad_scores_are_refused_naming_the_criterion_and_nothing_is_stored(
    db_session, people, make_item, scores, field, message
):
    item = make_item(people["procurement"], status="open")
    before = event_count(db_session)
    with pytest.raises(ValidationError, match=message) as caught:
        ratings.rate(db_session, people["risk"], item, ratings.RatingData(scores, "A reason."))
    assert caught.value.field == field and caught.value.status == 400
    db_session.rollback()
    assert _count(db_session, WeightRating) == 0
    assert event_count(db_session) == before


@pytest.mark.parametrize("reason", ["", "   ", "x" * (checks.MAX_REASON + 1)])
def test_a_rating_needs_a_reason_of_sensible_length(db_session, people, make_item, reason):
    item = make_item(people["procurement"], status="open")
    with pytest.raises(ValidationError) as caught:
        ratings.rate(db_session, people["risk"], item, ratings.RatingData(scores_for(6), reason))
    assert caught.value.field == "reason"
    assert _count(db_session, WeightRating) == 0


@pytest.mark.parametrize(("who", "message"), [
    ("auditor", "an auditor reads only"),
    ("admin", "an administrator reads only"),
    ("exec", "belongs to no function"),
])
def test_readers_and_executives_without_a_function_cannot_rate_or_take_positions(
    db_session, people, make_item, who, message
):
    item = make_item(people["procurement"], status="open")
    before = event_count(db_session)
    with pytest.raises(PermissionDenied, match=message):
        ratings.rate(db_session, people[who], item, ratings.RatingData(scores_for(6), "Reason."))
    with pytest.raises(PermissionDenied, match=message):
        positions.take_position(db_session, people[who], item, positions.PositionData("support", "Why."))
    assert event_count(db_session) == before
    assert _count(db_session, WeightRating) == _count(db_session, Position) == 0


def test_an_executive_with_a_function_rates_and_takes_positions_for_it(db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    rating = ratings.rate(db_session, people["exec_fn"], item, ratings.RatingData(scores_for(12), "Reason."))
    position = positions.take_position(db_session, people["exec_fn"], item, positions.PositionData("object", "No."))
    assert rating.function_key == position.function_key == "risk"


def test_nobody_rates_or_takes_a_position_for_another_function(db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    with pytest.raises(PermissionDenied, match="Only members of the 'risk' function"):
        ratings.rate(db_session, people["product"], item,
                   ratings.RatingData(scores_for(6), "Reason.", function="risk"))
    with pytest.raises(PermissionDenied, match="Only members of the 'risk' function") as caught:
        positions.take_position(db_session, people["product"], item,
                            positions.PositionData("object", "Why.", function="risk"))
    assert caught.value.field == "function"
    assert _count(db_session, WeightRating) == _count(db_session, Position) == 0


def test_no_forum_activity_on_a_draft(db_session, people, make_item):
    draft = make_item(people["procurement"])
    before = event_count(db_session)
    for attempt in (
        lambda: ratings.rate(db_session, people["procurement"], draft, ratings.RatingData(scores_for(6), "R.")),
        lambda: positions.take_position(db_session, people["procurement"], draft, positions.PositionData("support", "R.")),
        lambda: comments.add_comment(db_session, people["procurement"], draft, "Hello"),
        lambda: queue.escalate(db_session, people["procurement"], draft, "Urgent", SETTINGS),
    ):
        with pytest.raises(Conflict, match="draft"):
            attempt()
    assert event_count(db_session) == before


def test_ratings_and_positions_stop_once_decided_and_everything_stops_once_closed(
    db_session, people, make_item
):
    item = make_item(people["procurement"], status="escalated")
    comments.add_comment(db_session, people["risk"], item, "Before the decision.")
    _decide_and_close(db_session, people["exec"], item, stop="decided")
    with pytest.raises(Conflict, match="The item is decided: you can rate its weight only while it is open, escalated, scheduled"):
        ratings.rate(db_session, people["risk"], item, ratings.RatingData(scores_for(6), "R."))
    with pytest.raises(Conflict, match="decided"):
        positions.take_position(db_session, people["risk"], item, positions.PositionData("support", "R."))
    comment = comments.add_comment(db_session, people["risk"], item, "After the decision: follow-up noted.")
    db_session.commit()
    items.transition(db_session, people["exec"], item, "close")
    db_session.commit()
    before = event_count(db_session)
    with pytest.raises(Conflict, match="closed"):
        comments.add_comment(db_session, people["risk"], item, "Too late.")
    with pytest.raises(Conflict, match="closed"):
        comments.edit_comment(db_session, people["risk"], item, comment, "Changed my mind.")
    assert event_count(db_session) == before


def test_ratings_continue_on_escalated_and_scheduled_items(db_session, people, make_item):
    item = make_item(people["procurement"], status="escalated")
    assert ratings.rate(db_session, people["risk"], item, ratings.RatingData(scores_for(6), "R."))
    items.transition(db_session, people["exec"], item, "schedule")
    assert ratings.rate(db_session, people["product"], item, ratings.RatingData(scores_for(9), "R."))


# ---------------------------------------------------------------------------------- positions
def test_a_position_is_revisable_and_its_history_kept_in_the_trail(db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    positions.take_position(db_session, people["risk"], item, positions.PositionData("concerns", "Untested."))
    positions.take_position(db_session, people["risk"], item, positions.PositionData("object", "Tests failed."))
    db_session.commit()
    current = db_session.scalars(select(Position)).all()
    assert [(p.function_key, p.stance, p.rationale) for p in current] == [("risk", "object", "Tests failed.")]
    event = _last_event(db_session)
    assert event.kind == "position.taken"
    assert event.data == {"function": "risk", "before": {"stance": "concerns", "rationale": "Untested."},
                          "after": {"stance": "object", "rationale": "Tests failed."}}
    before = event_count(db_session)
    assert positions.take_position(db_session, people["risk"], item, positions.PositionData("object", "Tests failed.")) is None
    assert event_count(db_session) == before


@pytest.mark.parametrize(("stance", "rationale", "field"), [
    ("meh", "Why.", "stance"), ("support", "", "rationale"), ("support", "  ", "rationale"),
])
def test_a_position_needs_a_known_stance_and_a_rationale(db_session, people, make_item, stance, rationale, field):
    item = make_item(people["procurement"], status="open")
    before = event_count(db_session)
    with pytest.raises(ValidationError) as caught:
        positions.take_position(db_session, people["risk"], item, positions.PositionData(stance, rationale))
    assert caught.value.field == field
    assert _count(db_session, Position) == 0 and event_count(db_session) == before


# ----------------------------------------------------------------------------------- comments
def test_comments_record_their_authors_function_and_edits_keep_the_earlier_text(db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    comment = comments.add_comment(db_session, people["risk"], item, "  First **thoughts**  ")
    db_session.commit()
    assert (comment.body, comment.function_key, comment.edited_at) == ("First **thoughts**", "risk", None)
    assert _last_event(db_session).data == {"comment": comment.id, "function": "risk", "body": "First **thoughts**"}
    assert comments.edit_comment(db_session, people["risk"], item, comment, "Second thoughts") is True
    db_session.commit()
    assert comment.body == "Second thoughts" and comment.edited_at is not None
    event = _last_event(db_session)
    assert event.kind == "comment.edited"
    assert event.data == {"comment": comment.id, "before": "First **thoughts**", "after": "Second thoughts"}
    before = event_count(db_session)
    assert comments.edit_comment(db_session, people["risk"], item, comment, "Second thoughts") is False
    assert event_count(db_session) == before


def test_an_executive_without_a_function_comments(db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    comment = comments.add_comment(db_session, people["exec"], item, "On the agenda next week.")
    assert comment.function_key is None


def test_only_the_author_edits_a_comment_and_readers_do_not_comment(db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    comment = comments.add_comment(db_session, people["risk"], item, "Mine.")
    db_session.commit()
    before = event_count(db_session)
    with pytest.raises(PermissionDenied, match="Only the author"):
        comments.edit_comment(db_session, people["product"], item, comment, "Hijacked.")
    for reader in ("auditor", "admin"):
        with pytest.raises(PermissionDenied, match="reads only"):
            comments.add_comment(db_session, people[reader], item, "Hello")
    assert event_count(db_session) == before
    db_session.refresh(comment)
    assert comment.body == "Mine."


@pytest.mark.parametrize("body", ["", "   ", "x" * (checks.MAX_COMMENT + 1)])
def test_an_empty_or_overlong_comment_is_refused(db_session, people, make_item, body):
    item = make_item(people["procurement"], status="open")
    with pytest.raises(ValidationError) as caught:
        comments.add_comment(db_session, people["risk"], item, body)
    assert caught.value.field == "body"
    assert _count(db_session, Comment) == 0


# --------------------------------------------------------------------------------- escalation
def test_escalating_writes_one_event_carrying_the_reason_and_an_escalation_record(
    db_session, people, make_item, rate
):
    item = make_item(people["procurement"], status="open", exposure=400_000)
    rate(people["risk"], item, 13)
    before = event_count(db_session)
    escalation = queue.escalate(db_session, people["product"], item, " Needs the board. ", SETTINGS,
                                expected_version=item.version)
    db_session.commit()
    assert item.status == "escalated"
    assert event_count(db_session) == before + 1
    event = _last_event(db_session)
    assert (event.kind, event.actor) == ("item.status_changed", people["product"].email)
    assert event.data == {"action": "escalate", "from": "open", "to": "escalated", "note": "Needs the board."}
    assert (escalation.actor_id, escalation.reason, escalation.rule) == (people["product"].id, "Needs the board.", None)
    # the recommendation reasons that held when it was escalated
    assert escalation.recommended == [
        "Strategic weight: rated strategic by Risk (13 of 18).",
        "Financial exposure of 400\u202f000 is above the escalation threshold of 250\u202f000.",
    ]


def test_an_executive_escalates_too(db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    queue.escalate(db_session, people["exec"], item, "I want this on the agenda.", SETTINGS)
    assert item.status == "escalated"


@pytest.mark.parametrize(("who", "status", "error", "message"), [
    ("auditor", "open", PermissionDenied, "reads only"),
    ("admin", "open", PermissionDenied, "reads only"),
    ("risk", "escalated", Conflict, "The item is escalated: you can escalate it only while it is open"),
])
def test_escalation_refused_for_readers_and_items_that_are_not_open(
    db_session, people, make_item, who, status, error, message
):
    item = make_item(people["procurement"], status=status)
    before = event_count(db_session)
    with pytest.raises(error, match=message):
        queue.escalate(db_session, people[who], item, "Reason.", SETTINGS)
    assert event_count(db_session) == before and _count(db_session, Escalation) == 0


def test_escalation_needs_a_reason_and_the_current_version(db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    before = event_count(db_session)
    with pytest.raises(ValidationError, match="Give a reason for the escalation") as caught:
        queue.escalate(db_session, people["risk"], item, "  ", SETTINGS)
    assert caught.value.field == "reason"
    with pytest.raises(Conflict, match="Someone else changed this item"):
        queue.escalate(db_session, people["risk"], item, "Why.", SETTINGS, expected_version=item.version - 1)
    db_session.rollback()
    assert event_count(db_session) == before and _count(db_session, Escalation) == 0
    db_session.refresh(item)
    assert item.status == "open"


# --------------------------------------------------------------------------- escalation rules
def _extra_rule(explain) -> rules.Rule:
    """A rule beyond the shipped ones: ``explain(session, items)`` gives its reasons; its SQL
    condition holds for every item."""

    class Extra(rules.Rule):
        name = "extra"

        def condition(self, now, settings, rubric=None):
            return true()

        def explain(self, session, weighed, settings, rubric=None):
            return explain(session, [item for item, _w in weighed])

    return Extra()


def _rules(db_session, item, settings=SETTINGS) -> list[str]:
    return [r.rule for r in weigh.weigh(db_session, [item], settings)[item.id].reasons]


@pytest.fixture
def open_item(people, make_item):
    return make_item(people["procurement"], status="open", exposure=None)


def test_no_rule_holds_on_an_agreed_operational_item(db_session, people, open_item, rate, position):
    rate(people["procurement"], open_item, 6)
    rate(people["risk"], open_item, 11)
    position(people["risk"], open_item, "concerns")
    weighing = weigh.weigh(db_session, [open_item], SETTINGS)[open_item.id]
    assert weighing.reasons == [] and not weighing.recommended
    assert weighing.tier.key == "operational" and not weighing.divergent


def test_strategic_tier_alone(db_session, people, open_item, rate):
    rate(people["procurement"], open_item, 12)
    assert _rules(db_session, open_item) == ["strategic"]
    assert weigh.weigh(db_session, [open_item], SETTINGS)[open_item.id].recommended


def test_an_objection_alone(db_session, people, open_item, position):
    position(people["product"], open_item, "object")
    position(people["risk"], open_item, "support")
    assert _rules(db_session, open_item) == ["objection"]
    reasons = weigh.weigh(db_session, [open_item], SETTINGS)[open_item.id].reasons
    assert reasons[0].text == "Product objects."


def test_weight_divergence_alone(db_session, people, open_item, rate):
    rate(people["procurement"], open_item, 5)
    rate(people["risk"], open_item, 6)
    assert _rules(db_session, open_item) == ["divergence"]


@pytest.mark.parametrize(("exposure", "holds"), [(None, False), (250_000, False), (250_001, True)])
def test_financial_exposure_above_the_threshold_alone(db_session, people, make_item, exposure, holds):
    item = make_item(people["procurement"], status="open", exposure=exposure)
    assert _rules(db_session, item) == (["exposure"] if holds else [])


def test_the_exposure_threshold_is_configurable(db_session, people, make_item, app):
    item = make_item(people["procurement"], status="open", exposure=100_000)
    settings = rules.ForumSettings.from_config({"ESCALATION_EXPOSURE_THRESHOLD": 99_999})
    assert _rules(db_session, item, settings) == ["exposure"]
    assert rules.ForumSettings.from_config(app.config) == rules.ForumSettings()


def test_every_rule_together_in_a_fixed_order(db_session, people, make_item, rate, position, monkeypatch):
    item = make_item(people["procurement"], status="open", exposure=1_000_000)
    rate(people["procurement"], item, 2)
    rate(people["risk"], item, 15)
    position(people["risk"], item, "object")
    monkeypatch.setattr(rules, "RULES", (*rules.RULES, _extra_rule(
        lambda session, batch: {i.id: "Edge-case gate fails." for i in batch})))
    assert _rules(db_session, item) == ["strategic", "objection", "divergence", "exposure", "extra"]


def test_an_extra_rule_is_called_once_for_a_whole_batch_and_only_flags_what_it_returns(
    db_session, people, make_item, monkeypatch
):
    batch = [make_item(people["procurement"], status="open") for _ in range(4)]
    calls = []

    def gate(session, given):
        calls.append([i.id for i in given])
        return {given[0].id: "Evidence is stale."}

    monkeypatch.setattr(rules, "RULES", (*rules.RULES, _extra_rule(gate)))
    weighings = weigh.weigh(db_session, batch, SETTINGS)
    assert calls == [[i.id for i in batch]]
    assert [w.recommended for w in weighings.values()] == [True, False, False, False]
    assert weighings[batch[0].id].reasons == [weigh.Reason("extra", "Evidence is stale.")]


def test_escalation_is_recommended_only_for_open_items(db_session, people, make_item, rate):
    item = make_item(people["procurement"], status="escalated")
    rate(people["risk"], item, 14)
    weighing = weigh.weigh(db_session, [item], SETTINGS)[item.id]
    assert _rules(db_session, item) == ["strategic"] and not weighing.recommended


def test_required_functions_are_configurable(db_session, people, make_item, position):
    settings = rules.ForumSettings.from_config({"REQUIRED_FUNCTIONS": " risk, Product ,risk"})
    assert settings.required_functions == ("risk", "product")
    item = make_item(people["procurement"], status="open")
    position(people["risk"], item, "support")
    forum_view = weigh.item_forum(db_session, item, settings)
    assert [f.key for f in forum_view.missing_positions] == ["product"]
    assert [f.key for f in weigh.item_forum(db_session, item, SETTINGS).missing_positions] == [
        "procurement", "product"]


# -------------------------------------------------------------------------------------- queue
def test_the_queue_holds_escalated_and_recommended_open_items_by_tier_then_needed_by(
    db_session, people, make_item, rate, position
):
    from datetime import date, timedelta

    soon, later = date.today() + timedelta(days=10), date.today() + timedelta(days=60)
    make = lambda title, status="open", **kw: make_item(people["procurement"], status=status, title=title, **kw)  # noqa: E731
    calm = make("calm")  # open, no rule holds: not queued
    rate(people["risk"], calm, 3)
    make("escalated unrated", status="escalated", needed_by=soon)
    objected = make("objected tactical", needed_by=soon)
    rate(people["risk"], objected, 2)
    position(people["risk"], objected, "object")
    strategic_later = make("strategic later", needed_by=later)
    rate(people["risk"], strategic_later, 12)
    strategic_undated = make("strategic undated", status="escalated")
    rate(people["risk"], strategic_undated, 18)
    strategic_soon = make("strategic soon", needed_by=soon)
    rate(people["risk"], strategic_soon, 13)
    operational = make("operational divergent", needed_by=later)
    rate(people["risk"], operational, 6)
    rate(people["procurement"], operational, 5)
    draft = make_item(people["procurement"], title="draft strategic", exposure=10**6)

    page = queue.escalation_queue(db_session, queue.QueueFilters(), SETTINGS)
    assert [e.item.title for e in page.items] == [
        "strategic soon", "strategic later", "strategic undated", "operational divergent",
        "objected tactical", "escalated unrated",
    ]
    assert calm.id not in {e.item.id for e in page.items} and draft.id not in {e.item.id for e in page.items}

    def titles(**filters):
        return [e.item.title for e in queue.escalation_queue(db_session, queue.QueueFilters(**filters), SETTINGS).items]

    assert titles(status="escalated") == ["strategic undated", "escalated unrated"]
    assert titles(tier="strategic", status="open") == ["strategic soon", "strategic later"]
    assert titles(divergent=True) == ["operational divergent"]
    assert titles(tier="unrated") == ["escalated unrated"]
    # procurement rated only "operational divergent" and took no position anywhere: all await it
    assert titles(awaiting="procurement") == titles()
    position(people["procurement"], operational, "support")
    assert "operational divergent" not in titles(awaiting="procurement")
    with pytest.raises(ValidationError, match="not 'draft'"):
        queue.escalation_queue(db_session, queue.QueueFilters(status="draft"), SETTINGS)


def test_the_queue_shows_the_latest_escalation_of_escalated_items_only(db_session, people, make_item):
    item = make_item(people["procurement"], status="open", exposure=900_000)
    queue.escalate(db_session, people["risk"], item, "First time.", SETTINGS)
    items.transition(db_session, people["procurement"], item, "withdraw")
    db_session.commit()
    entry = queue.escalation_queue(db_session, queue.QueueFilters(), SETTINGS).items[0]
    assert entry.item.status == "open" and entry.escalation is None  # recommended by exposure
    queue.escalate(db_session, people["product"], item, "Second time.", SETTINGS)
    db_session.commit()
    entry = queue.escalation_queue(db_session, queue.QueueFilters(), SETTINGS).items[0]
    assert entry.escalation.reason == "Second time."
    assert _count(db_session, Escalation) == 2


def test_every_rule_comes_with_its_sql_condition_in_the_order_of_the_reasons():
    """The queue's SQL needs every rule's condition."""
    assert [rule.name for rule in rules.RULES] == ["strategic", "objection", "divergence", "exposure", "evidence"]
    for rule in rules.RULES:
        assert rule.condition(clock.now(), SETTINGS) is not None
    assert hash(rules.RULES) == hash(tuple(rules.RULES))  # derived-cache keys name the rules
