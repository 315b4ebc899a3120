"""The administration pages: a logged-in admin, and a small user-list page size."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config(app_config):
    return {**app_config, "USERS_PER_PAGE": 5}


@pytest.fixture
def admin(make_user, login):
    user = make_user("admin", function=None, name="Ada Admin")
    login(user)
    return user


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """The admin tests create and log in many accounts; scrypt's deliberate slowness would
    dominate their run time. Here the hashes are cheap PBKDF2 ones (the real scrypt hashing is
    tested in tests/auth)."""
    from werkzeug.security import generate_password_hash

    from forum.auth import service

    monkeypatch.setattr(service, "hash_password",
                        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"))
