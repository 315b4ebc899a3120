"""Account rules beyond creation: the password policy, role and function changes, the last-admin
guard, reactivation, functions, settings, and one-time set-password links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from forum.auth import passwords, sessions
from forum.auth import service as accounts
from forum.auth.models import OrgFunction, SetPasswordLink, User
from forum.auth.service import LinkGone, LoginRefused, NewUser
from forum.core.errors import Conflict, NotFound, ValidationError
from forum.trail.models import Event
from forum_seed import demo as seed
from tests.auth.helpers import clock_moved, count, last_event
from tests.conftest import PASSWORD

TTL = timedelta(hours=72)
NEW_PASSWORD = "purple otter rides a tram"


# ------------------------------------------------------------------------------ password policy
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "at least 12 characters (it has 0)"),
        ("elevenchars", "at least 12 characters (it has 11)"),
        ("qwerty123456", "commonly used passwords"),
        ("QWERTY123456", "commonly used passwords"),  # the list is checked case-insensitively
        ("1q2w3e4r5t6y", "commonly used passwords"),
        ("x" * 1025, "at most 1024 characters"),
    ],
)
def test_the_policy_refuses_short_common_and_huge_passwords(password, message):
    with pytest.raises(ValidationError, match=re.escape(message)) as refused:
        passwords.check(password)
    assert refused.value.field == "password"


@pytest.mark.parametrize("password", ["purple otter rides a tram", "twelve chars", "ALLCAPSNOSYMBOLS"])
def test_the_policy_has_no_composition_rules(password):
    passwords.check(password)  # no digit, symbol or mixed case needed


def test_the_deny_list_is_the_shipped_data_file():
    common = passwords.common_passwords()
    assert len(common) > 19_000
    assert {"password", "123456", "qwerty123456"} <= common
    assert all(entry == entry.lower() for entry in common)


def test_create_user_enforces_the_policy_unless_the_demo_seed_says_otherwise(db_session, functions):
    data = NewUser(email="ada@example.com", display_name="Ada", role="auditor",
                   password=seed.DEMO_PASSWORD)
    with pytest.raises(ValidationError, match="at least 12 characters"):
        accounts.create_user(db_session, None, data)
    assert count(db_session, User) == 0

    user = accounts.create_user(db_session, None, data, enforce_policy=False)
    assert check_password_hash(user.password_hash, seed.DEMO_PASSWORD)


# ----------------------------------------------------------------------------- role and function
def test_update_access_changes_role_and_function_with_one_event(db_session, admin, make_user):
    user = make_user("staff", function="procurement")

    changes = accounts.update_access(db_session, admin, user, "executive", "risk")
    db_session.commit()

    assert changes == {"role": {"before": "staff", "after": "executive"},
                       "function": {"before": "procurement", "after": "risk"}}
    assert (user.role, user.function_key, user.function_label) == ("executive", "risk", "Risk")
    event = last_event(db_session)
    assert (event.kind, event.subject, event.actor) == ("user.updated", f"user:{user.id}", admin.email)
    assert event.data == {"email": user.email, "changes": changes}


def test_update_access_without_a_change_writes_nothing(db_session, admin, make_user):
    user = make_user("staff", function="procurement")
    before = count(db_session, Event)
    assert accounts.update_access(db_session, admin, user, "staff", "procurement") == {}
    assert count(db_session, Event) == before


@pytest.mark.parametrize(
    ("role", "function", "field", "message"),
    [
        ("overlord", "risk", "role", "Unknown role 'overlord'"),
        ("staff", "astrology", "function", "Unknown function 'astrology'"),
        ("staff", None, "function", "Staff members belong to a function"),
    ],
)
def test_update_access_refuses_unknown_roles_and_functions(db_session, admin, make_user, role,
                                                           function, field, message):
    user = make_user("staff", function="procurement")
    before = count(db_session, Event)

    with pytest.raises(ValidationError, match=message) as refused:
        accounts.update_access(db_session, admin, user, role, function)

    assert refused.value.field == field
    db_session.rollback()
    assert (db_session.get(User, user.id).role, count(db_session, Event)) == ("staff", before)


def test_the_last_active_admin_cannot_be_demoted(db_session, make_user):
    only = make_user("admin", function=None)
    other = make_user("admin", function=None, active=False)  # a deactivated admin does not count
    before = count(db_session, Event)

    with pytest.raises(Conflict, match="last active administrator") as refused:
        accounts.update_access(db_session, None, only, "auditor", None)

    assert refused.value.field == "role"
    db_session.rollback()
    assert db_session.get(User, only.id).role == "admin"
    assert count(db_session, Event) == before
    # with a second active admin the demotion goes through
    accounts.reactivate_user(db_session, None, other.email)
    accounts.update_access(db_session, None, only, "auditor", None)
    assert only.role == "auditor"


def test_an_admin_cannot_change_their_own_role(db_session, admin, make_user):
    make_user("admin", function=None)
    with pytest.raises(ValidationError, match="your own role"):
        accounts.update_access(db_session, admin, admin, "staff", "risk")


def test_an_admin_cannot_deactivate_themselves(db_session, admin, make_user):
    make_user("admin", function=None)
    with pytest.raises(ValidationError, match="your own account"):
        accounts.deactivate_user(db_session, admin, admin.email)


def test_reactivate_writes_a_reactivated_event(db_session, admin, make_user):
    user = make_user(active=False)

    accounts.reactivate_user(db_session, admin, user.email)
    db_session.commit()

    assert db_session.get(User, user.id).active
    event = last_event(db_session)
    assert (event.kind, event.actor) == ("user.reactivated", admin.email)
    assert event.data == {"email": user.email, "active": {"before": False, "after": True}}
    with pytest.raises(Conflict, match="already active"):
        accounts.reactivate_user(db_session, admin, user.email)


def test_reactivating_an_unknown_account_is_not_found(db_session, admin):
    with pytest.raises(NotFound):
        accounts.reactivate_user(db_session, admin, "nobody@example.com")


# ------------------------------------------------------------------------------------ functions
def test_rename_function_records_before_and_after(db_session, admin, functions):
    changes = accounts.rename_function(db_session, admin, "risk", "  Risk & Compliance ")
    db_session.commit()

    assert changes == {"label": {"before": "Risk", "after": "Risk & Compliance"}}
    event = last_event(db_session)
    assert (event.kind, event.subject) == ("function.updated", "function:risk")
    assert event.data == {"key": "risk", "changes": changes}


@pytest.mark.parametrize(("key", "label", "error"), [
    ("risk", "", ValidationError), ("risk", "x" * 81, ValidationError), ("legal", "Legal", NotFound),
])
def test_rename_function_refuses_bad_input(db_session, admin, functions, key, label, error):
    before = count(db_session, Event)
    with pytest.raises(error):
        accounts.rename_function(db_session, admin, key, label)
    assert count(db_session, Event) == before
    assert db_session.get(OrgFunction, "risk").label == "Risk"


# ------------------------------------------------------------------------------------- settings
def test_update_profile_and_notifications_record_their_changes(db_session, make_user):
    user = make_user(name="Old Name")

    accounts.update_profile(db_session, user, "  New Name ")
    assert last_event(db_session).data == {
        "email": user.email, "changes": {"display_name": {"before": "Old Name", "after": "New Name"}}}

    accounts.update_notifications(db_session, user, False, "daily")
    event = last_event(db_session)
    assert (event.kind, event.actor) == ("user.updated", user.email)
    assert event.data["changes"] == {"email_notifications": {"before": True, "after": False},
                                     "digest_frequency": {"before": "weekly", "after": "daily"}}
    before = count(db_session, Event)
    with pytest.raises(ValidationError, match="Unknown digest frequency"):
        accounts.update_notifications(db_session, user, True, "hourly")
    assert count(db_session, Event) == before


def test_change_password_needs_the_current_one_and_ends_every_login(db_session, make_user):
    user = make_user()
    sessions.start(db_session, user)
    before = count(db_session, Event)

    with pytest.raises(ValidationError, match="current password is wrong") as refused:
        accounts.change_password(db_session, user, "not my password", NEW_PASSWORD)
    assert refused.value.field == "current_password"
    with pytest.raises(ValidationError, match="commonly used") as refused:
        accounts.change_password(db_session, user, PASSWORD, "qwerty123456")
    assert refused.value.field == "new_password"
    assert count(db_session, Event) == before

    accounts.change_password(db_session, user, PASSWORD, NEW_PASSWORD)
    db_session.commit()

    assert sessions.open_logins(db_session, user) == []
    assert accounts.authenticate(db_session, user.email, NEW_PASSWORD).id == user.id
    event = last_event(db_session)
    assert (event.kind, event.actor) == ("user.password_set", user.email)
    assert event.data == {"email": user.email, "via": "settings"}
    assert NEW_PASSWORD not in event.data_json and "scrypt" not in event.data_json


# --------------------------------------------------------------------------- set-password links
def invite(db_session, admin, **changes) -> accounts.Invitation:
    values = {"email": "new@example.com", "display_name": "New Person", "role": "staff",
              "function": "product"}
    invitation = accounts.invite_user(db_session, admin, NewUser(**(values | changes)), TTL)
    db_session.commit()
    return invitation


def test_invite_creates_an_account_without_a_password_and_stores_only_the_token_hash(db_session, admin):
    invitation = invite(db_session, admin)

    user = invitation.user
    assert not user.has_password
    with pytest.raises(LoginRefused, match="Wrong e-mail address or password"):
        accounts.authenticate(db_session, user.email, "")
    link = db_session.scalars(select(SetPasswordLink)).one()
    assert invitation.token not in (link.token_hash, user.password_hash)
    assert len(invitation.token) >= 40 and len(link.token_hash) == 64
    assert link.expires_at == invitation.expires_at
    event = last_event(db_session)
    assert (event.kind, event.actor) == ("user.created", admin.email)
    assert event.data["role"] == "staff" and "set_password_link_expires_at" in event.data
    assert invitation.token not in event.data_json


def test_invite_refuses_a_duplicate_email_whatever_its_case(db_session, admin, make_user):
    make_user(email="taken@example.com")
    users, links, events = count(db_session, User), count(db_session, SetPasswordLink), count(db_session, Event)

    with pytest.raises(Conflict, match="already exists"):
        invite(db_session, admin, email="TAKEN@example.com")

    db_session.rollback()
    assert (count(db_session, User), count(db_session, SetPasswordLink), count(db_session, Event)) == (
        users, links, events)


def test_a_link_sets_the_password_once(db_session, admin):
    invitation = invite(db_session, admin)

    user = accounts.set_password_with_link(db_session, invitation.token, NEW_PASSWORD)
    db_session.commit()

    assert accounts.authenticate(db_session, user.email, NEW_PASSWORD).id == user.id
    event = last_event(db_session)
    assert (event.kind, event.actor, event.data) == (
        "user.password_set", user.email, {"email": user.email, "via": "set-password link"})
    with pytest.raises(LinkGone, match="already been used"):
        accounts.set_password_with_link(db_session, invitation.token, "another long password")


def test_a_link_refuses_a_weak_password_and_stays_usable(db_session, admin):
    invitation = invite(db_session, admin)
    before = count(db_session, Event)

    with pytest.raises(ValidationError, match="at least 12"):
        accounts.set_password_with_link(db_session, invitation.token, "short")

    db_session.rollback()
    assert count(db_session, Event) == before
    assert accounts.find_set_password_link(db_session, invitation.token).used_at is None


def test_a_link_expires_after_its_time_to_live(db_session, admin):
    invitation = invite(db_session, admin)

    with clock_moved(TTL - timedelta(minutes=1)):
        assert accounts.find_set_password_link(db_session, invitation.token)
    with clock_moved(TTL), pytest.raises(LinkGone, match="expired on") as refused:
        accounts.set_password_with_link(db_session, invitation.token, NEW_PASSWORD)
    assert refused.value.status == 410
    assert not invitation.user.has_password


def test_an_unknown_token_is_not_found(db_session, admin):
    invite(db_session, admin)
    for token in ("nope", "x" * 500, ""):
        with pytest.raises(NotFound, match="not valid"):
            accounts.find_set_password_link(db_session, token)


def test_a_new_link_replaces_the_unused_one(db_session, admin):
    first = invite(db_session, admin)

    second = accounts.issue_set_password_link(db_session, admin, first.user, TTL)
    db_session.commit()

    with pytest.raises(NotFound):
        accounts.find_set_password_link(db_session, first.token)
    assert accounts.find_set_password_link(db_session, second.token).user_id == first.user.id
    event = last_event(db_session)
    assert (event.kind, event.data["email"]) == ("user.password_link_issued", first.user.email)
    assert second.token not in event.data_json


def test_no_link_for_a_deactivated_account(db_session, admin, make_user):
    user = make_user(active=False)
    with pytest.raises(Conflict, match="deactivated"):
        accounts.issue_set_password_link(db_session, admin, user, TTL)
