"""The permission table as pages and queries see it: the templates' ``can()`` and the SQL
condition ``User.holding()`` answer from forum.core.policy, never from role names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_login import login_user
from sqlalchemy import select

from forum.auth.models import User
from forum.core import policy
from forum.core.pages import can

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("role", policy.ROLES)
def test_can_in_templates_answers_from_the_table(app, make_user, role):
    user = make_user(role)
    with app.test_request_context("/"):
        user.login_key = "k" * 43  # login_user needs the key of a login (forum.auth.sessions)
        login_user(user)
        assert {a for a in policy.Action if can(a.value)} == {
            a for a in policy.Action if role in policy.POLICY[a]}


def test_can_is_false_for_nobody_and_for_a_deactivated_account(app, make_user):
    gone = make_user("executive", active=False)
    with app.test_request_context("/"):
        assert not any(can(a) for a in policy.Action)
        gone.login_key = "k" * 43
        login_user(gone, force=True)
        assert not any(can(a) for a in policy.Action)


def test_can_refuses_an_unknown_action_name(app):
    """A misspelt name in a template fails loudly instead of quietly hiding a control."""
    with app.test_request_context("/"), pytest.raises(ValueError):
        can("manage_agendas")


def test_holding_selects_the_roles_the_table_names(db_session, make_user):
    for role in policy.ROLES:
        make_user(role)
    for action in policy.Action:
        roles = set(db_session.scalars(select(User.role).where(User.holding(action))))
        assert roles == set(policy.POLICY[action]), action


def test_no_template_or_query_decides_by_role_name():
    """Who may do what is the policy's question: templates ask ``can()``, queries ask
    ``User.holding()``. (Showing a role's label, or the admin's own account rules, are not
    permission checks and stay.)"""
    template_checks = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "templates").rglob("*.html")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.role\s*(==|!=|in\b)", line)
    ]
    query_checks = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "forum").rglob("*.py")
        if path.parent.name != "auth"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"User\.role\s*(==|!=)|User\.role\.in_", line)
    ]
    assert template_checks == [] and query_checks == []
