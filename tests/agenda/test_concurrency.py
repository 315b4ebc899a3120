"""Two executives record a decision on the same entry at the same moment: a real race, two
threads with their own connections released together by a barrier, on SQLite and PostgreSQL
(``backend_url``). Exactly one decision is stored; the other recorder gets a Conflict, and the
trail has one decision event and still verifies."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from forum.agenda.decisions import ActionData, DecisionData, record_decision
from forum.agenda.entries import add_entry, get_entry
from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting
from forum.agenda.models import Action, Decision
from forum.app import create_app
from forum.auth import service as accounts
from forum.auth.models import User
from forum.core import clock, db
from forum.core.errors import Conflict
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.trail import service as trail
from forum.trail.models import Event
from tests.conftest import PASSWORD


def _setup(session) -> tuple[int, int, list[int], int]:
    accounts.create_function(session, None, "risk", "Risk")
    staff = accounts.create_user(session, None, accounts.NewUser(
        "filer@example.com", "Filer", "staff", PASSWORD, "risk"))
    execs = [accounts.create_user(session, None, accounts.NewUser(
        f"exec{n}@example.com", f"Exec {n}", "executive", PASSWORD, "risk")) for n in (1, 2)]
    item = items.create_item(session, staff, items.ItemData("Raced item", "vendor_selection", "risk"))
    items.transition(session, staff, item, "submit")
    items.transition(session, staff, item, "escalate")
    meeting = create_meeting(session, execs[0], MeetingData(
        "Race meeting", clock.now() + timedelta(days=1), 60))
    entry = add_entry(session, execs[0], meeting, item.id, 15)
    change_meeting_status(session, execs[0], meeting, "publish")
    change_meeting_status(session, execs[0], meeting, "start")
    session.commit()
    return meeting.id, entry.id, [e.id for e in execs], staff.id


def test_two_concurrent_recorders_store_exactly_one_decision(backend_url, tmp_path):
    app = create_app({"DATABASE_URL": backend_url, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                      "TESTING": True})
    factory = app.extensions["forum.sessionmaker"]
    try:
        with factory() as session:
            meeting_id, entry_id, exec_ids, staff_id = _setup(session)

        barrier = threading.Barrier(2, timeout=30)
        results: dict[int, str] = {}

        def recorder(exec_id: int, outcome: str) -> None:
            with factory() as session:
                actor = session.get(User, exec_id)
                entry = get_entry(session, meeting_id, entry_id)  # no decision yet: both pass
                data = DecisionData(outcome, f"{actor.display_name}'s rationale.", decider_ids=exec_ids,
                                    actions=[ActionData("Follow up", staff_id, clock.now().date() + timedelta(days=9))])
                barrier.wait()
                try:
                    record_decision(session, actor, entry, data)
                    session.commit()
                    results[exec_id] = "stored"
                except Conflict as error:
                    session.rollback()
                    results[exec_id] = f"conflict: {error.reason}"

        threads = [threading.Thread(target=recorder, args=(exec_ids[0], "approved")),
                   threading.Thread(target=recorder, args=(exec_ids[1], "rejected"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(t.is_alive() for t in threads)

        outcomes = sorted(results.values())
        assert len(outcomes) == 2
        assert outcomes[1] == "stored"
        assert outcomes[0].startswith("conflict: A decision on “Raced item” has just been recorded")

        with factory() as session:
            decisions = session.scalars(select(Decision)).all()
            assert len(decisions) == 1
            winner = decisions[0]
            assert results[winner.recorded_by_id] == "stored"
            assert session.scalar(select(func.count()).select_from(Action)) == 1
            kinds = session.scalars(select(Event.kind).where(Event.kind == "decision.recorded")).all()
            assert kinds == ["decision.recorded"]
            item = session.scalar(select(DecisionItem))
            assert item.status == "decided"
            assert trail.verify_database(session).ok
    finally:
        db.get_engine(app).dispose()
