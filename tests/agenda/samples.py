"""Sample agenda ids for the route-by-route security tests (tests/security/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

from forum.agenda.decisions import ActionData, DecisionData, record_decision
from forum.agenda.entries import add_entry, get_entry
from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting
from forum.core import clock


def agenda_samples(session, cast, make_item) -> dict[str, int]:
    """A meeting in session whose one entry is decided (approved with conditions) with an open
    action owned by the risk user: a decided entry refuses removal and a second decision, so the
    ids stay valid whatever order the routes are tried in."""
    executive = cast["executive"]
    item = make_item(cast["product"], status="escalated", title="Sample escalated item")
    meeting = create_meeting(session, executive, MeetingData(
        "Sample meeting", clock.now() + timedelta(days=2), 60))
    entry = add_entry(session, executive, meeting, item.id, 15)
    for action in ("publish", "start"):
        change_meeting_status(session, executive, meeting, action)
    entry = get_entry(session, meeting.id, entry.id)
    decision = record_decision(session, executive, entry, DecisionData(
        "approved_with_conditions", "Sample rationale.", "Sample condition.",
        decider_ids=[executive.id],
        actions=[ActionData("Sample action", cast["risk"].id, clock.now().date() + timedelta(days=5))],
    ))
    session.commit()
    return {"meeting_id": meeting.id, "entry_id": entry.id, "decision_id": decision.id,
            "action_id": decision.actions[0].id}
