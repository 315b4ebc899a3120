"""The site header (forum.core.pages.site_header): rendered once per worker for everyone with the
same role, name, function, unread count and section, served with each session's own CSRF token."""

from __future__ import annotations

import re

from forum.core import derived
from forum.notify import service as notify
from tests.conftest import csrf_token_from, logged_in_client


def _current_links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page">', html)


def test_the_current_section_is_marked_on_each_page(client, login, make_user):
    login(make_user())
    assert set(_current_links(client.get("/").get_data(as_text=True))) == {"/"}
    assert set(_current_links(client.get("/items").get_data(as_text=True))) == {"/items"}
    assert set(_current_links(client.get("/items/new").get_data(as_text=True))) == {"/items/new"}
    assert set(_current_links(client.get("/escalations").get_data(as_text=True))) == {"/escalations"}
    assert _current_links(client.get("/search?q=x").get_data(as_text=True)) == []


def test_each_person_sees_their_own_name_and_unread_count(client, login, make_user, db_session):
    first = make_user(name="Ada First", function="procurement")
    second = make_user(name="Bo Second", function="procurement")
    login(first)
    page = client.get("/").get_data(as_text=True)
    assert "Ada First" in page and 'class="unread-count"' not in page
    login(second)
    page = client.get("/").get_data(as_text=True)
    assert "Bo Second" in page and "Ada First" not in page
    notify.notify(db_session, [second], notify.Message("item_state", "item:1", "Moved", "/items/1"))
    db_session.commit()
    page = client.get("/").get_data(as_text=True)
    assert '<span class="unread-count">1</span>' in page


def test_two_sessions_of_one_person_get_the_same_header_with_their_own_token(protected_app, make_user):
    person = make_user()
    clients = [logged_in_client(protected_app, person) for _ in range(2)]
    tokens = []
    for client in clients:
        page = client.get("/actions").get_data(as_text=True)
        assert derived.CSRF_SLOT not in page
        tokens.append(csrf_token_from(page.split('action="/logout"')[1]))
    assert tokens[0] != tokens[1]
    assert clients[1].post("/logout", data={"csrf_token": tokens[0]}).status_code == 400
    assert clients[1].post("/logout", data={"csrf_token": tokens[1]}).status_code == 302
    assert clients[1].get("/actions").status_code == 302  # logged out: to the login page
    assert clients[0].get("/actions").status_code == 200  # the other session goes on
