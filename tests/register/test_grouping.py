"""Bringing the items filed before the register into it: groups of the same vendor and model
proposed, and an administrator's confirmation linking each group to a system, old or new."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.core import clock
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.register import grouping
from forum.systems import service as systems
from forum.systems.models import AISystem
from forum.trail.models import Event
from forum.weighing.drift import with_decisions_to_revalidate
from tests.budgets import BUDGETS, count_statements
from tests.health.conftest import CSV_VERSION

# Results from the derived cache are asserted here: the minute must not turn mid-test.
pytestmark = pytest.mark.usefixtures("steady_minute")

DAY = timedelta(days=1)


@pytest.fixture
def admin(make_user):
    return make_user("admin", function=None, name="Ada Admin")


def support_items(history):
    """Three items about Acme's support-llm, spelled three ways, one of them decided."""
    now = clock.now()
    decided = history.item(now - 40 * DAY, title="Support bot go-live", vendor="Acme AI", model_name="support-llm",
                           model_version=CSV_VERSION)
    history.attach(decided, now - 39 * DAY)
    history.decide(decided, now - 30 * DAY)
    second = history.item(now - 20 * DAY, status="open", title="Support bot in French", vendor="acme ai ",
                          model_name="Support-LLM", model_version="2026.07")
    third = history.item(now - 10 * DAY, status="open", title="Support bot tone", vendor="ACME AI",
                         model_name=" support-llm", model_version="2026.10")
    return decided, second, third


def test_the_proposals_group_items_of_one_model_and_leave_out_drafts_closed_and_linked(
        db_session, history, cast, admin):
    decided, second, third = support_items(history)
    history.item(clock.now() - 5 * DAY, status="draft", title="A draft", vendor="Acme AI", model_name="support-llm")
    history.item(clock.now() - 5 * DAY, status="open", title="No model named", vendor="Acme AI", model_name="")
    history.item(clock.now() - 5 * DAY, status="open", title="Other", vendor="Northwind", model_name="nw-chat")
    match = systems.create_system(db_session, cast["filer"], systems.SystemData(
        name="Support assistant", owner_function="risk", vendor="Acme AI", model_name="Support-LLM"), "2026.10")
    systems.create_system(db_session, cast["filer"], systems.SystemData(
        name="Other vendor's namesake", owner_function="risk", vendor="Globex", model_name="support-llm"))
    db_session.commit()

    found, total = grouping.proposals(db_session)
    assert total == 2
    first = found[0]
    assert (first.vendor, first.model, first.items, first.decided) == ("acme ai", "support-llm", 3, 1)
    assert [i.title for i in first.examples] == ["Support bot tone", "Support bot go-live"]  # newest, oldest
    assert (first.vendor_label, first.model_label, first.newest_version) == ("ACME AI", "support-llm", "2026.10")
    assert [s.id for s in first.matches] == [match.id]  # not Globex's model of the same name
    assert found[1].model == "nw-chat" and found[1].matches == []


def as_counted_again(session) -> list[tuple]:
    """The groups' counts as kept, checked against counting them again from the items."""
    kept = grouping.kept(session)
    assert kept == grouping.counted(session), "the kept counts differ from the items"
    return sorted(kept)


def test_the_groups_are_counted_as_items_are_filed_edited_decided_closed_and_linked(
        db_session, history, cast, admin):
    decided, second, third = support_items(history)
    draft = history.item(clock.now() - 5 * DAY, status="draft", title="A draft", vendor="Acme AI",
                         model_name="support-llm")
    other = history.item(clock.now() - 5 * DAY, status="open", title="Other", vendor="Northwind",
                         model_name="nw-chat")
    db_session.commit()
    assert as_counted_again(db_session) == [("acme ai", "support-llm", 3, 1), ("northwind", "nw-chat", 1, 0)]

    items.transition(db_session, cast["filer"], draft, "submit")  # a draft joins its group
    db_session.commit()
    assert as_counted_again(db_session) == [("acme ai", "support-llm", 4, 1), ("northwind", "nw-chat", 1, 0)]

    data = items.ItemData(**{**items.current_values(third), "model_name": "Support-LLM 2"})
    items.update_item(db_session, cast["filer"], third, data, third.version)  # moves to another group
    db_session.commit()
    assert as_counted_again(db_session) == [
        ("acme ai", "support-llm", 3, 1), ("acme ai", "support-llm 2", 1, 0), ("northwind", "nw-chat", 1, 0)]

    items.transition(db_session, cast["chair"], decided, "close")  # closed items keep their model
    db_session.commit()
    assert as_counted_again(db_session) == [
        ("acme ai", "support-llm", 2, 0), ("acme ai", "support-llm 2", 1, 0), ("northwind", "nw-chat", 1, 0)]

    grouping.confirm(db_session, admin, "northwind", "nw-chat", name="Northwind chat", owner_function="risk")
    db_session.commit()
    assert other.system_id is not None
    assert as_counted_again(db_session) == [("acme ai", "support-llm", 2, 0), ("acme ai", "support-llm 2", 1, 0)]
    assert grouping.proposals(db_session)[1] == 2


def test_an_admin_links_a_group_to_a_system_of_the_register(db_session, history, cast, admin, client, login):
    decided, second, third = support_items(history)
    system = systems.create_system(db_session, cast["filer"], systems.SystemData(
        name="Support assistant", owner_function="risk", vendor="Acme AI", model_name="support-llm"), "2026.10")
    db_session.commit()
    login(admin)
    page = client.get("/systems/grouping").get_data(as_text=True)
    assert "3 items, 1 decided; the newest names version 2026.10." in page and "Support assistant" in page
    answer = client.post("/systems/grouping", data={"vendor": "acme ai", "model": "support-llm",
                                                    "target": str(system.id)})
    assert answer.status_code == 302
    assert "3 items now follow Support assistant." in client.get(answer.headers["Location"]).get_data(as_text=True)

    db_session.expire_all()
    linked = db_session.scalars(select(DecisionItem).where(DecisionItem.system_id == system.id)).all()
    assert {i.id for i in linked} == {decided.id, second.id, third.id}
    assert {(i.vendor, i.model_name, i.model_version) for i in linked} == {("Acme AI", "support-llm", "2026.10")}
    events = db_session.scalars(select(Event).where(Event.kind == "item.updated", Event.actor == admin.email)).all()
    assert sorted(e.subject for e in events) == sorted(i.subject for i in linked)
    # Decided on another version than the system runs: the decision needs revalidation now.
    drifted = db_session.scalars(select(AISystem.id).where(with_decisions_to_revalidate(clock.now()))).all()
    assert drifted == [system.id]
    assert "nothing to group" in client.get("/systems/grouping").get_data(as_text=True)
    assert client.post("/systems/grouping", data={"vendor": "acme ai", "model": "support-llm",
                                                  "target": str(system.id)}).status_code == 409


def test_an_admin_makes_a_new_system_of_a_group(db_session, history, cast, admin, client, login):
    support_items(history)
    login(admin)
    data = {"vendor": "acme ai", "model": "support-llm", "target": "new", "owner_function": "procurement",
            "status": "production"}
    nameless = client.post("/systems/grouping", data={**data, "name": ""})
    assert nameless.status_code == 400 and "Give the system a name" in nameless.get_data(as_text=True)
    no_owner = client.post("/systems/grouping", data={**data, "name": "Support bot", "owner_function": ""})
    assert no_owner.status_code == 400 and "Choose the function that owns the system" in no_owner.get_data(
        as_text=True)
    assert db_session.scalar(select(AISystem)) is None

    assert client.post("/systems/grouping", data={**data, "name": "Support bot"}).status_code == 302
    system = db_session.scalar(select(AISystem))
    assert (system.name, system.vendor, system.model_name, system.version_in_use, system.status,
            system.owner_function_key) == ("Support bot", "ACME AI", "support-llm", "2026.10", "production",
                                           "procurement")
    assert db_session.scalar(select(Event).where(Event.kind == "system.created")).actor == admin.email
    assert len(db_session.scalars(select(DecisionItem).where(DecisionItem.system_id == system.id)).all()) == 3

    # A name the register has already: refused, and nothing of the group moves.
    history.item(clock.now(), status="open", title="Another", vendor="Northwind", model_name="nw-chat")
    taken = client.post("/systems/grouping", data={"vendor": "northwind", "model": "nw-chat", "target": "new",
                                                   "name": "support BOT", "owner_function": "risk"})
    assert taken.status_code == 409 and "already has a system named" in taken.get_data(as_text=True)
    assert db_session.scalar(select(DecisionItem).where(DecisionItem.title == "Another")).system_id is None


def test_a_target_of_another_model_or_out_of_range_is_refused(db_session, history, cast, admin, client, login):
    support_items(history)
    other = systems.create_system(db_session, cast["filer"], systems.SystemData(
        name="Chat", owner_function="risk", vendor="Acme AI", model_name="acme-chat"))
    db_session.commit()
    login(admin)
    for target in (str(other.id), "99999999999999999999", "x", ""):
        answer = client.post("/systems/grouping", data={"vendor": "acme ai", "model": "support-llm",
                                                        "target": target})
        assert answer.status_code == 400, target
        assert "Choose" in answer.get_data(as_text=True)
    assert db_session.scalars(select(DecisionItem).where(DecisionItem.system_id.is_not(None))).all() == []


def test_a_large_group_links_a_batch_per_confirmation(db_session, history, cast, admin, client, login, monkeypatch):
    monkeypatch.setattr(grouping, "LINK_BATCH", 2)
    support_items(history)
    login(admin)
    data = {"vendor": "acme ai", "model": "support-llm", "target": "new", "name": "Support bot",
            "owner_function": "risk"}
    first = client.post("/systems/grouping", data=data, follow_redirects=True).get_data(as_text=True)
    assert "Support bot is in the register with 2 items. 1 more of this group are left" in first
    system = db_session.scalar(select(AISystem))
    again = client.post("/systems/grouping", data={**data, "target": str(system.id)}, follow_redirects=True)
    assert "1 item now follows Support bot." in again.get_data(as_text=True)


def test_only_administrators_group(db_session, history, cast, client, login, make_user):
    support_items(history)
    for user in (cast["filer"], cast["chair"], make_user("auditor", function=None)):
        login(user)
        assert client.get("/systems/grouping").status_code == 403
        assert client.post("/systems/grouping", data={"vendor": "acme ai", "model": "support-llm", "target": "new",
                                                      "name": "X", "owner_function": "risk"}).status_code == 403
    assert db_session.scalar(select(AISystem)) is None


def test_the_admin_home_points_to_the_grouping_while_items_wait(db_session, history, admin, client, login):
    login(admin)
    assert "bring them into the register" not in client.get("/").get_data(as_text=True)
    support_items(history)
    assert "bring them into the register" in client.get("/").get_data(as_text=True)


def test_the_grouping_page_keeps_its_query_budget(app, db_session, history, cast, admin, client, login):
    def add(n):
        history.item(clock.now(), status="open", title=f"Item {n}", vendor=f"Vendor {n}", model_name=f"model-{n}")
        systems.create_system(db_session, cast["filer"], systems.SystemData(
            name=f"System {n}", owner_function="risk", vendor=f"Vendor {n}", model_name=f"model-{n}"))
        db_session.commit()

    add(0)
    login(admin)
    small = count_statements(app, lambda: client.get("/systems/grouping"))
    for n in range(1, 6):
        add(n)
    large = count_statements(app, lambda: client.get("/systems/grouping"))
    assert small == large <= BUDGETS["register.grouping_page"], (small, large)


def test_the_kept_grouping_page_carries_each_admins_own_token_and_a_confirmation_shows_at_once(
        protected_app, db_session, history, make_user):
    from forum.core import derived
    from tests.conftest import csrf_token_from, logged_in_client

    support_items(history)
    history.item(clock.now(), status="open", title="Other", vendor="Northwind", model_name="nw-chat")
    admins = [make_user("admin", function=None) for _ in range(2)]
    clients = [logged_in_client(protected_app, person) for person in admins]
    tokens = []
    for client in clients:
        page = client.get("/systems/grouping").get_data(as_text=True)
        assert derived.CSRF_SLOT not in page and "support-llm" in page and "nw-chat" in page
        tokens.append(csrf_token_from(page.split('class="card group-proposal"')[1]))
    assert tokens[0] != tokens[1]
    data = {"vendor": "acme ai", "model": "support-llm", "target": "new", "owner_function": "risk"}
    # The other administrator's token is refused; a refused confirmation shows its errors.
    assert clients[1].post("/systems/grouping", data=dict(data, name="Support bot", csrf_token=tokens[0])
                           ).status_code == 400
    refused = clients[1].post("/systems/grouping", data=dict(data, name="", csrf_token=tokens[1]))
    assert refused.status_code == 400
    shown = refused.get_data(as_text=True)  # the page built afresh, as HTML, not escaped text
    assert '<div class="error-summary" role="alert">' in shown and "&lt;" not in shown
    assert clients[1].post("/systems/grouping", data=dict(data, name="Support bot", csrf_token=tokens[1])
                           ).status_code == 302
    after = clients[0].get("/systems/grouping").get_data(as_text=True)  # the trail moved: afresh
    assert "support-llm" not in after and "nw-chat" in after


def test_the_grouping_page_is_kept_across_a_comment_and_not_across_a_change_to_an_item(
        app, db_session, history, cast, admin, client, login):
    """The groups read the items alone: a comment leaves the kept page in place (forum.core.derived
    ``items_only``); a new item of a group shows at once."""
    from forum.weighing import comments

    decided, second, third = support_items(history)
    login(admin)
    count_statements(app, lambda: client.get("/systems/grouping"))
    warm = count_statements(app, lambda: client.get("/systems/grouping"))
    comments.add_comment(db_session, cast["rater"], second, "Same model as the others.")
    db_session.commit()
    assert count_statements(app, lambda: client.get("/systems/grouping")) == warm
    history.item(clock.now(), status="open", title="Support bot in Dutch", vendor="Acme AI", model_name="support-llm")
    page = client.get("/systems/grouping").get_data(as_text=True)
    assert "4 items" in page


def test_the_grouping_page_is_kept_across_a_result_file_for_an_item_in_the_register(
        app, db_session, history, cast, admin, client, login):
    """The groups read only items outside the register: a result file for an item of a system
    leaves the kept page in place (forum.core.derived ``scope``); one for an item still to group
    may change its group's standing, and the page is computed again."""
    decided, second, third = support_items(history)
    system = systems.create_system(db_session, cast["filer"], systems.SystemData(
        name="Contract reader", owner_function="procurement", vendor="Lex", model_name="clause-llm"), CSV_VERSION)
    db_session.commit()
    linked = history.item(clock.now() - 2 * DAY, status="open", title="Clause extraction", system=system.id)
    login(admin)
    count_statements(app, lambda: client.get("/systems/grouping"))
    warm = count_statements(app, lambda: client.get("/systems/grouping"))
    history.attach(linked, clock.now() - DAY)
    assert count_statements(app, lambda: client.get("/systems/grouping")) == warm
    history.attach(second, clock.now() - DAY)
    assert count_statements(app, lambda: client.get("/systems/grouping")) > warm
