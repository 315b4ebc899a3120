"""Rules of decision items: filing, editing, the lifecycle table and listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from forum.core import clock
from forum.core.errors import Conflict, PermissionDenied, ValidationError
from forum.items import service
from forum.items.models import DecisionItem
from forum.items.service import ItemData, ItemFilters
from forum.trail.models import Event


def event_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Event))


def events_of(session, item) -> list[Event]:
    return list(session.scalars(
        select(Event).where(Event.subject == item.subject).order_by(Event.seq)
    ))


def data_for(item: DecisionItem, **changes) -> ItemData:
    """The item's current values as form input, with ``changes`` applied."""
    values = {
        "title": item.title, "category": item.category, "function": item.function_key,
        "summary": item.summary, "vendor": item.vendor, "model_name": item.model_name,
        "model_version": item.model_version, "exposure": item.exposure, "needed_by": item.needed_by,
    }
    return ItemData(**(values | changes))


@pytest.fixture
def staff(make_user):
    return make_user("staff", function="procurement")


@pytest.fixture
def other_staff(make_user):
    return make_user("staff", function="risk")


# ------------------------------------------------------------------------------------- filing
def test_create_item_stores_a_draft_and_writes_one_created_event(db_session, staff):
    before = event_count(db_session)

    item = service.create_item(db_session, staff, ItemData(
        title="  Pick a vendor for contract review ", category="vendor_selection",
        function="procurement", vendor="Acme", exposure=250_000,
        needed_by=clock.now().date() + timedelta(days=30),
    ))
    db_session.commit()

    assert item.status == "draft"
    assert item.title == "Pick a vendor for contract review"
    assert item.filer_id == staff.id
    assert item.version == 1
    assert event_count(db_session) == before + 1
    (event,) = events_of(db_session, item)
    assert event.kind == "item.created"
    assert event.actor == staff.email
    assert event.data["title"] == "Pick a vendor for contract review"
    assert event.data["status"] == "draft"
    assert event.data["exposure"] == 250_000
    assert event.data["needed_by"] == item.needed_by.isoformat()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"category": "lunch_order"}, "category"),
        ({"function": "marketing"}, "function"),
        ({"exposure": -1}, "exposure"),
        ({"needed_by": "past"}, "needed_by"),
    ],
)
def test_create_item_refuses_invalid_input_and_writes_no_event(db_session, staff, changes, field):
    values = {"title": "A fine title", "category": "model_update", "function": "procurement"} | changes
    if values.get("needed_by") == "past":
        values["needed_by"] = clock.now().date() - timedelta(days=1)
    events_before = event_count(db_session)

    with pytest.raises(ValidationError) as refused:
        service.create_item(db_session, staff, ItemData(**values))

    assert refused.value.field == field
    assert event_count(db_session) == events_before
    assert db_session.scalar(select(func.count()).select_from(DecisionItem)) == 0


def test_a_title_of_exactly_200_characters_is_accepted(db_session, staff):
    item = service.create_item(db_session, staff, ItemData(
        title="x" * 200, category="model_update", function="procurement"))
    assert len(item.title) == 200


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_admins_cannot_file_items(db_session, make_user, role):
    user = make_user(role, function=None)
    events_before = event_count(db_session)

    with pytest.raises(PermissionDenied):
        service.create_item(db_session, user, ItemData(
            title="Not mine to file", category="model_update", function="procurement"))

    assert event_count(db_session) == events_before


def test_executives_can_file_items(db_session, make_user):
    executive = make_user("executive", function="product")
    item = service.create_item(db_session, executive, ItemData(
        title="Deploy the new summariser", category="model_deployment", function="product"))
    assert item.filer_id == executive.id


# ------------------------------------------------------------------------------------ editing
def test_update_item_records_before_and_after_and_bumps_the_version(db_session, staff, make_item):
    item = make_item(staff, title="Old title", exposure=1000)
    events_before = event_count(db_session)

    changes = service.update_item(
        db_session, staff, item, data_for(item, title="New title", exposure=2000), expected_version=1
    )
    db_session.commit()

    assert changes == {
        "title": {"before": "Old title", "after": "New title"},
        "exposure": {"before": 1000, "after": 2000},
    }
    assert item.version == 2
    assert event_count(db_session) == events_before + 1
    event = events_of(db_session, item)[-1]
    assert event.kind == "item.updated"
    assert event.data == {"changes": changes, "version": 2}
    db_session.expire_all()
    assert db_session.get(DecisionItem, item.id).title == "New title"


def test_update_item_without_changes_writes_nothing(db_session, staff, make_item):
    item = make_item(staff)
    events_before = event_count(db_session)

    changes = service.update_item(db_session, staff, item, data_for(item), expected_version=1)
    db_session.commit()

    assert changes == {}
    assert item.version == 1
    assert event_count(db_session) == events_before


def test_update_item_with_a_stale_version_is_a_conflict_and_changes_nothing(db_session, staff, make_item):
    item = make_item(staff, title="Original")
    service.update_item(db_session, staff, item, data_for(item, title="Second"), expected_version=1)
    db_session.commit()
    events_before = event_count(db_session)

    with pytest.raises(Conflict) as refused:
        service.update_item(db_session, staff, item, data_for(item, title="Third"), expected_version=1)
    db_session.rollback()

    assert refused.value.field == "version"
    assert event_count(db_session) == events_before
    db_session.expire_all()
    stored = db_session.get(DecisionItem, item.id)
    assert (stored.title, stored.version) == ("Second", 2)


def test_a_concurrent_edit_in_another_session_is_a_conflict_not_an_overwrite(app, db_session, staff, make_item):
    item = make_item(staff, title="Original")
    other = app.extensions["forum.sessionmaker"]()
    try:
        their_copy = other.get(DecisionItem, item.id)
        # We save first ...
        service.update_item(db_session, staff, item, data_for(item, title="Ours"), expected_version=1)
        db_session.commit()
        # ... then they save what they loaded at version 1.
        with pytest.raises(Conflict) as refused:
            service.update_item(other, staff, their_copy, data_for(their_copy, title="Theirs"),
                                expected_version=1)
        other.rollback()
    finally:
        other.close()

    assert refused.value.field == "version"
    db_session.expire_all()
    stored = db_session.get(DecisionItem, item.id)
    assert (stored.title, stored.version) == ("Ours", 2)


def test_only_the_filer_can_edit_an_item(db_session, staff, other_staff, make_item):
    item = make_item(staff)
    events_before = event_count(db_session)

    with pytest.raises(PermissionDenied):
        service.update_item(db_session, other_staff, item, data_for(item, title="Mine now"),
                            expected_version=1)

    assert event_count(db_session) == events_before


def test_an_escalated_item_can_no_longer_be_edited(db_session, staff, make_item):
    item = make_item(staff, status="escalated")

    with pytest.raises(Conflict) as refused:
        service.update_item(db_session, staff, item, data_for(item, title="Late change"),
                            expected_version=item.version)

    assert refused.value.field == "status"


# -------------------------------------------------------------------------------- transitions
def test_submit_moves_a_draft_to_open_and_records_it(db_session, staff, make_item):
    item = make_item(staff)

    service.transition(db_session, staff, item, "submit")
    db_session.commit()

    assert item.status == "open"
    assert item.version == 2
    event = events_of(db_session, item)[-1]
    assert event.kind == "item.status_changed"
    assert event.data == {"action": "submit", "from": "draft", "to": "open"}


@pytest.mark.parametrize(("start", "end"), [("open", "draft"), ("escalated", "open")])
def test_the_filer_can_withdraw(db_session, staff, make_item, start, end):
    item = make_item(staff, status=start)

    service.transition(db_session, staff, item, "withdraw")

    assert item.status == end
    assert events_of(db_session, item)[-1].data == {"action": "withdraw", "from": start, "to": end}


def test_another_staff_member_can_escalate(db_session, staff, other_staff, make_item):
    item = make_item(staff, status="open")

    service.transition(db_session, other_staff, item, "escalate", note="Strategic weight")
    db_session.commit()

    assert item.status == "escalated"
    event = events_of(db_session, item)[-1]
    assert event.actor == other_staff.email
    assert event.data == {"action": "escalate", "from": "open", "to": "escalated",
                          "note": "Strategic weight"}


def test_another_staff_member_cannot_withdraw(db_session, staff, other_staff, make_item):
    item = make_item(staff, status="open")

    with pytest.raises(PermissionDenied):
        service.transition(db_session, other_staff, item, "withdraw")

    assert item.status == "open"


def test_an_invalid_transition_names_the_state_and_the_allowed_actions(db_session, staff, make_item):
    item = make_item(staff)
    events_before = event_count(db_session)

    with pytest.raises(Conflict) as refused:
        service.transition(db_session, staff, item, "escalate")

    message = refused.value.reason
    assert "draft" in message
    assert "allowed actions are: submit" in message
    assert item.status == "draft"
    assert event_count(db_session) == events_before


def test_a_transition_with_a_stale_version_is_a_conflict(db_session, staff, make_item):
    item = make_item(staff, status="open")  # version 2 after submit

    with pytest.raises(Conflict) as refused:
        service.transition(db_session, staff, item, "withdraw", expected_version=1)

    assert refused.value.field == "version"
    assert item.status == "open"


def test_an_unknown_action_is_refused(db_session, staff, make_item):
    item = make_item(staff)
    with pytest.raises(ValidationError) as refused:
        service.transition(db_session, staff, item, "teleport")
    assert refused.value.field == "action"


# ------------------------------------------------------------------------------------ listing
def ids(page) -> list[int]:
    return [item.id for item in page.items]


def test_list_items_hides_other_users_drafts_but_auditors_see_them(
    db_session, staff, other_staff, make_user, make_item
):
    auditor = make_user("auditor", function=None)
    own_draft = make_item(staff)
    their_draft = make_item(other_staff)
    their_open = make_item(other_staff, status="open")

    seen_by_staff = set(ids(service.list_items(db_session, staff, ItemFilters())))
    seen_by_auditor = set(ids(service.list_items(db_session, auditor, ItemFilters())))

    assert seen_by_staff == {own_draft.id, their_open.id}
    assert seen_by_auditor == {own_draft.id, their_draft.id, their_open.id}


def test_list_items_filters_by_status_category_and_function(db_session, staff, other_staff, make_item):
    draft = make_item(staff, category="vendor_selection")
    opened = make_item(staff, status="open", category="model_update")
    risk = make_item(other_staff, status="open", category="model_update", function="risk")

    def listed(**filters):
        return set(ids(service.list_items(db_session, staff, ItemFilters(**filters))))

    assert listed(status="open") == {opened.id, risk.id}
    assert listed(status="draft") == {draft.id}
    assert listed(category="model_update") == {opened.id, risk.id}
    assert listed(function="risk") == {risk.id}
    assert listed(function="procurement", category="model_update") == {opened.id}
    assert listed(mine=True) == {draft.id, opened.id}


def test_list_items_refuses_an_unknown_status_filter(db_session, staff):
    with pytest.raises(ValidationError) as refused:
        service.list_items(db_session, staff, ItemFilters(status="lost"))
    assert refused.value.field == "status"


def test_list_items_shows_the_newest_first(db_session, staff, make_item):
    base = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    # Created out of id order, so the order can only come from the creation time.
    with clock.override(lambda: base + timedelta(hours=2)):
        newest = make_item(staff, status="open")
    with clock.override(lambda: base):
        oldest = make_item(staff, status="open")
    with clock.override(lambda: base + timedelta(hours=1)):
        middle = make_item(staff, status="open")

    assert ids(service.list_items(db_session, staff, ItemFilters())) == [newest.id, middle.id, oldest.id]


def test_list_items_paginates(db_session, staff, make_item):
    for _ in range(25):
        make_item(staff, status="open")

    first = service.list_items(db_session, staff, ItemFilters(), page=1, per_page=20)
    second = service.list_items(db_session, staff, ItemFilters(), page=2, per_page=20)

    assert (first.total, first.pages, len(first.items)) == (25, 2, 20)
    assert (second.page, len(second.items)) == (2, 5)
    assert first.has_next and not first.has_prev
    assert second.has_prev and not second.has_next
    assert set(ids(first)).isdisjoint(ids(second))
    assert len(set(ids(first)) | set(ids(second))) == 25
