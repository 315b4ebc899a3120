"""The demo shows account administration: a deactivated colleague, a function change, an account
awaiting its password, last logins; all through the services, so the trail verifies."""

from __future__ import annotations

from sqlalchemy import select

from forum.auth import service as accounts
from forum.core import clock
from forum.trail import service as trail
from forum.trail.models import Event
from forum_seed import demo as seed


def test_the_demo_has_account_administration_in_its_trail(db_session):
    seed.load_demo(db_session)
    db_session.commit()

    jonas = accounts.get_user_by_email(db_session, "jonas.berg@example.com")
    nadia = accounts.get_user_by_email(db_session, "nadia.haddad@example.com")
    kwame = accounts.get_user_by_email(db_session, "kwame.mensah@example.com")
    admin = accounts.get_user_by_email(db_session, "admin@example.com")
    assert not jonas.active
    assert nadia.active and not nadia.has_password
    assert kwame.function_key == "procurement"
    assert admin.last_login_at is not None and admin.last_login_at < clock.now()
    kinds = db_session.scalars(select(Event.kind).where(Event.actor == admin.email).order_by(Event.seq)).all()
    assert kinds == ["user.created", "user.deactivated", "user.updated", "user.created"]
    assert trail.verify_database(db_session).ok

