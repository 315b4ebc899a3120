"""The item page's panels kept by facet (forum.items.panels): the forum, evidence and proposed-case
panels are rendered once for everyone with the same role and function, until the trail moves;
what differs between those viewers — their CSRF token, the edit links of their own comments —
is still their own."""

from __future__ import annotations

import pytest

from forum.core import derived
from forum.weighing import comments
from tests.budgets import count_statements
from tests.conftest import csrf_token_from, logged_in_client

# Kept results are asserted here: the minute must not turn mid-test.
pytestmark = pytest.mark.usefixtures("steady_minute")


def _page(client, item) -> str:
    response = client.get(f"/items/{item.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_second_viewer_of_the_same_function_gets_the_panels_without_their_queries(
    app, client, login, people, make_item, rate
):
    item = make_item(people["procurement"], status="open", title="Kept panels")
    rate(people["risk"], item, 12, reason="Risk sees strategic weight")
    login(people["procurement"])
    first = count_statements(app, lambda: _page(client, item))
    login(people["procurement2"])
    pages = []
    second = count_statements(app, lambda: pages.append(_page(client, item)))
    # The second viewer's page reads the user, the trail head, the item and whether they follow
    # it; the forum, evidence, proposed-case, agenda and history panels were kept.
    assert second == 4 < first
    assert "Risk sees strategic weight" in pages[0]
    assert "Rate the weight for Procurement" in pages[0]


def test_each_function_gets_its_own_rating_and_position_forms(
    client, login, people, make_item, rate, position
):
    item = make_item(people["procurement"], status="open")
    rate(people["risk"], item, 12)
    position(people["risk"], item, "object", "Not without an audit.")
    login(people["procurement"])
    procurement = _page(client, item)
    assert "Rate the weight for Procurement" in procurement
    assert "Take the position of Procurement" in procurement
    assert "Your function (Procurement) has not rated the strategic weight yet." in procurement
    login(people["risk"])
    risk = _page(client, item)  # the same trail head: kept per function, not shared across
    assert "Revise the weight for Risk" in risk and "Revise the position of Risk" in risk
    assert "has not rated" not in risk
    login(people["auditor"])
    auditor = _page(client, item)
    assert 'id="rate-weight"' not in auditor and 'class="comment-form"' not in auditor
    assert "Not without an audit." in auditor


def test_only_the_author_sees_the_edit_link_of_a_comment_whoever_viewed_first(
    client, login, people, make_item, db_session
):
    item = make_item(people["procurement"], status="open")
    comment = comments.add_comment(db_session, people["procurement"], item, "My own remark")
    db_session.commit()
    edit = f'href="/items/{item.id}/comments/{comment.id}/edit"'
    login(people["procurement2"])  # same function and role as the author
    assert edit not in _page(client, item)
    login(people["procurement"])
    author = _page(client, item)
    assert "My own remark" in author and edit in author
    login(people["procurement2"])
    assert edit not in _page(client, item)


def test_a_change_shows_in_a_kept_panel_at_once(client, login, people, make_item, rate):
    item = make_item(people["procurement"], status="open")
    login(people["exec"])
    assert "No function has rated this item's weight yet." in _page(client, item)
    rate(people["product"], item, 12, reason="Product weighs in")  # the trail head moves
    assert "Product weighs in" in _page(client, item)


def test_kept_forms_carry_each_sessions_own_csrf_token(protected_app, people, make_item):
    """With CSRF on: two people of one function get the same kept panels, each with the token of
    their own session, which their post needs; the slot itself never reaches a page."""
    item = make_item(people["procurement"], status="open")
    clients = [logged_in_client(protected_app, people[name]) for name in ("procurement", "procurement2")]
    tokens = []
    for client in clients:
        page = _page(client, item)
        assert derived.CSRF_SLOT not in page
        tokens.append(csrf_token_from(page.split('class="comment-form"')[1]))
    assert protected_app.extensions[derived.EXTENSION].hits >= 1
    assert tokens[0] != tokens[1]
    posted = f"/items/{item.id}/comments"
    # The other session's token is refused; the page's own is accepted.
    assert clients[1].post(posted, data={"body": "Borrowed", "csrf_token": tokens[0]}).status_code == 400
    assert clients[1].post(posted, data={"body": "Mine", "csrf_token": tokens[1]}).status_code == 302
