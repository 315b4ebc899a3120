"""The meeting page's content is kept rendered (forum.agenda.views._meeting_page.render_meeting)
for everyone with the same role, recusal and request until the trail moves: what differs between
viewers — their recusal, what their role may do, their CSRF token — stays their own."""

from __future__ import annotations

import re

import pytest

from forum.core import derived
from tests.budgets import count_statements
from tests.conftest import csrf_token_from, logged_in_client

# Kept results are asserted here: the minute must not turn mid-test.
pytestmark = pytest.mark.usefixtures("steady_minute")


def _page(client, meeting, query: str = "") -> str:
    response = client.get(f"/meetings/{meeting.id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_second_executive_gets_the_meeting_page_from_two_statements(
    app, client, login, chair, cfo, filer, make_item, make_meeting
):
    items = [make_item(filer, status="escalated", title=f"Agenda item {n}") for n in range(3)]
    meeting = make_meeting(chair, status="published", items=items, title="Kept board")
    login(chair)
    first = count_statements(app, lambda: _page(client, meeting))
    login(cfo)
    pages = []
    second = count_statements(app, lambda: pages.append(_page(client, meeting)))
    assert second == 2 < first  # the user and the trail head
    assert "Agenda item 2" in pages[0] and "<title>Kept board" in pages[0]
    assert "Move down" in pages[0]


def test_staff_after_an_executive_get_no_agenda_controls(
    client, login, chair, filer, make_item, make_meeting
):
    item = make_item(filer, status="escalated", title="Watched item")
    meeting = make_meeting(chair, status="published", items=[item])
    login(chair)
    assert "Take off the agenda" in _page(client, meeting)
    login(filer)
    staff = _page(client, meeting)
    assert "Watched item" in staff
    assert "Take off the agenda" not in staff and "Add an item from the escalation queue" not in staff


def test_a_recused_executive_and_the_others_each_see_their_own_page_whoever_came_first(
    client, login, chair, cfo, filer, make_item, make_meeting
):
    own = make_item(cfo, status="escalated", title="Filed by the CFO")
    other = make_item(filer, status="escalated", title="Filed by staff")
    meeting = make_meeting(chair, status="in_session", items=[own, other])
    recused = "You are recused from this item (filed the item)"
    login(chair)
    chair_first = _page(client, meeting)
    assert recused not in chair_first
    login(cfo)
    assert recused in _page(client, meeting)
    login(chair)
    assert recused not in _page(client, meeting)


def test_a_change_shows_on_the_kept_page_at_once(client, login, chair, filer, make_item, make_meeting):
    first = make_item(filer, status="escalated", title="First on the agenda")
    waiting = make_item(filer, status="escalated", title="Second to come")
    meeting = make_meeting(chair, status="published", items=[first])
    login(chair)
    assert "Second to come" not in _page(client, meeting).split('id="agenda-heading"')[1].split("</ol>")[0]
    added = client.post(f"/meetings/{meeting.id}/entries", data={
        "add-item": str(waiting.id), "add-time_box_minutes": "10", "add-presenter": ""})
    assert added.status_code == 302
    agenda = _page(client, meeting).split('id="agenda-heading"')[1].split("</ol>")[0]
    assert "First on the agenda" in agenda and "Second to come" in agenda


def test_kept_agenda_forms_carry_each_sessions_own_csrf_token(protected_app, chair, cfo, filer, make_item,
                                                              make_meeting):
    items = [make_item(filer, status="escalated", title=f"Ordered {n}") for n in range(2)]
    meeting = make_meeting(chair, status="published", items=items)
    clients = [logged_in_client(protected_app, person) for person in (chair, cfo)]
    tokens = []
    for client in clients:
        page = _page(client, meeting)
        assert derived.CSRF_SLOT not in page
        form = page.split("Move down")[0].rsplit("<form", 1)[1]
        tokens.append(csrf_token_from(form))
    assert tokens[0] != tokens[1]
    move = re.search(r'action="([^"]+)"', form).group(1)
    assert clients[1].post(move, data={"to_position": "2", "csrf_token": tokens[0]}).status_code == 400
    assert clients[1].post(move, data={"to_position": "2", "csrf_token": tokens[1]}).status_code == 302
