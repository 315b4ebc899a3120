"""Agenda rules through the services: the meeting state machine, ordering, recusal, decisions
and amendments, carry-forward, actions closing the item, expiry, permissions and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.agenda import queries
from forum.agenda.actions import complete_action, get_action
from forum.agenda.decisions import (
    ActionData,
    AmendmentData,
    DecisionData,
    amend_decision,
    close_item,
    expire_approvals,
    get_decision,
    record_decision,
)
from forum.agenda.entries import (
    add_entry,
    declare_conflict,
    get_entry,
    move_entry,
    recusal_of,
    recusals_of,
    remove_entry,
    update_entry,
)
from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting, get_meeting, update_meeting
from forum.agenda.models import AgendaEntry
from forum.core import clock
from forum.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.items.service import TRANSITIONS
from forum.trail import service as trail
from forum.trail.models import Event
from tests.agenda.conftest import counts


def kinds(session, subject: str) -> list[str]:
    return [e.kind for e in trail.events_for(session, subject)]


def in_days(n: int):
    return clock.now().date() + timedelta(days=n)


# ----------------------------------------------------------------------- meeting state machine
def test_meeting_moves_draft_published_in_session_closed_one_event_each(
        db_session, chair, filer, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, items=[item])
    assert meeting.status == "draft"
    for action, expected in (("publish", "published"), ("start", "in_session")):
        change_meeting_status(db_session, chair, meeting, action)
        assert meeting.status == expected
    db_session.commit()
    decide(chair, meeting, item)
    change_meeting_status(db_session, chair, meeting, "close")
    db_session.commit()
    assert meeting.status == "closed"
    assert kinds(db_session, meeting.subject) == [
        "meeting.created", "agenda.entry_added", "meeting.status_changed",
        "meeting.status_changed", "meeting.status_changed",
    ]
    statuses = [e.data["to"] for e in trail.events_for(db_session, meeting.subject)
                if e.kind == "meeting.status_changed"]
    assert statuses == ["published", "in_session", "closed"]


@pytest.mark.parametrize("status, action", [
    ("draft", "start"), ("draft", "close"), ("published", "publish"), ("published", "close"),
    ("in_session", "publish"), ("in_session", "start"),
])
def test_meeting_refuses_moves_not_in_the_table(db_session, chair, filer, make_item, make_meeting,
                                                status, action):
    meeting = make_meeting(chair, status=status, items=[make_item(filer, status="escalated")])
    before = counts(db_session)
    with pytest.raises(Conflict, match=f"Cannot {action} a meeting"):
        change_meeting_status(db_session, chair, meeting, action)
    db_session.rollback()
    assert counts(db_session) == before


def test_an_empty_agenda_cannot_be_published_and_undecided_entries_block_closing(
        db_session, chair, filer, make_item, make_meeting):
    empty = make_meeting(chair)
    with pytest.raises(ValidationError, match="at least one item"):
        change_meeting_status(db_session, chair, empty, "publish")
    db_session.rollback()
    item = make_item(filer, status="escalated", title="Undecided thing")
    meeting = make_meeting(chair, status="in_session", items=[item])
    with pytest.raises(Conflict, match="Undecided thing"):
        change_meeting_status(db_session, chair, meeting, "close")


def test_meeting_details_are_validated_and_changes_are_versioned(db_session, chair):
    with pytest.raises(ValidationError, match="in the past") as past:
        create_meeting(db_session, chair, MeetingData("Past", clock.now() - timedelta(hours=1), 60))
    assert past.value.field == "starts_at"
    with pytest.raises(ValidationError, match="title"):
        create_meeting(db_session, chair, MeetingData("  ", clock.now() + timedelta(days=1), 60))
    with pytest.raises(ValidationError, match="duration"):
        create_meeting(db_session, chair, MeetingData("X", clock.now() + timedelta(days=1), 0))
    meeting = create_meeting(db_session, chair, MeetingData("Board", clock.now() + timedelta(days=1), 60))
    db_session.commit()
    version = meeting.version
    changes = update_meeting(db_session, chair, meeting,
                             MeetingData("Board (moved)", meeting.starts_at, 90), version)
    assert set(changes) == {"title", "duration_minutes"}
    with pytest.raises(Conflict, match="version"):
        update_meeting(db_session, chair, meeting, MeetingData("Again", meeting.starts_at, 90), version)


# ---------------------------------------------------------------------------------- entries
def test_adding_schedules_the_item_and_an_item_sits_on_one_open_meeting(
        db_session, chair, filer, make_item, make_meeting):
    item = make_item(filer, status="escalated")
    first = make_meeting(chair, items=[item])
    db_session.refresh(item)
    assert item.status == "scheduled"
    assert kinds(db_session, item.subject)[-1] == "item.status_changed"
    second = make_meeting(chair)
    before = counts(db_session)
    with pytest.raises(Conflict, match=f"already on the agenda of “{first.title}”"):
        add_entry(db_session, chair, second, item.id, 10)
    db_session.rollback()
    assert counts(db_session) == before


def test_only_escalated_items_can_be_added(db_session, chair, filer, make_item, make_meeting):
    meeting = make_meeting(chair)
    open_item = make_item(filer, status="open")
    with pytest.raises(Conflict, match="only escalated items"):
        add_entry(db_session, chair, meeting, open_item.id, 10)
    with pytest.raises(ValidationError, match="Choose an item"):
        add_entry(db_session, chair, meeting, 999_999, 10)


def test_reorder_moves_entries_and_refuses_positions_that_do_not_exist(
        db_session, chair, filer, make_item, make_meeting, entry_of):
    a, b, c = (make_item(filer, status="escalated", title=t) for t in "ABC")
    meeting = make_meeting(chair, items=[a, b, c])
    move_entry(db_session, chair, entry_of(meeting, c), 1)
    db_session.commit()
    order = db_session.scalars(select(AgendaEntry.item_id).where(AgendaEntry.meeting_id == meeting.id)
                               .order_by(AgendaEntry.position)).all()
    assert order == [c.id, a.id, b.id]
    moved = trail.events_for(db_session, meeting.subject)[-1]
    assert (moved.kind, moved.data["from"], moved.data["to"]) == ("agenda.entry_moved", 3, 1)
    before = counts(db_session)
    for bad in (0, 4, -1, None):
        with pytest.raises(ValidationError, match="no position") as refused:
            move_entry(db_session, chair, entry_of(meeting, a), bad)
        assert refused.value.field == "position"
    db_session.rollback()
    assert counts(db_session) == before


def test_removing_an_undecided_entry_returns_the_item_and_closes_the_gap(
        db_session, chair, filer, make_item, make_meeting, entry_of):
    a, b, c = (make_item(filer, status="escalated") for _ in range(3))
    meeting = make_meeting(chair, items=[a, b, c])
    remove_entry(db_session, chair, entry_of(meeting, a))
    db_session.commit()
    db_session.refresh(a)
    assert a.status == "escalated"
    positions = db_session.execute(select(AgendaEntry.item_id, AgendaEntry.position)
                                   .where(AgendaEntry.meeting_id == meeting.id)
                                   .order_by(AgendaEntry.position)).all()
    assert positions == [(b.id, 1), (c.id, 2)]
    assert trail.events_for(db_session, a.subject)[-1].data["action"] == "unschedule"


def test_time_box_and_presenter_and_total_against_duration(
        db_session, chair, filer, owner, make_item, make_meeting, entry_of, make_user):
    a, b = (make_item(filer, status="escalated") for _ in range(2))
    meeting = make_meeting(chair, items=[a, b], duration=30, time_box=20)
    changes = update_entry(db_session, chair, entry_of(meeting, a), 25, owner.id)
    assert set(changes) == {"time_box_minutes", "presenter"}
    db_session.commit()
    view = queries.meeting_view(db_session, meeting.id)
    assert view.total_minutes == 45 and view.over_by == 15
    assert view.entries[0].presenter.id == owner.id
    gone = make_user(function="risk", active=False)
    with pytest.raises(ValidationError, match="presenter"):
        update_entry(db_session, chair, entry_of(meeting, a), 25, gone.id)
    with pytest.raises(ValidationError, match="time box"):
        update_entry(db_session, chair, entry_of(meeting, a), 0, None)


def test_only_executives_manage_agendas(db_session, chair, filer, make_item, make_meeting, entry_of, make_user):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, items=[item])
    auditor = make_user(role="auditor", function=None)
    before = counts(db_session)
    for actor in (filer, auditor):
        with pytest.raises(PermissionDenied):
            create_meeting(db_session, actor, MeetingData("X", clock.now() + timedelta(days=1), 60))
        with pytest.raises(PermissionDenied):
            move_entry(db_session, actor, entry_of(meeting, item), 1)
        with pytest.raises(PermissionDenied):
            remove_entry(db_session, actor, entry_of(meeting, item))
        with pytest.raises(PermissionDenied):
            change_meeting_status(db_session, actor, meeting, "publish")
    db_session.rollback()
    assert counts(db_session) == before


# ---------------------------------------------------------------------------------- decisions
def test_approval_decides_the_item_with_two_events_decision_then_status(
        db_session, chair, cfo, filer, owner, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved_with_conditions", deciders=[chair, cfo],
                      conditions="Quarterly drift review.", expires_on=in_days(180),
                      actions=[("Set up the drift review", owner, in_days(30))])
    db_session.refresh(item)
    assert item.status == "decided"
    events = trail.events_for(db_session, item.subject)[-2:]
    assert [e.kind for e in events] == ["decision.recorded", "item.status_changed"]
    data = events[0].data
    assert data["outcome"] == "approved_with_conditions"
    assert sorted(data["deciders"]) == sorted([chair.email, cfo.email])
    assert data["actions"][0]["owner"] == owner.email
    assert events[1].data["action"] == "decide"
    assert decision.revision == 1


@pytest.mark.parametrize("outcome", ["deferred", "more_evidence_needed"])
def test_deferral_returns_the_item_and_it_is_carried_forward_first(
        db_session, chair, filer, make_item, make_meeting, decide, entry_of, outcome):
    waiting = make_item(filer, status="escalated", title="Waiting since long")
    item = make_item(filer, status="escalated", title="Deferred one")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decide(chair, meeting, item, outcome)
    db_session.refresh(item)
    assert item.status == "escalated"
    assert trail.events_for(db_session, item.subject)[-1].data["action"] == "defer"
    queue = queries.queue_page(db_session).items
    assert [q.item.id for q in queue] == [item.id, waiting.id]
    assert queue[0].carry_forward and not queue[1].carry_forward
    earlier = entry_of(meeting, item)
    nxt = make_meeting(chair, items=[item])
    assert entry_of(nxt, item).carried_from_id == earlier.id


def test_an_item_stays_carried_forward_until_a_meeting_settles_it(
        db_session, chair, filer, make_item, make_meeting, decide, entry_of):
    """The lifecycle's mark (DecisionItem.carried_forward), which the picker orders by: set when a
    meeting sends the item back, kept while it is put on an agenda and taken off again, cleared
    when a meeting settles it."""
    waiting = make_item(filer, status="escalated", title="Waiting since long")
    item = make_item(filer, status="escalated", title="Deferred one")
    assert not item.carried_forward
    decide(chair, make_meeting(chair, status="in_session", items=[item]), item, "deferred")
    assert item.carried_forward
    draft = make_meeting(chair, items=[item])
    assert item.status == "scheduled" and item.carried_forward
    remove_entry(db_session, chair, entry_of(draft, item))
    db_session.commit()
    assert item.status == "escalated"
    assert [(q.item.id, q.carry_forward) for q in queries.queue_page(db_session).items] == [
        (item.id, True), (waiting.id, False)]
    decide(chair, make_meeting(chair, status="in_session", items=[item]), item, "rejected")
    assert item.status == "decided" and not item.carried_forward


def test_decisions_only_in_session(db_session, chair, filer, make_item, make_meeting, entry_of):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="published", items=[item])
    before = counts(db_session)
    with pytest.raises(Conflict, match="in session"):
        record_decision(db_session, chair, entry_of(meeting, item),
                        DecisionData("approved", "Fine.", decider_ids=[chair.id]))
    db_session.rollback()
    assert counts(db_session) == before


@pytest.mark.parametrize("values, field, message", [
    ({"rationale": "   "}, "rationale", "Give the rationale"),
    ({"outcome": "maybe"}, "outcome", "Choose an outcome"),
    ({"outcome": "approved_with_conditions", "conditions": ""}, "conditions", "needs its conditions"),
    ({"conditions": "Only on Tuesdays"}, "conditions", "Conditions go with"),
    ({"outcome": "approved_with_conditions", "conditions": "c", "expires_on": "past"}, "expires_on", "future"),
    ({"expires_on": "soon"}, "expires_on", "Only an approval with conditions"),
    ({"deciders": []}, "deciders", "Tick the executives"),
    ({"deciders": ["staff"]}, "deciders", "active executives"),
    ({"actions": [("", "owner", 3)]}, "actions-0-text", "say what is to be done"),
    ({"actions": [("Do it", None, 3)]}, "actions-0-owner", "choose who owns it"),
    ({"actions": [("Do it", "owner", None)]}, "actions-0-due_on", "give a due date"),
    ({"actions": [("Do it", "owner", -1)]}, "actions-0-due_on", "in the past"),
    ({"actions": [("Do it", "gone", 3)]}, "actions-0-owner", "deactivated"),
])
def test_bad_decision_input_is_refused_with_nothing_stored(
        db_session, chair, filer, owner, make_user, make_item, make_meeting, entry_of,
        values, field, message):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    people = {"owner": owner, "gone": make_user(function="risk", active=False), None: None}
    data = DecisionData(
        outcome=values.get("outcome", "approved"), rationale=values.get("rationale", "Sound."),
        conditions=values.get("conditions", ""),
        expires_on={"past": in_days(-1), "soon": in_days(10), None: None}[values.get("expires_on")],
        decider_ids=[filer.id for _ in values["deciders"]] if "deciders" in values else [chair.id],
        actions=[ActionData(text, people[who].id if people[who] else None,
                            in_days(due) if due is not None else None)
                 for text, who, due in values.get("actions", [])],
    )
    before = counts(db_session)
    with pytest.raises(ValidationError, match=message) as refused:
        record_decision(db_session, chair, entry_of(meeting, item), data)
    assert refused.value.field == field
    db_session.rollback()
    assert counts(db_session) == before
    db_session.refresh(item)
    assert item.status == "scheduled"


def test_policy_exception_approval_may_expire(db_session, chair, filer, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated", category="policy_exception")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved", expires_on=in_days(30))
    assert decision.expires_on == in_days(30)


def test_non_executives_cannot_decide(db_session, chair, filer, make_item, make_meeting, entry_of):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    with pytest.raises(PermissionDenied, match="Only executives"):
        record_decision(db_session, filer, entry_of(meeting, item),
                        DecisionData("approved", "Fine.", decider_ids=[chair.id]))


# ------------------------------------------------------------------------------------ recusal
def test_an_executive_who_filed_the_item_is_recused(db_session, chair, cfo, make_item, make_meeting, entry_of):
    item = make_item(cfo, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    before = counts(db_session)
    entry = entry_of(meeting, item)
    assert [(n.user_id, n.reason) for n in recusals_of(entry)] == [(cfo.id, "filed the item")]
    with pytest.raises(PermissionDenied, match="recused") as refused:
        record_decision(db_session, cfo, entry, DecisionData("approved", "Mine.", decider_ids=[cfo.id]))
    assert refused.value.field == "recusal"
    with pytest.raises(ValidationError, match="recused"):
        record_decision(db_session, chair, entry, DecisionData("approved", "Ok.", decider_ids=[chair.id, cfo.id]))
    db_session.rollback()
    assert counts(db_session) == before


def test_a_declared_conflict_recuses_and_is_in_the_trail(
        db_session, chair, cfo, filer, make_item, make_meeting, entry_of):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    declare_conflict(db_session, cfo, entry_of(meeting, item), "Former employee of the vendor")
    db_session.commit()
    entry = entry_of(meeting, item)
    assert recusal_of(entry, cfo).reason == "declared a conflict: Former employee of the vendor"
    assert trail.events_for(db_session, item.subject)[-1].kind == "agenda.conflict_declared"
    with pytest.raises(PermissionDenied, match="recused"):
        record_decision(db_session, cfo, entry, DecisionData("approved", "x", decider_ids=[cfo.id]))
    with pytest.raises(Conflict, match="already recused"):
        declare_conflict(db_session, cfo, entry, "again")
    with pytest.raises(ValidationError, match="conflict of interest"):
        declare_conflict(db_session, chair, entry, " ")


# --------------------------------------------------------------------------------- amendments
def test_amendment_after_close_references_the_original_and_keeps_it(
        db_session, chair, filer, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    original = decide(chair, meeting, item, "approved", rationale="Cheaper.")
    change_meeting_status(db_session, chair, meeting, "close")
    db_session.commit()
    decision = get_decision(db_session, original.id)
    amendment = amend_decision(db_session, chair, decision, AmendmentData(
        outcome="approved_with_conditions", rationale="Cheaper, and safe.",
        conditions="Review in a quarter.", reason="The minutes missed the condition."))
    db_session.commit()
    assert (amendment.revision, amendment.amends_id) == (2, original.id)
    db_session.refresh(original)
    assert original.rationale == "Cheaper." and original.outcome == "approved"
    event = trail.events_for(db_session, item.subject)[-1]
    assert event.kind == "decision.amended"
    assert event.data["amends"] == original.id
    assert event.data["changes"]["outcome"] == {"before": "approved", "after": "approved_with_conditions"}
    # the superseded revision cannot be amended again
    with pytest.raises(Conflict, match="amended already"):
        amend_decision(db_session, chair, get_decision(db_session, original.id),
                       AmendmentData("approved", "x", reason="y"))


def test_amendment_cannot_move_the_item_or_change_nothing(db_session, chair, filer, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decided = decide(chair, meeting, item, "approved", rationale="Fine.")
    before = counts(db_session)
    decision = get_decision(db_session, decided.id)
    with pytest.raises(ValidationError, match="cannot turn"):
        amend_decision(db_session, chair, decision, AmendmentData("deferred", "Fine.", reason="oops"))
    with pytest.raises(ValidationError, match="changes nothing"):
        amend_decision(db_session, chair, decision, AmendmentData("approved", "Fine.", reason="oops"))
    with pytest.raises(ValidationError, match="why"):
        amend_decision(db_session, chair, decision, AmendmentData("approved", "Better.", reason=" "))
    db_session.rollback()
    assert counts(db_session) == before


# ------------------------------------------------------------------------------------ actions
def test_completing_the_last_action_closes_a_conditional_approval(
        db_session, chair, filer, owner, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved_with_conditions",
                      actions=[("Drift report", owner, in_days(10)), ("Sign DPA", owner, in_days(20))])
    first, second = decision.actions
    complete_action(db_session, owner, get_action(db_session, first.id), "Report live.")
    db_session.commit()
    db_session.refresh(item)
    assert item.status == "decided"  # one action still open
    with pytest.raises(Conflict, match="still open"):
        close_item(db_session, chair, get_decision(db_session, decision.id))
    db_session.rollback()
    complete_action(db_session, owner, get_action(db_session, second.id), "Signed by legal.")
    db_session.commit()
    db_session.refresh(item)
    assert item.status == "closed"
    last = trail.events_for(db_session, item.subject)[-2:]
    assert [e.kind for e in last] == ["action.completed", "item.status_changed"]
    assert (last[1].actor, last[1].data["action"]) == ("system", "conclude")


def test_an_executive_completing_the_last_action_closes_in_their_name(
        db_session, chair, filer, owner, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved_with_conditions",
                      actions=[("Drift report", owner, in_days(10))])
    complete_action(db_session, chair, get_action(db_session, decision.actions[0].id), "Seen it.")
    db_session.commit()
    event = trail.events_for(db_session, item.subject)[-1]
    assert (event.actor, event.data["action"], event.data["to"]) == (chair.email, "close", "closed")


def test_action_completion_rules(db_session, chair, filer, owner, make_user, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved_with_conditions",
                      actions=[("Drift report", owner, in_days(10))])
    action = get_action(db_session, decision.actions[0].id)
    before = counts(db_session)
    with pytest.raises(PermissionDenied, match="owner or an executive"):
        complete_action(db_session, filer, action, "not mine")
    with pytest.raises(ValidationError, match="how the action was done"):
        complete_action(db_session, owner, action, "  ")
    db_session.rollback()
    assert counts(db_session) == before
    complete_action(db_session, owner, get_action(db_session, action.id), "Done.")
    db_session.commit()
    with pytest.raises(Conflict, match="already done"):
        complete_action(db_session, owner, get_action(db_session, action.id), "Again.")


def test_a_decision_without_actions_is_closed_by_an_executive(db_session, chair, cfo, filer, make_item, make_meeting, decide):
    item = make_item(cfo, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "rejected")
    with pytest.raises(PermissionDenied, match="recused"):
        close_item(db_session, cfo, get_decision(db_session, decision.id))
    with pytest.raises(PermissionDenied):
        close_item(db_session, filer, get_decision(db_session, decision.id))
    close_item(db_session, chair, get_decision(db_session, decision.id))
    db_session.commit()
    db_session.refresh(item)
    assert item.status == "closed"


def test_open_actions_for_owners_and_overdue_for_executives(
        db_session, chair, filer, owner, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    start = clock.now()
    with clock.override(lambda: start - timedelta(days=30)):
        meeting = make_meeting(chair, status="in_session", items=[item])
        decide(chair, meeting, item, "approved_with_conditions",
               actions=[("Late", owner, in_days(5)), ("Fine", owner, in_days(60)), ("Chair's", chair, in_days(40))])
    today = clock.now().date()
    mine = queries.open_actions(db_session, owner=owner)
    assert [a.text for a in mine.items] == ["Late", "Fine"]
    overdue = queries.open_actions(db_session, overdue_on=today)
    assert [a.text for a in overdue.items] == ["Late"]
    assert overdue.items[0].overdue(today)
    assert queries.open_actions(db_session).total == 3


# ------------------------------------------------------------------------------------- expiry
def test_lapsed_approvals_return_to_the_queue_with_the_reason(
        db_session, chair, filer, make_item, make_meeting, decide):
    lapsing = make_item(filer, status="escalated", title="Lapsing")
    lasting = make_item(filer, status="escalated", title="Lasting")
    meeting = make_meeting(chair, status="in_session", items=[lapsing, lasting])
    decide(chair, meeting, lapsing, "approved_with_conditions", expires_on=in_days(10))
    decide(chair, meeting, lasting, "approved_with_conditions", expires_on=in_days(100))
    assert expire_approvals(db_session, clock.now() + timedelta(days=10)) == []
    returned = expire_approvals(db_session, clock.now() + timedelta(days=11))
    db_session.commit()
    assert [i.title for i in returned] == ["Lapsing"]
    db_session.refresh(lapsing)
    assert lapsing.status == "escalated"
    event = trail.events_for(db_session, lapsing.subject)[-1]
    assert (event.actor, event.data["action"], event.data["note"]) == ("system", "revalidate", "approval expired")
    # running again changes nothing (the item is no longer decided)
    assert expire_approvals(db_session, clock.now() + timedelta(days=11)) == []
    # and the returned item is proposed again, linked to the approval that lapsed
    queue = queries.queue_page(db_session).items
    assert queue[0].item.id == lapsing.id and queue[0].carried_from is not None
    assert not queue[0].carry_forward  # the approval settled it: it waits as a new escalation


def test_expiry_follows_amendments(db_session, chair, filer, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved_with_conditions", expires_on=in_days(10))
    amend_decision(db_session, chair, get_decision(db_session, decision.id), AmendmentData(
        "approved_with_conditions", decision.rationale, decision.conditions, in_days(60), reason="Extended."))
    db_session.commit()
    assert expire_approvals(db_session, clock.now() + timedelta(days=20)) == []
    assert len(expire_approvals(db_session, clock.now() + timedelta(days=61))) == 1


def test_system_close_is_one_row_added_to_the_transition_table():
    spec = TRANSITIONS["conclude"]
    assert (spec.moves, spec.by) == ({"decided": "closed"}, "system")
    assert TRANSITIONS["close"].by == "executive"


def test_unknown_ids_are_not_found(db_session):
    for fn, args in ((get_meeting, (1,)), (get_entry, (1, 1)),
                     (get_decision, (1,)), (get_action, (1,))):
        with pytest.raises(NotFound):
            fn(db_session, *args)


def test_every_agenda_event_is_on_a_verifiable_chain(db_session, chair, filer, owner, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved_with_conditions", actions=[("x", owner, in_days(3))])
    complete_action(db_session, owner, get_action(db_session, decision.actions[0].id), "ok")
    db_session.commit()
    assert trail.verify_database(db_session).ok
    assert db_session.scalar(select(Event).where(Event.kind == "action.completed")) is not None


def test_the_register_counts_and_orders_decisions_as_they_stand(
        db_session, chair, filer, make_item, make_meeting, decide):
    """Each decision once, in its current revision (the unfiltered count is the first revisions'),
    latest meeting first and by agenda position within a meeting."""
    first = [make_item(filer, status="escalated", title=f"Earlier {n}") for n in range(2)]
    earlier = make_meeting(chair, status="in_session", items=first, starts_in=timedelta(days=1))
    for item in first:
        decide(chair, earlier, item, "approved", rationale="Fine.")
    amended = decide(chair, make_meeting(chair, status="in_session", items=[
        later := make_item(filer, status="escalated", title="Later")], starts_in=timedelta(days=3)),
        later, "approved", rationale="Fine.")
    amend_decision(db_session, chair, get_decision(db_session, amended.id), AmendmentData(
        "approved_with_conditions", "Fine, with a condition.", "Review it.", reason="Missed the condition."))
    db_session.commit()

    page, _columns = queries.decision_register(db_session, queries.RegisterFilters())
    assert page.total == 3
    assert [(d.entry.item.title, d.revision) for d in page.items] == [
        ("Later", 2), ("Earlier 0", 1), ("Earlier 1", 1)]
    conditioned, _columns = queries.decision_register(db_session, queries.RegisterFilters(
        outcome="approved_with_conditions"))
    assert conditioned.total == 1 and [d.entry.item.title for d in conditioned.items] == ["Later"]
    approved, _columns = queries.decision_register(db_session, queries.RegisterFilters(outcome="approved"))
    assert approved.total == 2  # the amended decision's first revision no longer stands
    second, _columns = queries.decision_register(db_session, queries.RegisterFilters(), page=2, per_page=2)
    assert (second.total, second.page, [d.entry.item.title for d in second.items]) == (3, 2, ["Earlier 1"])


def test_the_register_s_page_walks_the_meetings_newest_first_on_sqlite(
        db_session, chair, filer, make_item, make_meeting, decide):
    """The join hints in decision_register: SQLite starts at the meetings' date index and stops
    after a page, instead of reading and sorting every decision (38,000 at scale)."""
    if db_session.bind.dialect.name != "sqlite":
        pytest.skip("the hint is for SQLite's planner; PostgreSQL walks the meetings without it")
    from sqlalchemy import event

    item = make_item(filer, status="escalated")
    decide(chair, make_meeting(chair, status="in_session", items=[item]), item, "approved", rationale="Fine.")
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT decisions.id") and "ORDER BY meetings.starts_at DESC" in statement:
            seen.append((statement, parameters))

    connection = db_session.connection()
    event.listen(connection.engine, "before_cursor_execute", capture)
    try:
        queries.decision_register(db_session, queries.RegisterFilters())
    finally:
        event.remove(connection.engine, "before_cursor_execute", capture)
    (statement, parameters), = seen
    plan = [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    assert plan[0].startswith("SCAN meetings USING COVERING INDEX ix_meetings_starts_at"), plan


def test_the_meeting_list_counts_each_listed_meeting_s_own_entries(db_session, chair, filer, make_item, make_meeting):
    """Each meeting on the list with the number of its entries and their planned minutes (none
    for a meeting without entries), counted for that meeting alone: on SQLite through the
    entries' meeting index, not a scan of every entry of every meeting."""
    from sqlalchemy import event

    first, second = (make_item(filer, status="escalated") for _ in range(2))
    full = make_meeting(chair, items=[first, second], time_box=20)
    one = make_meeting(chair, status="published", items=[make_item(filer, status="escalated")], time_box=5)
    empty = make_meeting(chair)
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT meetings.id"):
            seen.append((statement, parameters))

    connection = db_session.connection()
    event.listen(connection.engine, "before_cursor_execute", capture)
    try:
        upcoming, closed = queries.list_meetings(db_session)
    finally:
        event.remove(connection.engine, "before_cursor_execute", capture)
    assert {row.meeting.id: (row.entries, row.minutes) for row in upcoming.items} == {
        full.id: (2, 40), one.id: (1, 5), empty.id: (0, 0)}
    assert closed.total == 0 and closed.items == []
    if db_session.bind.dialect.name == "sqlite":
        for statement, parameters in seen:
            plan = [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            assert not any(step.startswith("SCAN agenda_entries") for step in plan), plan
            assert any("agenda_entries USING" in step and "meeting_id" in step for step in plan), plan
