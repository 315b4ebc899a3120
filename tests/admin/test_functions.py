"""Functions management: list, add, rename; bad input refused with nothing stored."""

from __future__ import annotations

import pytest

from forum.auth.models import OrgFunction
from forum.trail.models import Event
from tests.auth.helpers import count, last_event
from tests.budgets import count_statements


def test_the_functions_are_listed_with_their_keys(client, admin):
    page = client.get("/admin/functions").get_data(as_text=True)
    for key, label in (("procurement", "Procurement"), ("product", "Product"), ("risk", "Risk")):
        assert f"<code>{key}</code>" in page and label in page


def test_add_a_function(client, admin, db_session):
    response = client.post("/admin/functions", data={"key": "legal", "label": "Legal"})
    assert response.status_code == 302
    assert db_session.get(OrgFunction, "legal").label == "Legal"
    event = last_event(db_session)
    assert (event.kind, event.actor, event.data) == ("function.created", admin.email,
                                                     {"key": "legal", "label": "Legal"})
    assert "Legal" in client.get("/admin/functions").get_data(as_text=True)
    # the new function is offered when creating users
    assert 'value="legal"' in client.get("/admin/users/new").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"key": "risk", "label": "Risk again"}, 409, "already exists"),
        ({"key": "Not A Key!", "label": "Legal"}, 400, "lower-case letters"),
        ({"key": "legal", "label": ""}, 400, "Enter a name."),
    ],
)
def test_adding_a_function_refuses_bad_input(client, admin, db_session, data, status, message):
    functions, events = count(db_session, OrgFunction), count(db_session, Event)
    response = client.post("/admin/functions", data=data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert (count(db_session, OrgFunction), count(db_session, Event)) == (functions, events)


def test_rename_a_function(client, admin, db_session):
    page = client.get("/admin/functions/risk")
    assert page.status_code == 200 and 'value="Risk"' in page.get_data(as_text=True)

    response = client.post("/admin/functions/risk", data={"label": "Risk & Compliance"})

    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(OrgFunction, "risk").label == "Risk & Compliance"
    assert last_event(db_session).data == {"key": "risk", "changes": {
        "label": {"before": "Risk", "after": "Risk & Compliance"}}}


@pytest.mark.usefixtures("steady_minute")  # asserts a kept result: the minute must not turn mid-test
def test_filters_offer_a_new_or_renamed_function_at_once_though_the_labels_are_cached(app, client, admin):
    from forum.core import derived

    def item_filter():
        return client.get("/items").get_data(as_text=True)

    assert ">Risk</option>" in item_filter()
    hits = app.extensions[derived.EXTENSION].hits
    item_filter()
    assert app.extensions[derived.EXTENSION].hits > hits  # the labels came from the cache

    client.post("/admin/functions", data={"key": "legal", "label": "Legal"})
    client.post("/admin/functions/risk", data={"label": "Risk & Compliance"})

    page = item_filter()
    assert 'value="legal">Legal</option>' in page
    assert ">Risk &amp; Compliance</option>" in page and ">Risk</option>" not in page


def test_renaming_refuses_an_empty_name_and_unknown_functions(client, admin, db_session):
    before = count(db_session, Event)
    response = client.post("/admin/functions/risk", data={"label": ""})
    assert response.status_code == 400
    assert "Enter a name." in response.get_data(as_text=True)
    assert client.get("/admin/functions/astrology").status_code == 404
    assert count(db_session, Event) == before


def test_the_functions_page_keeps_its_query_budget(app, client, admin, db_session):
    from forum.auth import service as accounts

    small = count_statements(app, lambda: client.get("/admin/functions"))
    for n in range(10):
        accounts.create_function(db_session, None, f"unit-{n}", f"Unit {n}")
    db_session.commit()
    large = count_statements(app, lambda: client.get("/admin/functions"))
    assert small == large <= 2
