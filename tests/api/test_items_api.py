"""GET/POST /api/v1/items and GET/PATCH /api/v1/items/{id}."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from forum.api import hooks
from forum.items.models import DecisionItem
from forum.trail.models import Event
from tests.api.conftest import assert_problem, counts

NEW = {
    "title": "Choose a support chatbot vendor",
    "summary": "Two vendors; **edge cases** dominate.",
    "category": "vendor_selection",
    "function": "procurement",
    "vendor": "Acme AI",
    "model_name": "support-llm",
    "model_version": "2026.06.1",
    "exposure": 250000,
    "needed_by": "2030-03-31",
}


def test_create_an_item_as_a_draft(api_as, staff, db_session):
    response = api_as(staff).post("/api/v1/items", json=NEW)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/items/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert {k: body[k] for k in NEW} == NEW
    assert body["status"] == "draft" and body["version"] == 1
    assert body["filer"] == {"email": staff.email, "name": "Pat Procurement"}
    assert body["url"].endswith(f"/items/{body['id']}")
    # a new draft has no weight, flags, positions or evidence yet
    assert (body["tier"], body["divergence"], body["flags"], body["escalation_reasons"],
            body["positions"], body["ratings"], body["evidence"]) == (None, False, [], [], [], [], [])
    event = db_session.scalars(select(Event).where(Event.subject == f"item:{body['id']}")).one()
    assert event.kind == "item.created" and event.actor == staff.email


def test_a_minimal_item_needs_only_title_category_and_function(api_as, staff):
    response = api_as(staff).post("/api/v1/items", json={"title": "T", "category": "model_update", "function": "product"})
    assert response.status_code == 201
    assert response.get_json()["exposure"] is None


@pytest.mark.parametrize("body, field, reason", [
    ({**NEW, "title": ""}, "title", "at least 1 character"),
    ({**NEW, "title": "   "}, "title", "Give the item a title"),
    ({**NEW, "title": "x" * 201}, "title", "at most 200 characters"),
    ({**NEW, "title": "a\u0000b"}, "title", "NUL character"),
    ({**NEW, "summary": "\u0000"}, "summary", "NUL character"),
    ({**NEW, "category": "teleportation"}, "category", "Input should be"),
    ({**NEW, "function": "astrology"}, "function", "Unknown function"),
    ({**NEW, "exposure": -5}, "exposure", "greater than or equal to 0"),
    ({**NEW, "exposure": "5"}, "exposure", "valid integer"),
    ({**NEW, "exposure": 5.5}, "exposure", "valid integer"),
    ({**NEW, "exposure": True}, "exposure", "valid integer"),
    ({**NEW, "exposure": 10**30}, "exposure", "less than or equal to"),
    ({**NEW, "needed_by": "2020-01-01"}, "needed_by", "in the past"),
    ({**NEW, "needed_by": "31/12/2030"}, "needed_by", "valid date"),
    ({**NEW, "needed_by": 1700000000}, "needed_by", "valid date"),
    ({**NEW, "title": 42}, "title", "valid string"),
    ({**NEW, "colour": "red"}, "colour", "Unknown field"),
    ({k: v for k, v in NEW.items() if k != "title"}, "title", "Required"),
    (["not", "an", "object"], "body", "should be an object"),
])
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_stored(api_as, staff, db_session, body, field, reason):
    api = api_as(staff)
    before = counts(db_session)
    response = api.post("/api/v1/items", json=body)
    problem = assert_problem(response, 400, field=field)
    assert any(reason in e["reason"] for e in problem["errors"]), problem
    assert counts(db_session) == before


@pytest.mark.parametrize("raw, reason", [
    (b"{", "Not valid JSON"),
    (b"", "Not valid JSON"),
    (b"\xff\xfe garbage", "Not valid JSON"),
    (b'{"title": "x",}', "Not valid JSON"),
    (b"[" * 10000 + b"]" * 10000, "Not valid JSON"),
    (b'{"exposure": 1' + b"0" * 5000 + b"}", "Not valid JSON"),
])
def test_malformed_json_is_a_400(api_as, staff, db_session, raw, reason):
    api = api_as(staff)
    before = counts(db_session)
    response = api.post("/api/v1/items", data=raw, content_type="application/json")
    problem = assert_problem(response, 400, field="body")
    assert reason in problem["errors"][0]["reason"]
    assert counts(db_session) == before


def test_a_body_that_is_not_json_is_a_415_and_a_huge_one_a_413(api_as, staff, db_session):
    api = api_as(staff)
    assert_problem(api.post("/api/v1/items", data="title=x", content_type="application/x-www-form-urlencoded"),
                   415, "application/json")
    assert_problem(api.post("/api/v1/items", data=json.dumps(NEW)), 415)
    huge = json.dumps({**NEW, "summary": "x" * (1024 * 1024 + 1)})
    assert_problem(api.post("/api/v1/items", data=huge, content_type="application/json"), 413)
    assert counts(db_session)[0] == 0


def test_auditors_and_admins_cannot_file_items(api_as, make_user):
    for role in ("auditor", "admin"):
        user = make_user(role=role, function=None)
        response = api_as(user).post("/api/v1/items", json=NEW)
        assert_problem(response, 403, "lacks the scope items:write")


def test_get_an_item_with_its_etag(api_as, staff, make_item):
    item = make_item(staff, status="open", title="Visible")
    response = api_as(staff).get(f"/api/v1/items/{item.id}")
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{item.version}"'
    assert response.get_json()["title"] == "Visible"


def test_drafts_of_others_are_not_disclosed_but_auditors_see_them(api_as, staff, make_user, make_item):
    draft = make_item(staff, title="My draft")
    other = make_user(function="risk")
    assert_problem(api_as(other).get(f"/api/v1/items/{draft.id}"), 404, f"no item {draft.id}")
    listed = api_as(other).get("/api/v1/items").get_json()["items"]
    assert draft.id not in [i["id"] for i in listed]
    auditor = make_user(role="auditor", function=None)
    assert api_as(auditor).get(f"/api/v1/items/{draft.id}").status_code == 200
    assert draft.id in [i["id"] for i in api_as(auditor).get("/api/v1/items").get_json()["items"]]


def test_unknown_and_out_of_range_ids_are_404(api_as, staff):
    api = api_as(staff)
    assert_problem(api.get("/api/v1/items/999"), 404)
    assert_problem(api.get("/api/v1/items/99999999999999999999999"), 404)
    assert_problem(api.get("/api/v1/items/-1"), 404)
    assert_problem(api.get("/api/v1/items/abc"), 404)


def test_list_filters_and_search(api_as, staff, make_user, make_item):
    risk = make_user(function="risk")
    a = make_item(staff, status="open", title="Chatbot vendor", category="vendor_selection")
    b = make_item(risk, status="escalated", title="Fraud model update", category="model_update",
                  summary="Drift after the 100% rollout")
    make_item(staff, title="A draft of mine")
    api = api_as(staff)

    def ids(query):
        response = api.get(f"/api/v1/items?{query}")
        assert response.status_code == 200, response.get_json()
        return [i["id"] for i in response.get_json()["items"]]

    assert ids("status=open") == [a.id]
    assert ids("status=escalated&function=risk") == [b.id]
    assert ids("category=model_update") == [b.id]
    assert ids("q=CHATBOT") == [a.id]
    assert ids("q=100%25") == [b.id]  # LIKE wildcards are matched literally
    assert ids("q=_") == []
    assert ids("tier=strategic") == []  # no ratings yet, so no item has a tier
    assert ids("status=&q=") == ids("")
    assert_problem(api.get("/api/v1/items?status=lost"), 400, field="status")
    assert_problem(api.get("/api/v1/items?tier=huge"), 400, field="tier")
    assert_problem(api.get("/api/v1/items?function=astrology"), 400, "Unknown function", field="function")
    assert_problem(api.get("/api/v1/items?limit=201"), 400, field="limit")
    assert_problem(api.get("/api/v1/items?limit=ten"), 400, field="limit")
    assert_problem(api.get("/api/v1/items?statuss=open"), 400, field="statuss")
    assert_problem(api.get("/api/v1/items?status=open&status=draft"), 400, field="status")
    assert_problem(api.get("/api/v1/items?q=a%00b"), 400, "NUL")


def test_pages_follow_the_cursor_and_a_damaged_cursor_is_a_400(api_as, staff, make_item):
    made = [make_item(staff, status="open", title=f"Item {n}").id for n in range(7)]
    api = api_as(staff)
    seen, cursor = [], None
    while True:
        url = "/api/v1/items?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).get_json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)
    for damaged in ("nope", "W10", "eyJ4IjoxfQ", "WyIyMDI2LTAxLTAxIiwxXQ", "WyJ4Iiw1XQ"):
        assert_problem(api.get(f"/api/v1/items?cursor={damaged}"), 400, "cursor is damaged", field="cursor")


def test_patch_needs_if_match_and_refuses_a_stale_version(api_as, staff, make_item, db_session):
    item = make_item(staff, status="open", title="Before")
    api = api_as(staff)
    url = f"/api/v1/items/{item.id}"
    before = counts(db_session)
    assert_problem(api.patch(url, json={"title": "After"}), 428, "If-Match")
    assert_problem(api.patch(url, json={"title": "After"}, headers={"If-Match": "*"}), 428)
    assert_problem(api.patch(url, json={"title": "After"}, headers={"If-Match": '"7"'}), 412, "version 2")
    assert_problem(api.patch(url, json={"title": "After"}, headers={"If-Match": 'W/"2"'}), 412)
    assert counts(db_session) == before

    etag = api.get(url).headers["ETag"]
    response = api.patch(url, json={"title": "After", "model_version": "2026.11.2", "exposure": None},
                         headers={"If-Match": etag})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["title"], body["model_version"], body["version"]) == ("After", "2026.11.2", 3)
    assert response.headers["ETag"] == '"3"'
    event = db_session.scalars(select(Event).order_by(Event.seq.desc())).first()
    assert event.kind == "item.updated" and event.data["changes"]["title"] == {"before": "Before", "after": "After"}
    # the old ETag is stale now
    assert_problem(api.patch(url, json={"title": "Again"}, headers={"If-Match": etag}), 412)


def test_patch_keeps_absent_fields_and_an_empty_patch_changes_nothing(api_as, staff, db_session):
    api = api_as(staff)
    created = api.post("/api/v1/items", json=NEW).get_json()
    url = f"/api/v1/items/{created['id']}"
    same = api.patch(url, json={}, headers={"If-Match": '"1"'})
    assert same.status_code == 200 and same.get_json()["version"] == 1
    changed = api.patch(url, json={"summary": "New"}, headers={"If-Match": '"1"'}).get_json()
    assert changed["summary"] == "New" and changed["vendor"] == NEW["vendor"] and changed["exposure"] == 250000


@pytest.mark.parametrize("body, field", [
    ({"title": None}, "title"),
    ({"title": ""}, "title"),
    ({"needed_by": "2001-01-01"}, "needed_by"),
    ({"status": "closed"}, "status"),
    ({"model_version": "v\u0000"}, "model_version"),
])
def test_patch_with_bad_input_is_a_400_and_changes_nothing(api_as, staff, make_item, db_session, body, field):
    item = make_item(staff, status="open")
    api = api_as(staff)
    before = counts(db_session)
    response = api.patch(f"/api/v1/items/{item.id}", json=body, headers={"If-Match": '"2"'})
    assert_problem(response, 400, field=field)
    assert counts(db_session) == before


def test_patch_is_refused_for_others_and_past_open(api_as, staff, make_user, make_item, db_session):
    item = make_item(staff, status="open")
    other = make_user(function="procurement")
    assert_problem(api_as(other).patch(f"/api/v1/items/{item.id}", json={"title": "Mine"},
                                       headers={"If-Match": '"2"'}), 403, "Only the person who filed")
    escalated = make_item(staff, status="escalated")
    response = api_as(staff).patch(f"/api/v1/items/{escalated.id}", json={"title": "Late"},
                                   headers={"If-Match": f'"{escalated.version}"'})
    assert_problem(response, 409, "escalated")


def test_item_extras_from_the_forum_hook_are_published_and_validated(api_as, staff, make_item, monkeypatch):
    item = make_item(staff, status="open")
    calls = []

    def extras(session, viewer, rows):
        calls.append([r.id for r in rows])
        return {item.id: {
            "tier": "strategic", "divergence": True, "flags": ["escalation_recommended"],
            "escalation_reasons": ["weight divergence"],
            "positions": [{"function": "risk", "stance": "concerns", "rationale": "edge cases",
                           "by": "risk@example.com", "at": "2026-11-01T10:00:00Z"}],
            "ratings": [{"function": "risk", "scores": {"irreversibility": 3}, "total": 14, "tier": "strategic"}],
            "evidence": [], "unpublished": "dropped",
        }}

    monkeypatch.setattr(hooks, "item_extras", extras)
    api = api_as(staff)
    body = api.get(f"/api/v1/items/{item.id}").get_json()
    assert body["tier"] == "strategic" and body["divergence"] is True
    assert body["positions"][0]["stance"] == "concerns" and body["ratings"][0]["total"] == 14
    assert "unpublished" not in body
    api.get("/api/v1/items")
    assert calls == [[item.id], [item.id]]  # one call per page, never per item


def test_tier_filter_applies_the_forum_hooks_condition(api_as, staff, make_item, monkeypatch):
    a = make_item(staff, status="open")
    make_item(staff, status="open")
    monkeypatch.setattr(hooks, "tier_condition", lambda tier: DecisionItem.id == a.id)
    assert [i["id"] for i in api_as(staff).get("/api/v1/items?tier=tactical").get_json()["items"]] == [a.id]


def test_list_costs_the_same_number_of_queries_whatever_the_page_size(app, api_as, staff, make_item):
    from tests.budgets import BUDGETS, count_statements

    api = api_as(staff)
    make_item(staff, status="open")
    api.get("/api/v1/items")  # the first call records the token's use (one UPDATE a minute)
    small = count_statements(app, lambda: api.get("/api/v1/items"))
    for n in range(30):
        make_item(staff, status="open", title=f"More {n}")
    large = count_statements(app, lambda: api.get("/api/v1/items"))
    assert small == large <= BUDGETS["api.list_items"], (small, large)
