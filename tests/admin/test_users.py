"""The administration pages for accounts: list, create with a one-time link, role and function,
deactivate and reactivate, the last-admin guard, and the list's query budget."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from forum.auth import service as accounts
from forum.auth.models import SetPasswordLink, User
from forum.trail.models import Event
from tests.auth.helpers import count, last_event
from tests.budgets import count_statements

NEW = {"email": "nia@example.com", "display_name": "Nia New", "role": "staff", "function": "risk"}


def link_from(html: str) -> str:
    match = re.search(r"<code>(http://localhost/set-password/[^<]+)</code>", html)
    assert match, "no set-password link on the page"
    return match.group(1)


# ----------------------------------------------------------------------------------------- list
def test_the_list_shows_accounts_with_their_last_login(client, admin, make_user, db_session):
    user = make_user(name="Lena Logged-In")
    user.last_login_at = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    db_session.commit()
    make_user(name="Noah Never")

    page = client.get("/admin/users").get_data(as_text=True)

    assert "Lena Logged-In" in page and "last login" in page and "04 Mar 2026, 05:06 UTC" in page
    assert "Noah Never" in page and "never logged in" in page
    assert "Ada Admin" in page  # the admin's own login shows too


def test_the_list_filters_by_role_function_state_and_text(client, admin, make_user):
    make_user(name="Rita Risk", function="risk")
    make_user(name="Paul Procurement", function="procurement")
    make_user("auditor", name="Aude Auditor")
    make_user(name="Dora Deactivated", function="risk", active=False)

    def names(query: str) -> set[str]:
        page = client.get(f"/admin/users?{query}").get_data(as_text=True)
        return set(re.findall(r'class="item-title" href="/admin/users/\d+">([^<]+)</a>', page))

    assert names("role=auditor") == {"Aude Auditor"}
    assert names("function=risk") == {"Rita Risk", "Dora Deactivated"}
    assert names("function=risk&active=yes") == {"Rita Risk"}
    assert names("active=no") == {"Dora Deactivated"}
    assert names("q=PAUL") == {"Paul Procurement"}
    assert names("q=%25") == set()  # a LIKE wildcard is searched for, not expanded
    assert "No accounts match these filters." in client.get("/admin/users?role=executive").get_data(as_text=True)


def test_an_unknown_filter_value_is_a_bad_request(client, admin):
    response = client.get("/admin/users?role=overlord")
    assert response.status_code == 400
    assert "Filter ignored" in response.get_data(as_text=True)


def test_the_list_is_paginated_by_name(client, admin, make_user):
    for n in range(7):  # page size 5 in these tests; with the admin 8 accounts
        make_user(name=f"Person {n}")
    first = client.get("/admin/users").get_data(as_text=True)
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "Ada Admin" in first and "Person 0" in first and "Person 6" not in first
    assert "Person 6" in second and "Person 0" not in second


USERS_BUDGET = 4  # the user, the count, one page of users with their functions, the functions


def test_the_list_keeps_its_query_budget_whatever_the_data_size(app, client, admin, make_user):
    make_user()
    small = count_statements(app, lambda: client.get("/admin/users"))
    for n in range(12):
        make_user(function=["procurement", "product", "risk"][n % 3])
    make_user("auditor")
    large = count_statements(app, lambda: client.get("/admin/users"))
    filtered = count_statements(app, lambda: client.get("/admin/users?function=risk&active=yes&page=2"))
    assert small == large == filtered
    assert large <= USERS_BUDGET


def test_the_user_page_keeps_its_query_budget(app, client, admin, make_user, db_session):
    user = make_user()
    small = count_statements(app, lambda: client.get(f"/admin/users/{user.id}"))
    for n in range(6):
        accounts.update_profile(db_session, user, f"Name {n}")
        db_session.commit()
    large = count_statements(app, lambda: client.get(f"/admin/users/{user.id}"))
    assert small == large <= 7  # … and the names of the people and functions its events name (two)


# --------------------------------------------------------------------------------------- create
def test_creating_a_user_shows_the_link_once_and_stores_only_its_hash(client, admin, db_session):
    response = client.post("/admin/users/new", data=NEW)

    assert response.status_code == 201
    page = response.get_data(as_text=True)
    link = link_from(page)
    assert "only time the link is shown" in page
    assert "no-store" in response.headers["Cache-Control"]
    token = link.rsplit("/", 1)[1]
    user = db_session.scalars(select(User).where(User.email == "nia@example.com")).one()
    assert (user.role, user.function_key, user.has_password) == ("staff", "risk", False)
    stored = db_session.scalars(select(SetPasswordLink)).one()
    assert token not in stored.token_hash
    event = last_event(db_session)
    assert (event.kind, event.actor) == ("user.created", admin.email)
    assert token not in event.data_json
    # the link is not shown anywhere else
    assert token not in client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert token not in client.get("/admin/users").get_data(as_text=True)
    # and it works for the new person
    other = client.application.test_client()
    assert other.get(link.removeprefix("http://localhost")).status_code == 200


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"email": "ADA-ADMIN@example.com"}, 409, "already exists"),
        ({"email": "not an address"}, 400, "Enter a valid e-mail address."),
        ({"email": "ada..admin@example.com"}, 400, "An email address cannot have two periods in a row."),
        ({"role": "overlord"}, 400, "Unknown role &#39;overlord&#39;"),
        ({"function": "astrology"}, 400, "Unknown function &#39;astrology&#39;"),
        ({"function": ""}, 400, "Staff members belong to a function."),
        ({"display_name": ""}, 400, "Enter a display name."),
    ],
)
def test_creating_a_user_refuses_bad_input_and_stores_nothing(client, make_user, login, db_session,
                                                               changes, status, message):
    admin = make_user("admin", function=None, email="ada-admin@example.com")
    login(admin)
    users, links, events = count(db_session, User), count(db_session, SetPasswordLink), count(db_session, Event)

    response = client.post("/admin/users/new", data=NEW | changes)

    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert (count(db_session, User), count(db_session, SetPasswordLink), count(db_session, Event)) == (
        users, links, events)


def test_a_new_link_for_an_existing_account(client, admin, make_user, db_session):
    user = make_user()
    response = client.post(f"/admin/users/{user.id}/link")
    assert response.status_code == 200
    link = link_from(response.get_data(as_text=True))
    assert last_event(db_session).kind == "user.password_link_issued"
    assert client.application.test_client().get(link.removeprefix("http://localhost")).status_code == 200


# ------------------------------------------------------------------------------ role and function
def test_change_role_and_function(client, admin, make_user, db_session):
    user = make_user(function="procurement")

    response = client.post(f"/admin/users/{user.id}/access", data={"role": "executive", "function": "risk"})

    assert response.status_code == 302
    db_session.expire_all()
    assert (db_session.get(User, user.id).role, db_session.get(User, user.id).function_key) == ("executive", "risk")
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "is now executive, Risk" in page
    assert re.search(r"Role</th><td>Staff</td><td>Executive</td>", page)  # the account's history


def test_an_unknown_role_or_function_is_refused(client, admin, make_user, db_session):
    user = make_user(function="procurement")
    before = count(db_session, Event)
    for data, message in (({"role": "overlord", "function": "risk"}, "Unknown role"),
                          ({"role": "staff", "function": "astrology"}, "Unknown function")):
        response = client.post(f"/admin/users/{user.id}/access", data=data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert count(db_session, Event) == before


def test_the_last_admin_cannot_be_demoted_through_the_page(client, admin, make_user, db_session):
    other = make_user("admin", function=None)
    before = count(db_session, Event)

    # The logged-in admin demotes the other one and is then the last active admin. Through the
    # pages only the last admin themselves could try to demote the last admin, which is refused;
    # the service's own last-admin guard (for the CLI and concurrent requests) is tested in
    # tests/auth/test_accounts.py.
    assert client.post(f"/admin/users/{other.id}/access", data={"role": "auditor", "function": ""}).status_code == 302
    response = client.post(f"/admin/users/{admin.id}/access", data={"role": "auditor", "function": ""})
    assert response.status_code == 400
    assert "You cannot change your own role" in response.get_data(as_text=True)
    assert count(db_session, Event) == before + 1
    assert db_session.get(User, admin.id).role == "admin"


# ------------------------------------------------------------------------ deactivate, reactivate
def test_deactivate_asks_for_confirmation_then_deactivates(client, admin, make_user, db_session):
    user = make_user(name="Sam Staff")

    confirm = client.get(f"/admin/users/{user.id}/deactivate")
    assert confirm.status_code == 200
    assert "Deactivate Sam Staff?" in confirm.get_data(as_text=True)
    assert db_session.get(User, user.id).active  # a GET changes nothing

    response = client.post(f"/admin/users/{user.id}/deactivate")
    assert response.status_code == 302
    db_session.expire_all()
    assert not db_session.get(User, user.id).active
    assert last_event(db_session).kind == "user.deactivated"

    assert "Reactivate Sam Staff?" in client.get(f"/admin/users/{user.id}/reactivate").get_data(as_text=True)
    assert client.post(f"/admin/users/{user.id}/reactivate").status_code == 302
    db_session.expire_all()
    assert db_session.get(User, user.id).active
    assert last_event(db_session).kind == "user.reactivated"


def test_an_admin_cannot_deactivate_themselves_through_the_page(client, admin, make_user, db_session):
    make_user("admin", function=None)
    before = count(db_session, Event)
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 400
    assert "You cannot deactivate your own account" in response.get_data(as_text=True)
    assert count(db_session, Event) == before


def test_deactivating_twice_is_a_conflict(client, admin, make_user):
    user = make_user(active=False)
    response = client.post(f"/admin/users/{user.id}/deactivate")
    assert response.status_code == 409
    assert "already deactivated" in response.get_data(as_text=True)


def test_an_unknown_account_is_not_found(client, admin):
    for url in ("/admin/users/9999", "/admin/users/9999/deactivate"):
        assert client.get(url).status_code == 404
