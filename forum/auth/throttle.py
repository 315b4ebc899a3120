"""Guessing passwords for one account, however many addresses it comes from, gets slower.

The per-address limit on failed log-ins (forum.auth.views) stops one machine; someone guessing
from many addresses passes it. So each account — each e-mail address as typed, whether or not an
account has it, so that the delay tells nobody which addresses have accounts — has its own delay
that grows with its consecutive failures: the first FREE_FAILURES cost nothing, then each further
attempt must wait 1, 2, 4, … seconds after the previous failure, at most MAX_DELAY. An attempt
made while the delay runs is refused (429 with Retry-After) without its password being checked,
and is not counted: the owner is never locked out, only slowed down while someone guesses.

An attempt is recorded *before* its password is checked, in a short transaction of its own under
the write lock, and deleted when it succeeds. So a burst of parallel attempts cannot all pass
while the failures of the others are still uncommitted: each sees the ones before it. A
successful log-in (users.last_login_at) starts the count again. Records older than KEEP_DAYS go.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from forum.auth.models import FailedLogin, User
from forum.core import clock, db

FREE_FAILURES = 5
MAX_DELAY = timedelta(minutes=5)
WINDOW = timedelta(hours=24)  # failures older than this no longer slow anyone down
KEEP_DAYS = 30
LISTED = 10


@dataclass(frozen=True)
class Reservation:
    """The outcome of asking to try a password: the attempt's record, or how long to wait."""

    attempt_id: int | None
    wait_seconds: int = 0


def delay_after(failures: int) -> timedelta:
    """How long an account must wait after its latest failure, having ``failures`` in a row."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - FREE_FAILURES, 20)), MAX_DELAY)


def _since(session: Session, email: str, now: datetime) -> datetime:
    last_login = session.scalar(select(User.last_login_at).where(User.email == email))
    start = now - WINDOW
    return max(start, last_login) if last_login else start


def wait_seconds(session: Session, email: str, now: datetime | None = None) -> int:
    """Seconds the address must still wait before its next attempt (0: it may try now)."""
    now = now or clock.now()
    count, latest = session.execute(
        select(func.count(FailedLogin.id), func.max(FailedLogin.at))
        .where(FailedLogin.email == email, FailedLogin.at > _since(session, email, now))
    ).one()
    if not count:
        return 0
    remaining = (latest + delay_after(count) - now).total_seconds()
    return max(0, math.ceil(remaining))


def reserve(app: Flask, email: str, address: str, user_agent: str) -> Reservation:
    """Record an attempt on ``email`` before its password is checked (committed at once), or
    say how long to wait. Runs in its own transaction under the write lock."""
    now = clock.now()
    with db.session_scope(app) as session:
        db.lock_for_change(session)
        wait = wait_seconds(session, email, now)
        if wait:
            return Reservation(None, wait)
        session.execute(delete(FailedLogin).where(FailedLogin.email == email,
                                                  FailedLogin.at < now - timedelta(days=KEEP_DAYS)))
        attempt = FailedLogin(email=email[:254], at=now, address=(address or "")[:64],
                              user_agent=(user_agent or "")[:200])
        session.add(attempt)
        session.flush()
        return Reservation(attempt.id)


def succeeded(session: Session, reservation: Reservation) -> None:
    """The attempt's password was right: it was no failure."""
    if reservation.attempt_id is not None:
        session.execute(delete(FailedLogin).where(FailedLogin.id == reservation.attempt_id))


def recent_failures(session: Session, user: User, now: datetime | None = None) -> tuple[list[FailedLogin], int]:
    """The account's failed log-ins of the last KEEP_DAYS, newest first (at most LISTED), and
    how many there were."""
    since = (now or clock.now()) - timedelta(days=KEEP_DAYS)
    where = (FailedLogin.email == user.email, FailedLogin.at > since)
    rows = list(session.scalars(select(FailedLogin).where(*where).order_by(FailedLogin.at.desc()).limit(LISTED)))
    total = len(rows) if len(rows) < LISTED else session.scalar(select(func.count(FailedLogin.id)).where(*where))
    return rows, total
