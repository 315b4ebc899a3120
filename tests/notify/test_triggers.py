"""Each trigger writes the right notifications, in the change's transaction, never to the actor."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.agenda.entries import add_entry
from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting
from forum.evidence import service as evidence
from forum.items import service as items
from forum.items.rubric import RUBRIC
from forum.notify import service
from forum.notify.models import Follow, Notification
from forum.weighing import comments, positions, queue, ratings, rules

FIXTURES = Path(__file__).resolve().parent.parent / "evidence" / "fixtures"


def test_the_filer_follows_their_item_and_rating_positions_and_comments_make_you_follow(
        db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    assert service.followed_item_ids(db_session, people["procurement"]) == {item.id}
    comments.add_comment(db_session, people["product"], item, "A thought.")
    positions.take_position(db_session, people["risk"], item, positions.PositionData("concerns", "Edge cases."))
    ratings.rate(db_session, people["risk2"], item, ratings.RatingData(
        scores={c.key: 1 for c in RUBRIC.criteria}, reason="Moderate."))
    db_session.commit()
    assert {u.id for u in service.followers_and_filer(db_session, item)} == {
        people["procurement"].id, people["product"].id, people["risk"].id, people["risk2"].id}
    assert {u.id for u in service.followers_and_filer(db_session, item, leaving_out=[people["risk"].id])} == {
        people["procurement"].id, people["product"].id, people["risk2"].id}
    assert service.followed_item_ids(db_session, people["auditor"]) == set()


def test_a_state_change_reaches_the_filer_and_followers_but_not_the_actor(
        db_session, people, make_item, inbox_of):
    item = make_item(people["procurement"], status="open", title="Vendor X")
    service.follow(db_session, people["auditor"], item)
    comments.add_comment(db_session, people["product"], item, "Following along.")
    positions.take_position(db_session, people["procurement"], item, positions.PositionData("support", "Ok."))
    db_session.commit()
    queue.escalate(db_session, people["product"], item, "Too big for us.", rules.ForumSettings())
    db_session.commit()

    assert ("item_state", "“Vendor X” is now escalated") in inbox_of(people["procurement"])
    assert ("item_state", "“Vendor X” is now escalated") in inbox_of(people["auditor"])
    # the product user escalated it: no notification of their own change
    assert not [n for n in inbox_of(people["product"]) if n[0] == "item_state"]
    body = inbox_of(people["auditor"], rows=True)[-1].body
    assert "Dee Product moved “Vendor X” from open to escalated" in body
    assert inbox_of(people["auditor"], rows=True)[-1].link == f"/items/{item.id}"


def test_functions_without_a_position_are_asked_when_an_item_is_submitted_or_escalated(
        db_session, people, make_item, inbox_of):
    filer = people["procurement"]
    item = make_item(filer, status="draft", title="Model update")
    items.transition(db_session, filer, item, "submit")
    db_session.commit()
    asked = "Your function's position is asked on “Model update”"
    for who in ("product", "risk", "risk2"):
        assert ("position_requested", asked) in inbox_of(people[who])
    assert not inbox_of(filer)  # the actor (also procurement's only member) is not asked
    assert not inbox_of(people["auditor"]) and not inbox_of(people["exec"])

    positions.take_position(db_session, people["risk"], item, positions.PositionData("support", "Fine."))
    db_session.commit()
    queue.escalate(db_session, people["product"], item, "Strategic.", rules.ForumSettings())
    db_session.commit()
    # risk has taken its position: not asked again; the risk member who took it follows the item
    # and hears of the state, the other risk member (not following) hears nothing more
    assert [k for k, _t in inbox_of(people["risk"])] == ["position_requested", "item_state"]
    assert [k for k, _t in inbox_of(people["risk2"])] == ["position_requested"]
    # product escalated it itself; procurement's filer is asked (procurement has no position)
    assert inbox_of(filer)[-1] == ("position_requested", asked)
    assert len(inbox_of(filer)) == 1  # one notification per person per change


def test_a_function_still_asked_is_not_asked_again_when_the_item_is_escalated(
        db_session, people, make_item, inbox_of):
    """One notice per cause: the request from the submission is still unread at escalation, so
    nobody gets a second "position asked" for the same item; who read it is asked again."""
    filer = people["procurement"]
    item = make_item(filer, status="draft", title="Twice?")
    items.transition(db_session, filer, item, "submit")
    db_session.commit()
    service.mark_all_read(db_session, people["risk2"])  # risk2 read the first request
    db_session.commit()
    queue.escalate(db_session, people["product"], item, "Strategic.", rules.ForumSettings())
    db_session.commit()
    asked = "Your function's position is asked on “Twice?”"
    assert [t for k, t in inbox_of(people["risk"]) if k == "position_requested"] == [asked]
    assert [t for k, t in inbox_of(people["risk2"]) if k == "position_requested"] == [asked, asked]


def test_withdrawing_to_draft_tells_only_the_filer(db_session, people, make_item, inbox_of):
    item = make_item(people["procurement"], status="open", title="Private again")
    service.follow(db_session, people["product"], item)
    db_session.commit()
    before = len(inbox_of(people["product"]))
    items.transition(db_session, people["procurement"], item, "withdraw")
    db_session.commit()
    assert len(inbox_of(people["product"])) == before  # followers cannot see drafts


def test_action_owner_hears_they_own_an_action(db_session, people, make_item, decide, inbox_of):
    item = make_item(people["procurement"], status="escalated", title="Chatbot")
    decide(people["exec"], item, people["risk"])
    mine = [n for n in inbox_of(people["risk"], rows=True) if n.kind == "action_assigned"]
    assert len(mine) == 1
    assert mine[0].title == "You own a follow-up action on “Chatbot”"
    assert "Re-test the edge cases" in mine[0].body and mine[0].link == "/actions"


def test_an_executive_who_owns_their_own_action_is_not_notified(db_session, people, make_item, decide, inbox_of):
    item = make_item(people["procurement"], status="escalated")
    decide(people["exec"], item, people["exec"])
    assert not [k for k, _t in inbox_of(people["exec"]) if k == "action_assigned"]


def test_publishing_a_meeting_tells_the_executives_and_presenters(db_session, people, make_item, inbox_of):
    item = make_item(people["procurement"], status="escalated")
    from datetime import timedelta

    from forum.core import clock
    meeting = create_meeting(db_session, people["exec"], MeetingData(
        "Q4 forum", clock.now() + timedelta(days=5), 60))
    add_entry(db_session, people["exec"], meeting, item.id, 15, presenter_id=people["risk"].id)
    db_session.commit()
    assert not [k for k, _t in inbox_of(people["exec2"]) if k == "meeting_published"]
    change_meeting_status(db_session, people["exec"], meeting, "publish")
    db_session.commit()
    published = ("meeting_published", "Agenda published: “Q4 forum”")
    assert published in inbox_of(people["exec2"])
    assert published in inbox_of(people["risk"])
    assert published not in inbox_of(people["exec"])  # published it
    assert published not in inbox_of(people["product"])  # neither executive nor presenter


def test_failing_evidence_gate_reaches_followers(db_session, people, make_item, inbox_of):
    item = make_item(people["procurement"], status="open", title="Support bot")
    service.follow(db_session, people["auditor"], item)
    db_session.commit()
    run = evidence.attach_evidence(
        db_session, people["product"], item, "support-bot.csv",
        (FIXTURES / "handwritten-support-bot.csv").read_bytes())
    db_session.commit()
    gates = run.gate_results["gates"]
    failing = [g for g in gates if g["status"] == "fail"]
    received = [n for n in inbox_of(people["auditor"], rows=True) if n.kind == "evidence_gate_failed"]
    if failing:
        assert len(received) == 1 and received[0].link == f"/evidence/{run.id}"
        assert "failing:" in received[0].body
        assert not [n for n in inbox_of(people["product"]) if n[0] == "evidence_gate_failed"]
    else:
        pytest.fail(f"the fixture was expected to fail a gate: {gates}")


def test_passing_evidence_notifies_nobody(db_session, people, make_item, inbox_of, monkeypatch):
    from forum.notify import triggers

    item = make_item(people["procurement"], status="open")
    calls = []
    monkeypatch.setattr(triggers, "_gate_failed", lambda *a: calls.append(a))
    event_data = {"gates": {"coverage": "pass", "freshness": "warn"}, "run_id": 1}
    triggers.on_event(db_session, actor=people["product"], event=type("E", (), {
        "kind": "evidence.attached", "subject": item.subject})(), data=event_data)
    assert calls == []


def test_notifications_roll_back_with_the_change(db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    count = db_session.scalar(select(func.count(Notification.id)))
    queue.escalate(db_session, people["product"], item, "Now.", rules.ForumSettings())
    assert db_session.scalar(select(func.count(Notification.id))) > count
    db_session.rollback()
    assert db_session.scalar(select(func.count(Notification.id))) == count


def test_deactivated_people_are_not_notified(db_session, people, make_item, make_user, inbox_of):
    gone = make_user(function="risk", active=False)
    item = make_item(people["procurement"], status="draft")
    items.transition(db_session, people["procurement"], item, "submit")
    db_session.commit()
    assert inbox_of(gone) == []
    assert db_session.scalar(select(func.count()).select_from(Follow).where(Follow.user_id == gone.id)) == 0


def test_a_trail_receiver_sees_each_event_once_in_the_same_transaction(db_session, people):
    from forum.trail import service as trail
    from forum.trail.signals import event_recorded

    seen = []

    def listener(session, *, actor, event, data):
        seen.append((event.kind, event.subject, data, actor, session is db_session))

    with event_recorded.connected_to(listener):
        event_recorded.connect(listener)  # connecting twice still calls it once
        trail.record(db_session, people["risk"], "test.noted", "test:1", {"a": 1})
    trail.record(db_session, people["risk"], "test.noted", "test:2", {"a": 2})  # disconnected by now
    assert seen == [("test.noted", "test:1", {"a": 1}, people["risk"], True)]
    db_session.rollback()


def test_followed_items_query_fits_inside_another_query(db_session, people, make_item):
    mine = make_item(people["procurement"], status="open")
    make_item(people["product"], status="open")
    ids = set(db_session.scalars(select(items.DecisionItem.id).where(
        items.DecisionItem.id.in_(service.followed_items_query(people["procurement"])))))
    assert ids == {mine.id}


def test_taking_the_position_settles_the_functions_requests(db_session, people, make_item, inbox_of):
    item = make_item(people["procurement"], status="open", title="Asked")  # submit asks risk
    make_item(people["procurement"], status="open", title="Other")  # its request stays open
    positions.take_position(db_session, people["risk"], item, positions.PositionData("support", "Fine."))
    db_session.commit()
    requests = {n.title: n.read_at for n in inbox_of(people["risk2"], rows=True)
                if n.kind == "position_requested"}
    assert requests["Your function's position is asked on “Asked”"] is not None
    assert requests["Your function's position is asked on “Other”"] is None
    assert all(n.read_at is None for n in inbox_of(people["product"], rows=True))
