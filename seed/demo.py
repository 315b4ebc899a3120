"""The demo data set: seed/demo.json loaded through the forum's own services.

Nothing here writes rows or events directly: functions, users and items are created, edited and
moved through the lifecycle by the same service functions the pages use, so the demo trail is a
real, verifiable chain. The clock is overridden so that the history looks lived-in: items are filed
over the last months and each step of an item's history happens hours or days after the previous
one. All steps of all items are replayed in time order, so trail events are in the order of their
times and every time lies in the past.

The schema of seed/demo.json is described in seed/README.md.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.auth import service as accounts
from forum.auth.models import User
from forum.core import clock
from forum.core.errors import DomainError
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.trail.models import Event
from forum.weighing import queue, rules
from forum_seed import DATA, demo_evidence, demo_systems
from forum_seed import demo_agenda as agenda_demo
from forum_seed import demo_audit as audit_demo
from forum_seed import demo_proximity as proximity_demo
from forum_seed import demo_weighing as forum_demo
from forum_seed.demo_api import load_demo_tokens

DEMO_PASSWORD = "forum-demo"
DEMO_PATH = DATA / "demo.json"
ACCOUNTS_PATH = DATA / "accounts.json"

#: The logins printed by `forum demo` (all use DEMO_PASSWORD).
DEMO_LOGINS: list[tuple[str, str]] = [
    ("procurement@example.com", "staff, procurement"),
    ("product@example.com", "staff, product"),
    ("risk@example.com", "staff, risk & compliance"),
    ("exec@example.com", "executive"),
    ("auditor@example.com", "auditor"),
    ("admin@example.com", "admin"),
]

_ITEM_FIELDS = {f.name for f in fields(items.ItemData)}
# Steps of the history replay never land closer to the real "now" than this.
_END_MARGIN = timedelta(minutes=15)  # room for the closing steps on the tail clock


class SeedError(ValueError):
    """The demo file is malformed, or a service refused one of its steps."""


@dataclass
class _Step:
    at: datetime
    order: int  # tie-break: file order
    label: str
    run: Callable[[], None]


def load_demo(session: Session, path: Path | None = None) -> str:
    """Load the demo data set into ``session`` (flushed, not committed); returns a summary.

    Functions and users that already exist (``forum seed --force``) are reused, not duplicated;
    items are always added. When the trail already has events, the replayed history is fitted
    between the last event and now, so event times keep following the chain order.
    """
    path = path or DEMO_PATH
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SeedError(f"Cannot read the demo data set {path}: {exc}") from exc
    for key in ("functions", "users", "items"):
        if not isinstance(spec.get(key), list):
            raise SeedError(f"{path.name}: {key!r} must be a list")

    now = clock.now()
    events_before = session.scalar(select(func.count()).select_from(Event)) or 0
    last_event_at = session.scalar(select(func.max(Event.at)))
    counts = {"functions": 0, "users": 0, "items": 0}
    users: dict[str, User] = {}
    steps: list[_Step] = []

    # Setup: the functions, then the accounts, a couple of minutes apart.
    setup_at = _days_before(now, spec.get("setup_days_ago", 190), hour=9)
    for entry in spec["functions"]:
        steps.append(_Step(setup_at, len(steps), f"function {entry.get('key')!r}",
                           _create_function(session, entry, counts)))
        setup_at += timedelta(minutes=2)
    for entry in spec["users"]:
        steps.append(_Step(setup_at, len(steps), f"user {entry.get('email')!r}",
                           _create_user(session, entry, users, counts)))
        setup_at += timedelta(minutes=3)

    setup_steps = len(steps)
    for number, entry in enumerate(spec["items"], start=1):
        steps.extend(_item_steps(session, number, entry, users, counts, len(steps), now))
    steps += [_Step(at, len(steps) + n, label, run) for n, (at, label, run) in enumerate(forum_demo.demo_steps(session, users))]
    if any(step.at <= setup_at for step in steps[setup_steps:]):
        raise SeedError(f"{path.name}: setup_days_ago must lie before the oldest item's days_ago")
    steps.extend(agenda_demo.steps(session, users, now, first_order=len(steps)))  # seed/agenda.json
    steps.extend(proximity_demo.steps(session, now, first_order=len(steps)))  # seed/proximity.json
    steps.extend(demo_evidence.steps(session, now, first_order=len(steps)))  # timed evidence uploads

    steps.sort(key=lambda s: (s.at, s.order))
    times = _fit(
        [s.at for s in steps],
        lower=None if last_event_at is None else last_event_at + timedelta(milliseconds=1),
        upper=now - _END_MARGIN,
    )
    current = [now]
    with clock.override(lambda: current[0]):
        for step, at in zip(steps, times, strict=True):
            current[0] = at
            try:
                step.run()
            except DomainError as exc:
                raise SeedError(f"{path.name}: {step.label}: {exc.reason}") from exc
    # The rest of the demo (evidence uploads, account changes, tokens, the audit's verification)
    # follows the history in order, on a clock that moves a second per reading from just after
    # the last event: every event stays in the past and the times follow the chain.
    session.flush()
    last_event_at = session.scalar(select(func.max(Event.at)))
    tail = _TailClock(max(now - _END_MARGIN, last_event_at or now - _END_MARGIN))
    with clock.override(tail):
        demo_evidence.load_demo_evidence(session)
        session.flush()
        proximity_demo.load_after_evidence(session)  # reviews and proposed edge cases
        load_accounts(session, now, ACCOUNTS_PATH if path == DEMO_PATH else None, tail)
        load_demo_tokens(session)
        audit_demo.load(session)  # seed/audit.json: an edit, a verification, a checkpoint
        demo_systems.load(session)  # seed/systems.json: the register of AI systems

    events = (session.scalar(select(func.count()).select_from(Event)) or 0) - events_before
    return (f"{counts['functions']} functions, {counts['users']} users, "
            f"{counts['items']} items, {events} events")


# ------------------------------------------------------------------------------------- steps
def _create_function(session: Session, entry: dict, counts: dict) -> Callable[[], None]:
    def run() -> None:
        if accounts.get_function(session, entry["key"]) is None:
            accounts.create_function(session, None, entry["key"], entry["label"])
            counts["functions"] += 1

    return run


def _create_user(session: Session, entry: dict, users: dict, counts: dict) -> Callable[[], None]:
    email = accounts.normalise_email(entry.get("email", ""))

    def run() -> None:
        user = accounts.get_user_by_email(session, email)
        if user is None:
            user = accounts.create_user(session, None, accounts.NewUser(
                email=email, display_name=entry.get("name", ""), role=entry.get("role", ""),
                password=DEMO_PASSWORD, function=entry.get("function"),
            ), enforce_policy=False)  # the published demo password is shorter than the policy
            counts["users"] += 1
        users[email] = user

    return run


def _item_steps(session: Session, number: int, entry: dict, users: dict, counts: dict,
                order: int, now: datetime) -> list[_Step]:
    """The steps of one item: filing, then its history, each after_hours after the previous."""
    where = f"item {number} ({entry.get('title', '')[:40]!r})"
    rng = random.Random(f"{number}:{entry.get('title', '')}")  # deterministic spacing
    filer_email = accounts.normalise_email(entry.get("filed_by", ""))
    values = {key: entry.get(key) for key in _ITEM_FIELDS if key in entry}
    missing = {"title", "category", "function"} - values.keys()
    if missing:
        raise SeedError(f"{where}: missing {', '.join(sorted(missing))}")
    for key in ("vendor", "model_name", "model_version", "summary"):
        values[key] = values.get(key) or ""
    values["needed_by"] = _date(values.get("needed_by"), where)
    if "days_ago" not in entry:
        raise SeedError(f"{where}: missing days_ago")

    state: dict[str, Any] = {}
    at = _days_before(now, entry["days_ago"], hour=rng.randint(8, 16), minute=rng.randint(0, 59))

    def file() -> None:
        state["item"] = items.create_item(session, _user(users, filer_email, where),
                                          items.ItemData(**values))
        counts["items"] += 1

    steps = [_Step(at, order, f"{where}: filing", file)]
    history = entry.get("history", [])
    if not isinstance(history, list):
        raise SeedError(f"{where}: history must be a list")
    for index, raw in enumerate(history, start=1):
        step = {"action": raw} if isinstance(raw, str) else raw
        if not isinstance(step, dict) or ("action" in step) == ("edit" in step):
            raise SeedError(f"{where}: history step {index} needs exactly one of action or edit")
        hours = step.get("after_hours")
        if hours is None:
            hours = rng.uniform(2, 72)
        if not isinstance(hours, int | float) or hours <= 0:
            raise SeedError(f"{where}: history step {index}: after_hours must be positive")
        at = at + timedelta(hours=hours, seconds=rng.randint(0, 900))
        actor_email = accounts.normalise_email(step.get("by") or filer_email)
        label = f"{where}: history step {index}"
        if "action" in step:
            run = _transition(session, state, users, actor_email, step["action"],
                              step.get("note", ""), label)
        else:
            run = _edit(session, state, users, actor_email, step["edit"], label)
        steps.append(_Step(at, order + len(steps), label, run))
    return steps


def _transition(session, state, users, email, action, note, label) -> Callable[[], None]:
    def run() -> None:
        item: DecisionItem = state["item"]
        if action == "escalate":  # with its Escalation record, as the escalate form does
            queue.escalate(session, _user(users, email, label), item, note, rules.ForumSettings(),
                           expected_version=item.version)
            return
        items.transition(session, _user(users, email, label), item, action,
                         expected_version=item.version, note=note)

    return run


def _edit(session, state, users, email, changes, label) -> Callable[[], None]:
    if not isinstance(changes, dict) or not changes:
        raise SeedError(f"{label}: edit must be a non-empty object of field changes")
    unknown = set(changes) - _ITEM_FIELDS
    if unknown:
        raise SeedError(f"{label}: unknown fields {', '.join(sorted(unknown))}")
    if "needed_by" in changes:
        changes = {**changes, "needed_by": _date(changes["needed_by"], label)}

    def run() -> None:
        item: DecisionItem = state["item"]
        current = items.current_values(item)
        data = items.ItemData(**(current | changes))
        items.update_item(session, _user(users, email, label), item, data,
                          expected_version=item.version)

    return run


# ----------------------------------------------------------------------------------- helpers
def _user(users: dict, email: str, where: str) -> User:
    user = users.get(email)
    if user is None:
        raise SeedError(f"{where}: no user {email!r} in the demo data set")
    return user


def _date(value, where: str) -> date | None:
    """An ISO date, or a whole number of days from the day of loading (so the demo's deadlines
    stay in the future however old the demo set gets)."""
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return clock.now().date() + timedelta(days=value)
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise SeedError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from exc


def _days_before(now: datetime, days, hour: int = 9, minute: int = 0) -> datetime:
    if not isinstance(days, int | float) or days < 0:
        raise SeedError(f"days_ago must be a non-negative number, not {days!r}")
    day = (now - timedelta(days=days)).astimezone(UTC)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _fit(times: list[datetime], lower: datetime | None, upper: datetime) -> list[datetime]:
    """The sorted ``times`` moved into [lower, upper] keeping their order: shifted back when the
    last one is later than ``upper``, squeezed when the first one is earlier than ``lower``."""
    if not times:
        return []
    shift = max(timedelta(0), times[-1] - upper)
    times = [t - shift for t in times]
    if lower is None or times[0] >= lower:
        return times
    upper = max(upper, lower)
    span = times[-1] - times[0]
    if span <= timedelta(0):
        return [lower for _ in times]
    scale = (upper - lower) / span
    return [lower + (t - times[0]) * scale for t in times]


# ---------------------------------------------------------------------------------- accounts
class _TailClock:
    """A clock for the demo's closing steps: one second later at every reading."""

    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current

    def skip(self, delta: timedelta) -> None:
        self.current += delta


def load_accounts(session: Session, now: datetime, path: Path | None, tail: _TailClock) -> None:
    """The account administration of the demo (seed/accounts.json): a few changes by the admin,
    40 seconds apart on the demo's closing clock, and each account's last login. Changes that
    are already in place (``forum seed --force``) are skipped."""
    if path is None:
        return
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        admin = accounts.get_user_by_email(session, spec["by"])
        changes, logins = spec["changes"], spec["last_login_hours_ago"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SeedError(f"Cannot read the accounts data set {path}: {exc}") from exc
    for change in changes:
        try:
            _account_change(session, admin, change)
        except DomainError as exc:
            raise SeedError(f"{path.name}: {change}: {exc.reason}") from exc
        tail.skip(timedelta(seconds=40))
    for email, hours in logins.items():
        user = accounts.get_user_by_email(session, email)
        if user is None:
            raise SeedError(f"{path.name}: no user {email!r} for last_login_hours_ago")
        with clock.override(lambda: now - timedelta(hours=hours)):
            accounts.note_login(session, user)


def _account_change(session: Session, admin: User | None, change: dict) -> None:
    if "create" in change:
        entry = change["create"]
        if accounts.get_user_by_email(session, entry["email"]) is None:
            accounts.create_user(session, admin, accounts.NewUser(
                email=entry["email"], display_name=entry["name"], role=entry["role"],
                password=DEMO_PASSWORD, function=entry.get("function"),
            ), enforce_policy=False)  # the published demo password is shorter than the policy
    elif "deactivate" in change:
        user = accounts.get_user_by_email(session, change["deactivate"])
        if user is not None and user.active:
            accounts.deactivate_user(session, admin, user.email)
    elif "access" in change:
        user = accounts.get_user_by_email(session, change["access"])
        if user is None:
            raise SeedError(f"no user {change['access']!r}")
        accounts.update_access(session, admin, user, change["role"], change.get("function"))
    elif "invite" in change:
        entry = change["invite"]
        if accounts.get_user_by_email(session, entry["email"]) is None:
            # The link's token is not kept: in the demo the admin issues a new one to try it.
            accounts.invite_user(session, admin, accounts.NewUser(
                email=entry["email"], display_name=entry["name"], role=entry["role"],
                function=entry.get("function")), timedelta(hours=72))
    else:
        raise SeedError(f"unknown account change {change!r}")
