"""Helpers of the accounts tests: counting rows and events, the last event, a moved clock."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from sqlalchemy import func, select

from forum.core import clock
from forum.trail.models import Event


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def last_event(session) -> Event:
    session.expire_all()
    return session.scalars(select(Event).order_by(Event.seq.desc())).first()


@contextlib.contextmanager
def clock_moved(delta: timedelta):
    """Run a block as if ``delta`` had passed."""
    start = clock.now()
    with clock.override(lambda: start + delta):
        yield
