"""Item pages through the Flask test client: file, edit, submit, list, detail with history."""

import re

import pytest
from sqlalchemy import func, select

from forum.core import db
from forum.items.models import DecisionItem
from forum.trail.models import Event
from tests.budgets import BUDGETS, cold_statements

VALID = {
    "title": "Choose a support chatbot vendor",
    "category": "vendor_selection",
    "function": "procurement",
    "summary": "Two vendors; **edge cases** dominate.",
    "vendor": "Acme AI",
    "model_name": "support-llm",
    "model_version": "2026.06.1",
    "exposure": "250000",
    "needed_by": "2030-03-31",
}


def event_count(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Event))


def item_count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(DecisionItem))


@pytest.fixture
def staff(make_user, login):
    user = make_user(name="Pat Procurement")
    login(user)
    return user


def test_file_edit_submit_and_see_it_listed_with_its_history(client, staff, db_session):
    response = client.post("/items/new", data=VALID)
    assert response.status_code == 302
    item_id = int(response.headers["Location"].rsplit("/", 1)[1])

    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "Choose a support chatbot vendor" in page
    assert "<strong>edge cases</strong>" in page
    assert "Draft" in page

    edited = dict(VALID, title="Choose a support chatbot vendor (shortlist of two)", version="1")
    assert client.post(f"/items/{item_id}/edit", data=edited).status_code == 302

    submit = client.post(f"/items/{item_id}/status", data={"action": "submit", "version": "2"})
    assert submit.status_code == 302

    listed = client.get("/items?status=open").get_data(as_text=True)
    assert "Choose a support chatbot vendor (shortlist of two)" in listed

    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "Filed the item" in page
    assert "Edited the item" in page
    assert "Changed the status" in page
    # the edit shows before and after
    assert re.search(r"Title</th>\s*<td>Choose a support chatbot vendor</td>", page)
    kinds = db_session.scalars(select(Event.kind).where(Event.subject == f"item:{item_id}").order_by(Event.seq)).all()
    assert kinds == ["item.created", "item.updated", "item.status_changed"]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("title", "", "Give the item a title."),
        ("title", "x" * 201, "Field cannot be longer than 200 characters."),
        ("category", "teleportation", "Not a valid choice"),
        ("category", "", "Choose the item&#39;s category."),
        ("function", "astrology", "Not a valid choice"),
        ("exposure", "-5", "Give a whole amount of 0 or more."),
        ("exposure", "lots", "Not a valid integer value."),
        ("needed_by", "2020-01-01", "The needed-by date is in the past."),
        ("needed_by", "31/12/2030", "Not a valid date value."),
        ("title", "nul\x00byte", "contains a NUL character"),
        ("summary", "nul\x00byte", "contains a NUL character"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_written(client, staff, db_session, field, value, message):
    before_events, before_items = event_count(db_session), item_count(db_session)
    response = client.post("/items/new", data=dict(VALID, **{field: value}))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert event_count(db_session) == before_events
    assert item_count(db_session) == before_items


def test_the_new_item_form_states_its_limits_and_preselects_no_category(client, staff):
    page = client.get("/items/new").get_data(as_text=True)
    title = re.search(r'<input[^>]*id="title"[^>]*>', page).group(0)
    assert "maxlength" not in title  # the browser does not cut a long title short without a word
    assert re.search(r'id="title-hint">[^<]*Up to 200 characters\.</p>', page)
    assert re.search(r'id="summary-hint">[^<]*Up to 20,000 characters\.</p>', page)
    category = re.search(r'<select[^>]*id="category".*?</select>', page, re.S).group(0)
    options = re.findall(r"<option[^>]*>", category)
    assert options[0] == '<option value="">' and not any("selected" in o for o in options)  # blank first
    long_title = "y" * 250
    refused = client.post("/items/new", data=dict(VALID, title=long_title))
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "Field cannot be longer than 200 characters." in text and long_title in text


def test_input_is_kept_when_the_form_is_refused(client, staff):
    response = client.post("/items/new", data=dict(VALID, title=""))
    assert 'value="Acme AI"' in response.get_data(as_text=True)


def test_stale_version_is_a_conflict_that_keeps_the_input(client, staff, make_item, db_session):
    from forum.items import service

    item = make_item(staff, title="Original title")
    # someone (the same filer, in another tab) saves first
    service.update_item(db_session, staff, item, service.ItemData(
        title="Changed in another tab", category="vendor_selection", function="procurement"), 1)
    db_session.commit()
    events_before = event_count(db_session)

    mine = dict(VALID, title="My careful rewrite", version="1")
    response = client.post(f"/items/{item.id}/edit", data=mine)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "changed while you were editing" in text
    assert 'value="My careful rewrite"' in text
    assert "Changed in another tab" in text  # the current item is shown for comparison
    db_session.expire_all()
    assert db_session.get(DecisionItem, item.id).title == "Changed in another tab"
    assert event_count(db_session) == events_before


def test_an_invalid_transition_names_the_state_and_the_allowed_actions(client, staff, make_item, db_session):
    item = make_item(staff, status="open")
    before = event_count(db_session)
    response = client.post(f"/items/{item.id}/status", data={"action": "submit", "version": str(item.version)})
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Cannot submit an item that is open" in text
    assert "withdraw, escalate" in text
    assert event_count(db_session) == before


def test_transition_with_a_stale_version_is_refused(client, staff, make_item, db_session):
    item = make_item(staff, status="draft")
    response = client.post(f"/items/{item.id}/status", data={"action": "submit", "version": "99"})
    assert response.status_code == 409
    db_session.expire_all()
    assert db_session.get(DecisionItem, item.id).status == "draft"


def test_executive_only_actions_cannot_be_posted_from_the_item_page(client, staff, make_item):
    item = make_item(staff, status="open")
    response = client.post(f"/items/{item.id}/status", data={"action": "close", "version": str(item.version)})
    assert response.status_code == 400


def test_someone_elses_draft_is_not_disclosed(client, make_user, make_item, login):
    owner = make_user()
    other = make_user()
    draft = make_item(owner, title="Secret draft")
    login(other)
    assert client.get(f"/items/{draft.id}").status_code == 404
    assert client.get(f"/items/{draft.id}/edit").status_code == 404
    assert client.post(f"/items/{draft.id}/status", data={"action": "submit", "version": "1"}).status_code == 404
    assert "Secret draft" not in client.get("/items").get_data(as_text=True)


def test_only_the_filer_edits_an_open_item(client, make_user, make_item, login, db_session):
    owner = make_user()
    other = make_user()
    item = make_item(owner, status="open", title="Open for all to see")
    login(other)
    assert client.get(f"/items/{item.id}").status_code == 200
    response = client.post(f"/items/{item.id}/edit", data=dict(VALID, version=str(item.version)))
    assert response.status_code == 403
    db_session.expire_all()
    assert db_session.get(DecisionItem, item.id).title == "Open for all to see"


def test_escalation_is_not_posted_through_the_status_buttons(client, make_user, make_item, login, db_session):
    """Escalating needs a reason: it has its own form (tests/weighing/test_pages.py)."""
    owner = make_user()
    other = make_user(function="risk")
    item = make_item(owner, status="open")
    login(other)
    before = event_count(db_session)
    response = client.post(f"/items/{item.id}/status", data={"action": "escalate", "version": str(item.version)})
    assert response.status_code == 400
    assert "needs a reason" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(DecisionItem, item.id).status == "open"
    assert event_count(db_session) == before


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_admins_do_not_file_items(client, make_user, login, role, db_session):
    login(make_user(role=role, function=None))
    assert client.get("/items/new").status_code == 403
    assert client.post("/items/new", data=VALID).status_code == 403
    assert item_count(db_session) == 0


def test_auditor_reads_drafts(client, make_user, make_item, login):
    owner = make_user()
    draft = make_item(owner, title="Draft under audit")
    login(make_user(role="auditor", function=None))
    assert client.get(f"/items/{draft.id}").status_code == 200


def test_markdown_summary_is_sanitised(client, staff, make_item):
    summary = (
        "<script>alert('x')</script>\n\n"
        '<img src="x" onerror="alert(1)">\n\n'
        "[click](javascript:alert(1)) and [safe](https://example.com)\n\n"
        '<a href="#" onclick="alert(1)">handler</a>'
    )
    item = make_item(staff, summary=summary)
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    prose = page.split('<div class="prose">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in prose
    assert "onerror" not in prose and "onclick" not in prose
    assert "javascript:" not in prose
    assert 'href="https://example.com"' in prose


def test_list_filters_newest_first_and_paginates(client, staff, make_item, make_user):
    risk = make_user(function="risk")
    for n in range(23):
        make_item(staff, status="open", title=f"Procurement item {n:02d}")
    make_item(risk, status="open", title="Risk item", function="risk", category="policy_exception")

    first = client.get("/items").get_data(as_text=True)
    assert first.index("Risk item") < first.index("Procurement item 22") < first.index("Procurement item 21")
    assert "Page 1 of 2" in first

    second = client.get("/items?page=2").get_data(as_text=True)
    assert "Procurement item 00" in second and "Procurement item 22" not in second

    by_function = client.get("/items?function=risk").get_data(as_text=True)
    assert "Risk item" in by_function and "Procurement item" not in by_function

    by_category = client.get("/items?category=policy_exception").get_data(as_text=True)
    assert "Risk item" in by_category and "Procurement item" not in by_category

    by_status = client.get("/items?status=draft").get_data(as_text=True)
    assert "No items match these filters." in by_status


def test_unknown_filter_value_is_a_bad_request_with_a_message(client, staff):
    response = client.get("/items?status=bogus")
    assert response.status_code == 400
    assert "Filter ignored" in response.get_data(as_text=True)


def test_pages_carry_security_headers(client, staff):
    response = client.get("/items")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_missing_page_uses_the_layout(client, staff):
    response = client.get("/items/424242")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "Not found" in text and "Decision Forum" in text


LIST_BUDGET = BUDGETS["forum.item_list"]
DETAIL_BUDGET = BUDGETS["items.detail"]
HOME_BUDGET = BUDGETS["core.home"]


def test_pages_keep_their_query_budget_whatever_the_data_size(app, client, staff, make_item, db_session):
    item = make_item(staff, status="open")
    small = {
        "list": cold_statements(app, lambda: client.get("/items")),
        "detail": cold_statements(app, lambda: client.get(f"/items/{item.id}")),
        "home": cold_statements(app, lambda: client.get("/")),
    }
    for n in range(25):
        make_item(staff, status="open", title=f"More {n}")
    from forum.items import service

    for n in range(10):  # a longer history on the same item
        db_session.refresh(item)
        service.update_item(db_session, staff, item, service.ItemData(
            title=f"Renamed {n}", category="vendor_selection", function="procurement"), item.version)
        db_session.commit()
    large = {
        "list": cold_statements(app, lambda: client.get("/items")),
        "detail": cold_statements(app, lambda: client.get(f"/items/{item.id}")),
        "home": cold_statements(app, lambda: client.get("/")),
    }
    assert small == large
    assert large["list"] <= LIST_BUDGET
    assert large["detail"] <= DETAIL_BUDGET
    assert large["home"] <= HOME_BUDGET


def test_csrf_token_is_required_on_forms(app_config, make_user):
    from forum.app import create_app
    from tests.conftest import PASSWORD, csrf_token_from

    app_config = dict(app_config, WTF_CSRF_ENABLED=True)
    protected = create_app(app_config)
    try:
        user = make_user()
        client = protected.test_client()
        # without a token even the login is refused
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 400
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        ok = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert ok.status_code == 302
        refused = client.post("/items/new", data=VALID)
        assert refused.status_code == 400
        assert "security token" in refused.get_data(as_text=True)
        token = csrf_token_from(client.get("/items/new").get_data(as_text=True))
        assert client.post("/items/new", data=dict(VALID, csrf_token=token)).status_code == 302
    finally:
        db.get_engine(protected).dispose()
