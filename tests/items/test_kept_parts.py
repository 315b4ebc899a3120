"""The item page keeps what it shows the same to everyone — the line under its title, its summary,
the facts about its AI system — and each panel for the viewers it reads the same to: warm, the
page reads the user, the trail head and the item alone. What is kept follows every change that
shows on it, and never shows one viewer what is another's."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from forum.auth import service as accounts
from forum.auth.models import User
from forum.core import db
from forum.systems import service as systems

pytestmark = pytest.mark.usefixtures("steady_minute")


@pytest.fixture
def system(db_session, make_user):
    owner = make_user("staff", function="procurement", name="Register Keeper")
    made = systems.create_system(db_session, owner, systems.SystemData(
        name="Support assistant", owner_function="procurement", vendor="Acme AI", model_name="acme-chat"), "2026.11")
    db_session.commit()
    return made


@pytest.fixture
def item(make_user, make_item, system):
    filer = make_user("staff", function="procurement", name="Pat Procurement")
    return make_item(filer, status="open", title="Kept parts", summary="Edge cases **dominate**.",
                     vendor="Acme AI", system=system.id)


def _statements(app, fn) -> list[str]:
    engine = db.get_engine(app)
    seen: list[str] = []

    def on_execute(conn, cursor, statement, *_):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return seen


def _page(client, item) -> str:
    response = client.get(f"/items/{item.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_warm_item_page_reads_the_user_the_trail_head_and_the_item_alone(app, client, login, make_user, item):
    login(make_user("executive", name="Erin Exec"))
    cold = _statements(app, lambda: _page(client, item))
    pages: list[str] = []
    warm = _statements(app, lambda: pages.append(_page(client, item)))
    assert len(warm) == 3, warm
    user, read, head = warm
    assert user.startswith("SELECT users.id") and "FROM trail_head" in head
    assert "FROM decision_items" in read and "JOIN" not in read  # no filer, function or system
    assert any("FROM decision_items" in s and "JOIN" in s for s in cold)  # read once with them when rendered
    assert not any("item_follows" in s for s in warm)  # whether the viewer follows is kept for them
    html = pages[0]
    assert "Filed by Pat Procurement" in html and "Owned by Procurement" in html
    assert "<strong>dominate</strong>" in html and "Support assistant" in html and "Acme AI" in html


def test_the_kept_parts_follow_the_renaming_of_the_filer_the_function_and_the_system(
    client, login, make_user, db_session, item, system
):
    login(make_user("executive"))
    assert "Filed by Pat Procurement" in _page(client, item)
    filer = db_session.get(User, item.filer_id)
    accounts.update_profile(db_session, filer, "Patricia Procurement")
    db_session.commit()
    assert "Filed by Patricia Procurement" in _page(client, item)
    accounts.rename_function(db_session, None, "procurement", "Purchasing")
    db_session.commit()
    assert "Owned by Purchasing" in _page(client, item)
    systems.update_system(db_session, filer, system, systems.SystemData(
        name="Customer assistant", owner_function="procurement", vendor="Acme AI", model_name="acme-chat"),
        system.version)
    db_session.commit()
    html = _page(client, item)
    assert "Customer assistant" in html and "Support assistant" not in html


def test_the_kept_facts_offer_to_try_the_model_only_to_those_who_may(client, login, make_user, item):
    login(make_user("executive"))
    assert "Try the model yourself" in _page(client, item)
    login(make_user("auditor", function=None))
    assert "Try the model yourself" not in _page(client, item)  # kept apart from the executive's
    login(make_user("staff", function="risk"))
    assert "Try the model yourself" in _page(client, item)


def test_whether_one_follows_the_item_is_kept_for_oneself_alone(client, login, make_user, item):
    follower = make_user("staff", function="risk")
    other = make_user("staff", function="risk")  # same role and function: the other panels read the same
    login(follower)
    assert "Follow this item" in _page(client, item)
    assert client.post(f"/items/{item.id}/follow").status_code == 302
    assert "You follow this item" in _page(client, item)
    login(other)
    html = _page(client, item)
    assert "Follow this item" in html and "You follow this item" not in html
    login(follower)
    assert "You follow this item" in _page(client, item)
