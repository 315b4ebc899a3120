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
