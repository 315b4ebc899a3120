"""The agenda part of the demo data set: seed/agenda.json replayed through the agenda's services.

``steps`` returns timed steps that forum_seed.demo merges into its replay of the demo history, so
agenda events fall in time order among the items' events. Items are found by title and people by
e-mail when a step runs (the item and user steps before it have created them by then). Times are
days before (or after) the moment of loading; due and expiry dates are days after the step's own
(simulated) time, so the demo's overdue actions stay overdue and its approvals stay valid however
old the set is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.agenda import actions, decisions, entries, meetings
from forum.agenda.decisions import ActionData, DecisionData
from forum.agenda.meetings import MeetingData
from forum.agenda.models import Action, AgendaEntry, Meeting
from forum.auth.models import User
from forum.core import clock
from forum.items.models import DecisionItem
from forum_seed import DATA

AGENDA_PATH = DATA / "agenda.json"



@dataclass
class Step:
    """One timed step, shaped like forum_seed.demo's own steps (time, order for ties, label, action)."""

    at: datetime
    order: int
    label: str
    run: Callable[[], None]


class AgendaSeedError(ValueError):
    """seed/agenda.json is malformed or names an item or person the demo set does not have."""


def steps(session: Session, users: dict[str, User], now: datetime, first_order: int = 0,
          path: Path | None = None) -> list[Step]:
    """The agenda's steps; ``users`` is filled by the loader's user steps before these run."""
    path = path or AGENDA_PATH
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AgendaSeedError(f"Cannot read {path}: {exc}") from exc
    found: list[tuple[datetime, str, Callable[[], None]]] = []
    for number, meeting in enumerate(spec.get("meetings", []), start=1):
        found.extend(_MeetingSteps(session, users, now, meeting, f"{path.name} meeting {number}").build())
    return [Step(at, first_order + n, label, run) for n, (at, label, run) in enumerate(found)]


class _MeetingSteps:
    def __init__(self, session: Session, users: dict[str, User], now: datetime, spec: dict, where: str):
        self.session, self.users, self.now, self.spec, self.where = session, users, now, spec, where
        self.meeting: Meeting | None = None

    # lookups at run time ---------------------------------------------------------------
    def user(self, email: str) -> User:
        user = self.users.get(email)
        if user is None:
            raise AgendaSeedError(f"{self.where}: no user {email!r} in the demo data set")
        return user

    def item_id(self, title: str) -> int:
        item_id = self.session.scalar(
            select(DecisionItem.id).where(DecisionItem.title == title).order_by(DecisionItem.id.desc()).limit(1))
        if item_id is None:
            raise AgendaSeedError(f"{self.where}: no item titled {title!r}")
        return item_id

    def entry(self, title: str):
        entry_id = self.session.scalar(select(AgendaEntry.id).where(
            AgendaEntry.meeting_id == self.meeting.id, AgendaEntry.item_id == self.item_id(title)))
        if entry_id is None:
            raise AgendaSeedError(f"{self.where}: {title!r} is not on the agenda")
        return entries.get_entry(self.session, self.meeting.id, entry_id)

    def days_ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    # the steps -------------------------------------------------------------------------
    def build(self) -> list[tuple[datetime, str, Callable[[], None]]]:
        spec, by = self.spec, self.spec.get("by", "")
        try:
            created = self.days_ago(spec["created_days_ago"])
            starts = self.days_ago(spec["starts_days_ago"]) if "starts_days_ago" in spec \
                else self.now + timedelta(days=spec["starts_in_days"])
        except (KeyError, TypeError) as exc:
            raise AgendaSeedError(f"{self.where}: needs created_days_ago and starts_days_ago or "
                                  f"starts_in_days ({exc})") from exc
        # The loader may shift or squeeze step times: the start is kept at its distance from the
        # planning step's (simulated) time, not at an absolute time.
        out = [(created, f"{self.where}: planning", lambda: self.create(by, starts - created))]
        at = created
        for entry in spec.get("entries", []):
            at += timedelta(minutes=7)
            out.append((at, f"{self.where}: adding {entry.get('item', '')[:40]!r}",
                        lambda e=entry: self.add(by, e)))
        for move in spec.get("moves", []):
            at += timedelta(minutes=5)
            out.append((at, f"{self.where}: moving", lambda m=move: entries.move_entry(
                self.session, self.user(by), self.entry(m["item"]), m["to"])))
        if "published_days_ago" in spec:
            published = self.days_ago(spec["published_days_ago"])
            for conflict in spec.get("conflicts", []):
                out.append((published - timedelta(hours=2), f"{self.where}: conflict", lambda c=conflict:
                            entries.declare_conflict(self.session, self.user(c["by"]), self.entry(c["item"]),
                                                     c["reason"])))
            out.append((published, f"{self.where}: publishing", lambda: self.status(by, "publish")))
        if spec.get("decisions") or spec.get("close"):
            out.append((starts, f"{self.where}: starting", lambda: self.status(by, "start")))
            at = starts
            for decision in spec.get("decisions", []):
                at += timedelta(minutes=decision.get("minutes", 15))
                out.append((at, f"{self.where}: deciding {decision.get('item', '')[:40]!r}",
                            lambda d=decision: self.decide(d)))
            if spec.get("close"):
                out.append((starts + timedelta(minutes=spec.get("duration_minutes", 60)),
                            f"{self.where}: closing", lambda: self.status(by, "close")))
        for done in spec.get("completed_actions", []):
            out.append((self.days_ago(done["days_ago"]), f"{self.where}: completing an action",
                        lambda d=done: self.complete(d)))
        for closing in spec.get("closed_items", []):
            out.append((self.days_ago(closing["days_ago"]), f"{self.where}: closing an item",
                        lambda c=closing: self.close_item(c)))
        return out

    def create(self, by: str, starts_after: timedelta) -> None:
        self.meeting = meetings.create_meeting(self.session, self.user(by), MeetingData(
            self.spec.get("title", ""), clock.now() + starts_after, self.spec.get("duration_minutes", 60)))

    def add(self, by: str, entry: dict) -> None:
        presenter = self.user(entry["presenter"]).id if entry.get("presenter") else None
        entries.add_entry(self.session, self.user(by), self.meeting, self.item_id(entry["item"]),
                          entry.get("time_box", 15), presenter)

    def status(self, by: str, action: str) -> None:
        meetings.change_meeting_status(self.session, self.user(by), self.meeting, action)

    def decide(self, spec: dict) -> None:
        today = clock.now().date()
        expires = spec.get("expires_in_days")
        decisions.record_decision(self.session, self.user(spec["by"]), self.entry(spec["item"]), DecisionData(
            outcome=spec["outcome"], rationale=spec.get("rationale", ""),
            conditions=spec.get("conditions", ""),
            expires_on=today + timedelta(days=expires) if expires is not None else None,
            decider_ids=[self.user(email).id for email in spec.get("deciders", [])],
            actions=[ActionData(a["text"], self.user(a["owner"]).id, today + timedelta(days=a["due_in_days"]))
                     for a in spec.get("actions", [])],
        ))

    def close_item(self, spec: dict) -> None:
        # Load the decision with its entry (``Decision.entry`` is lazy="raise"): the entry's
        # decisions are only the same objects as the ones recorded earlier in this session for
        # as long as the garbage collector has not dropped those from the identity map.
        decision = decisions.get_decision(self.session, self.entry(spec["item"]).decision.id)
        decisions.close_item(self.session, self.user(spec["by"]), decision)

    def complete(self, spec: dict) -> None:
        decision = self.entry(spec["item"]).decisions[0]
        action_id = self.session.scalars(
            select(Action.id).where(Action.decision_id == decision.id).order_by(Action.id)).all()[spec["action"]]
        actions.complete_action(self.session, self.user(spec["by"]), actions.get_action(self.session, action_id),
                                spec["note"])
