"""Reminders sent by ``forum reminders run`` (meant for cron, e.g. hourly or daily).

- an open follow-up action due within FORUM_REMINDER_DUE_SOON_DAYS (2) days: "due soon", once;
- an open action past its due date: "overdue", once;
- an item on the agenda of a published meeting that starts within FORUM_REMINDER_POSITIONS_DAYS
  (3) days, and a required function that has not taken a position on it: each member of that
  function is reminded, once per meeting and item.
Each reminder is a notification (and an e-mail when configured) plus a ``reminders_sent`` row
whose unique (user, key) is what makes a second run send nothing twice. Reminders change no
decision record, so they write no trail event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from forum.agenda.models import Action, AgendaEntry, Decision, Meeting
from forum.auth.models import User
from forum.core import clock
from forum.items.models import DecisionItem
from forum.notify.models import ReminderSent
from forum.notify.service import Message, notify, setting
from forum.notify.triggers import function_members, required_functions
from forum.weighing.models import Position


@dataclass
class ReminderReport:
    due_soon: int = 0
    overdue: int = 0
    positions_missing: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.due_soon + self.overdue + self.positions_missing


def run(session: Session, now: datetime | None = None) -> ReminderReport:
    """Send every reminder that is due and was not sent before (the caller commits)."""
    now = now or clock.now()
    report = ReminderReport()
    wanted: list[tuple[User, str, Message, str]] = []  # (user, key, message, counter)
    wanted.extend(_action_reminders(session, now))
    wanted.extend(_position_reminders(session, now))
    if not wanted:
        return report
    keys = {(user.id, key) for user, key, _m, _c in wanted}
    sent = set(tuple(row) for row in session.execute(
        select(ReminderSent.user_id, ReminderSent.key)
        .where(tuple_(ReminderSent.user_id, ReminderSent.key).in_(list(keys)))
    ).all())
    for user, key, message, counter in wanted:
        if (user.id, key) in sent or not user.active:
            continue
        sent.add((user.id, key))
        written = notify(session, [user], message, actor=None)
        if not written:
            continue
        session.add(ReminderSent(user_id=user.id, key=key, notification_id=written[0].id, sent_at=now))
        setattr(report, counter, getattr(report, counter) + 1)
        report.lines.append(f"{user.email}: {message.title}")
    session.flush()
    return report


def _action_reminders(session: Session, now: datetime):
    today = now.date()
    horizon = today + timedelta(days=int(setting("REMINDER_DUE_SOON_DAYS", 2)))
    rows = session.execute(
        select(Action, User, DecisionItem)
        .join(User, Action.owner_id == User.id)
        .join(Decision, Action.decision_id == Decision.id)
        .join(AgendaEntry, Decision.entry_id == AgendaEntry.id)
        .join(DecisionItem, AgendaEntry.item_id == DecisionItem.id)
        .where(Action.done.is_(False), Action.due_on <= horizon, User.active.is_(True))
        .order_by(Action.due_on, Action.id)
    ).all()
    for action, owner, item in rows:
        if action.due_on < today:
            days = (today - action.due_on).days
            yield owner, f"action:{action.id}:overdue", Message(
                "action_due", item.subject, f"Overdue: your action on “{item.title}”", "/actions",
                f"“{action.text}” was due on {action.due_on.isoformat()} ({days} day"
                f"{'' if days == 1 else 's'} ago) and is not done yet. Mark it done with a note on "
                "the Actions page when it is.",
            ), "overdue"
        else:
            days = (action.due_on - today).days
            when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
            yield owner, f"action:{action.id}:due_soon", Message(
                "action_due", item.subject, f"Due {when}: your action on “{item.title}”", "/actions",
                f"“{action.text}” is due on {action.due_on.isoformat()}.",
            ), "due_soon"


def _position_reminders(session: Session, now: datetime):
    horizon = now + timedelta(days=int(setting("REMINDER_POSITIONS_DAYS", 3)))
    rows = session.execute(
        select(Meeting, DecisionItem)
        .join(AgendaEntry, AgendaEntry.meeting_id == Meeting.id)
        .join(DecisionItem, AgendaEntry.item_id == DecisionItem.id)
        .where(Meeting.status == "published", Meeting.starts_at > now, Meeting.starts_at <= horizon)
        .order_by(Meeting.starts_at, AgendaEntry.position)
    ).all()
    if not rows:
        return
    item_ids = {item.id for _m, item in rows}
    taken = set(tuple(row) for row in session.execute(
        select(Position.item_id, Position.function_key).where(Position.item_id.in_(item_ids))
    ).all())
    required = required_functions()
    members = function_members(session, required)
    for meeting, item in rows:
        when = meeting.starts_at.strftime("%d %b %Y, %H:%M UTC")
        for key in required:
            if (item.id, key) in taken:
                continue
            for user in (u for u in members if u.function_key == key):
                yield user, f"positions:meeting:{meeting.id}:item:{item.id}", Message(
                    "positions_missing", item.subject,
                    f"Position still missing on “{item.title}” before “{meeting.title}”",
                    f"/items/{item.id}",
                    f"“{item.title}” is on the agenda of “{meeting.title}” ({when}) and "
                    f"{user.function_label} has not taken a position on it yet.",
                ), "positions_missing"
