"""Account rules: creating, authenticating and deactivating users."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from forum.auth import service as accounts
from forum.auth.models import User
from forum.auth.service import LoginRefused, NewUser
from forum.core.errors import Conflict, ValidationError
from forum.trail.models import Event
from tests.conftest import PASSWORD


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def new_user(**changes) -> NewUser:
    values = {"email": "ada@example.com", "display_name": "Ada", "role": "staff",
              "password": PASSWORD, "function": "procurement"}
    return NewUser(**(values | changes))


def test_create_user_stores_the_account_and_writes_one_event(db_session, functions):
    events_before = count(db_session, Event)

    user = accounts.create_user(db_session, None, new_user(email="  Ada@Example.COM "))
    db_session.commit()

    assert user.email == "ada@example.com"
    assert user.active
    assert user.function_key == "procurement"
    assert count(db_session, Event) == events_before + 1
    event = db_session.scalars(select(Event).order_by(Event.seq.desc())).first()
    assert (event.kind, event.subject, event.actor) == ("user.created", f"user:{user.id}", "system")
    assert event.data == {"email": "ada@example.com", "display_name": "Ada", "role": "staff",
                          "function": "procurement"}
    assert "password" not in event.data_json and PASSWORD not in event.data_json


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "two@@example.com"}, "email"),
        ({"display_name": "  "}, "display_name"),
        ({"role": "overlord"}, "role"),
        ({"role": "staff", "function": None}, "function"),
        ({"function": "marketing"}, "function"),
        ({"password": "short"}, "password"),
    ],
)
def test_create_user_refuses_invalid_input_and_writes_nothing(db_session, functions, changes, field):
    events_before, users_before = count(db_session, Event), count(db_session, User)

    with pytest.raises(ValidationError) as refused:
        accounts.create_user(db_session, None, new_user(**changes))

    assert refused.value.field == field
    assert count(db_session, Event) == events_before
    assert count(db_session, User) == users_before


@pytest.mark.parametrize("email, reason", [
    ("pat..lee@example.com", "two periods in a row"),
    ("pat.@example.com", "period immediately before the @-sign"),
    ("pat@example..com", "two periods in a row"),
    ("pat@exa_mple.com", "invalid characters"),
    ("pat,lee@example.com", "invalid characters before the @-sign"),
    ("<pat>@example.com", "anything after the email address"),
    ("pat@example.com.", "cannot end with a period"),
    ("pat@[192.0.2.1]", "bracketed IP address"),
    ("pat@example.com\u200b", "ZERO WIDTH SPACE"),
    ("a@b", "should have a period"),
])
def test_create_user_refuses_addresses_that_are_not_valid_for_mail_saying_why(db_session, functions,
                                                                             email, reason):
    """The e-mail rule is email-validator's: all but the last of these passed the old pattern
    (something@something.something) and were stored as accounts that mail could never reach."""
    users_before = count(db_session, User)

    with pytest.raises(ValidationError) as refused:
        accounts.create_user(db_session, None, new_user(email=email))

    assert refused.value.field == "email"
    assert refused.value.reason.startswith("Enter a valid e-mail address. ")
    assert reason in refused.value.reason
    assert count(db_session, User) == users_before


@pytest.mark.parametrize("email, stored", [
    ("Pat+Forum@Example.com", "pat+forum@example.com"),
    (" ada@BÜCHER.example ", "ada@bücher.example"),
    ("josé@example.com", "josé@example.com"),
    ("o'neil@sub.example.co.uk", "o'neil@sub.example.co.uk"),
])
def test_create_user_accepts_plus_and_international_addresses_stored_trimmed_and_lower_case(
        db_session, functions, email, stored):
    user = accounts.create_user(db_session, None, new_user(email=email))
    db_session.commit()

    assert user.email == stored
    assert accounts.get_user_by_email(db_session, email.upper()) == user


def test_create_user_refuses_a_duplicate_email_whatever_its_case(db_session, functions):
    accounts.create_user(db_session, None, new_user())
    db_session.commit()
    events_before, users_before = count(db_session, Event), count(db_session, User)

    with pytest.raises(Conflict) as refused:
        accounts.create_user(db_session, None, new_user(email="ADA@example.com", display_name="Other"))

    assert refused.value.field == "email"
    assert count(db_session, Event) == events_before
    assert count(db_session, User) == users_before


@pytest.mark.parametrize("role", ["auditor", "admin", "executive"])
def test_only_staff_must_belong_to_a_function(db_session, functions, role):
    user = accounts.create_user(db_session, None, new_user(role=role, function=None))
    assert user.function_key is None


def test_the_password_is_stored_as_a_scrypt_hash(db_session, functions):
    user = accounts.create_user(db_session, None, new_user())

    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert check_password_hash(user.password_hash, PASSWORD)


# ---------------------------------------------------------------------------- authentication
def test_authenticate_returns_the_user_for_the_right_password(db_session, make_user):
    user = make_user()
    assert accounts.authenticate(db_session, user.email.upper(), PASSWORD).id == user.id


def test_authenticate_refuses_a_wrong_password(db_session, make_user):
    user = make_user()
    with pytest.raises(LoginRefused, match="Wrong e-mail address or password"):
        accounts.authenticate(db_session, user.email, PASSWORD + "!")


def test_authenticate_refuses_an_unknown_email_with_the_same_message(db_session, functions):
    with pytest.raises(LoginRefused) as refused:
        accounts.authenticate(db_session, "nobody@example.com", PASSWORD)
    assert refused.value.message == "Wrong e-mail address or password."


def test_authenticate_refuses_a_deactivated_account_and_says_so(db_session, make_user):
    user = make_user(active=False)
    with pytest.raises(LoginRefused) as refused:
        accounts.authenticate(db_session, user.email, PASSWORD)
    assert "deactivated" in refused.value.message


def test_a_deactivated_account_with_a_wrong_password_does_not_reveal_its_state(db_session, make_user):
    user = make_user(active=False)
    with pytest.raises(LoginRefused) as refused:
        accounts.authenticate(db_session, user.email, "wrong password")
    assert "deactivated" not in refused.value.message


# -------------------------------------------------------------------------------- deactivation
def test_deactivate_user_writes_a_deactivated_event(db_session, make_user):
    admin = make_user("admin", function=None)
    user = make_user()
    events_before = count(db_session, Event)

    accounts.deactivate_user(db_session, admin, user.email)
    db_session.commit()

    db_session.expire_all()
    assert not db_session.get(User, user.id).active
    assert count(db_session, Event) == events_before + 1
    event = db_session.scalars(select(Event).order_by(Event.seq.desc())).first()
    assert (event.kind, event.subject, event.actor) == ("user.deactivated", f"user:{user.id}", admin.email)
    assert event.data == {"email": user.email, "active": {"before": True, "after": False}}


def test_deactivating_twice_is_a_conflict(db_session, make_user):
    user = make_user(active=False)
    events_before = count(db_session, Event)
    with pytest.raises(Conflict):
        accounts.deactivate_user(db_session, None, user.email)
    assert count(db_session, Event) == events_before


def test_the_last_active_admin_cannot_be_deactivated(db_session, make_user):
    first = make_user("admin", function=None)
    second = make_user("admin", function=None)

    accounts.deactivate_user(db_session, None, first.email)
    db_session.commit()
    events_before = count(db_session, Event)

    with pytest.raises(Conflict, match="last active administrator"):
        accounts.deactivate_user(db_session, None, second.email)

    assert count(db_session, Event) == events_before
    db_session.expire_all()
    assert db_session.get(User, second.id).active
