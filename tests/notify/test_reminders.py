"""`forum reminders run`: due-soon and overdue actions, positions missing three days before a
meeting; a second run sends nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forum.agenda.actions import complete_action, get_action
from forum.agenda.entries import add_entry
from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting
from forum.cli import main
from forum.core import clock
from forum.notify import reminders
from forum.notify.models import Notification, ReminderSent
from forum.weighing import positions


def _count(db_session, model=Notification, **where):
    db_session.expire_all()
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db_session.scalar(query)


def test_due_soon_then_overdue_each_once(db_session, people, make_item, decide, inbox_of):
    item = make_item(people["procurement"], status="escalated", title="Bot")
    decide(people["exec"], item, people["risk"], due_in=timedelta(days=2))
    now = clock.now()

    far = reminders.run(db_session, now - timedelta(days=5))  # due in 7 days then: nothing
    assert far.total == 0
    first = reminders.run(db_session, now)
    db_session.commit()
    assert (first.due_soon, first.overdue) == (1, 0)
    assert inbox_of(people["risk"])[-1] == ("action_due", "Due in 2 days: your action on “Bot”")
    again = reminders.run(db_session, now + timedelta(hours=6))
    db_session.commit()
    assert again.total == 0

    late = reminders.run(db_session, now + timedelta(days=4))
    db_session.commit()
    assert (late.due_soon, late.overdue) == (0, 1)
    assert inbox_of(people["risk"])[-1] == ("action_due", "Overdue: your action on “Bot”")
    assert reminders.run(db_session, now + timedelta(days=5)).total == 0
    assert _count(db_session, ReminderSent, user_id=people["risk"].id) == 2


def test_done_actions_are_not_reminded(db_session, people, make_item, decide):
    item = make_item(people["procurement"], status="escalated")
    decision = decide(people["exec"], item, people["risk"], due_in=timedelta(days=1))
    action = get_action(db_session, decision.actions[0].id)
    complete_action(db_session, people["risk"], action, "Done.")
    db_session.commit()
    assert reminders.run(db_session, clock.now() + timedelta(days=3)).total == 0


def test_positions_missing_three_days_before_a_meeting(db_session, people, make_item, inbox_of):
    item = make_item(people["procurement"], status="escalated", title="Model swap")
    positions.take_position(db_session, people["risk"], item, positions.PositionData("support", "Fine."))
    meeting = create_meeting(db_session, people["exec"], MeetingData(
        "November forum", clock.now() + timedelta(days=5), 60))
    add_entry(db_session, people["exec"], meeting, item.id, 15)
    change_meeting_status(db_session, people["exec"], meeting, "publish")
    db_session.commit()

    assert reminders.run(db_session, clock.now()).positions_missing == 0  # 5 days ahead: too early
    report = reminders.run(db_session, clock.now() + timedelta(days=2, hours=1))
    db_session.commit()
    # procurement and product have no position; risk has one
    assert report.positions_missing == 2
    expected = ("positions_missing", "Position still missing on “Model swap” before “November forum”")
    assert expected in inbox_of(people["procurement"]) and expected in inbox_of(people["product"])
    assert expected not in inbox_of(people["risk"]) and expected not in inbox_of(people["risk2"])
    assert reminders.run(db_session, clock.now() + timedelta(days=2, hours=5)).total == 0


def test_forum_reminders_run_twice_sends_nothing_twice(app, db_session, people, make_item, decide):
    item = make_item(people["procurement"], status="escalated", title="Twice")
    decide(people["exec"], item, people["risk"], due_in=timedelta(days=1))
    info = ScriptInfo(create_app=lambda: app)
    first = CliRunner().invoke(main, ["reminders", "run"], obj=info, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "1 reminder sent: 1 due soon, 0 overdue" in first.output
    before = _count(db_session)
    second = CliRunner().invoke(main, ["reminders", "run"], obj=info, catch_exceptions=False)
    assert "0 reminders sent" in second.output
    assert _count(db_session) == before


def test_the_database_refuses_a_duplicate_reminder(db_session, people, make_item, decide):
    item = make_item(people["procurement"], status="escalated")
    decide(people["exec"], item, people["risk"], due_in=timedelta(days=1))
    reminders.run(db_session, clock.now())
    db_session.commit()
    sent = db_session.scalars(select(ReminderSent)).first()
    db_session.add(ReminderSent(user_id=sent.user_id, key=sent.key, notification_id=sent.notification_id,
                                sent_at=clock.now()))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()
