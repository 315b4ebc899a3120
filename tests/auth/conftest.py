"""Fixtures of the accounts tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def admin(make_user):
    """An administrator (not logged in: the service tests pass it as the actor)."""
    return make_user("admin", function=None, name="Ada Admin")
