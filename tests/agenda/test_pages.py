"""Agenda pages through the test client: planning, ordering, deciding, minutes, the pack, the
register, actions; bad input, conflicts, permissions, and query budgets."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.agenda import pack
from forum.agenda.decisions import AmendmentData, DecisionData, amend_decision, get_decision, record_decision
from forum.agenda.entries import declare_conflict, get_entry
from forum.agenda.meetings import change_meeting_status, get_meeting
from forum.agenda.models import Action, AgendaEntry, Meeting
from forum.core import clock
from tests import budgets as shared
from tests.agenda.conftest import counts
from tests.budgets import cold_statements, count_statements

# Results from the derived cache are asserted here: the minute must not turn mid-test.
pytestmark = pytest.mark.usefixtures("steady_minute")

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def in_days(n: int) -> str:
    return (clock.now().date() + timedelta(days=n)).isoformat()


def entry_id(db_session, meeting, item) -> int:
    return db_session.scalar(select(AgendaEntry.id).where(
        AgendaEntry.meeting_id == meeting.id, AgendaEntry.item_id == item.id))


def decision_form(prefix: str, **values) -> dict:
    data = {f"{prefix}-outcome": "approved", f"{prefix}-rationale": "The **edge cases** pass."}
    data.update({f"{prefix}-{k}": v for k, v in values.items()})
    return data


@pytest.fixture
def as_chair(chair, login):
    login(chair)
    return chair


# ------------------------------------------------------------------------- the whole journey
def test_executive_plans_runs_and_closes_a_meeting_through_the_pages(
        client, db_session, as_chair, cfo, filer, owner, make_item):
    a = make_item(filer, status="escalated", title="Pick the chatbot vendor", summary="Two **vendors**.")
    b = make_item(filer, status="escalated", title="Update the fraud model")

    response = client.post("/meetings/new", data={
        "title": "December forum", "starts_at": (clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "60"})
    assert response.status_code == 302
    meeting_id = int(response.headers["Location"].rsplit("/", 1)[1])

    page = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Add an item from the escalation queue" in page
    assert "Pick the chatbot vendor" in page and "Update the fraud model" in page

    for item, minutes in ((a, "20"), (b, "50")):
        added = client.post(f"/meetings/{meeting_id}/entries", data={
            "add-item": str(item.id), "add-time_box_minutes": minutes, "add-presenter": str(owner.id)})
        assert added.status_code == 302, added.get_data(as_text=True)
    meeting = db_session.get(Meeting, meeting_id)
    second = entry_id(db_session, meeting, b)
    assert client.post(f"/meetings/{meeting_id}/entries/{second}/position",
                       data={"to_position": "1"}).status_code == 302

    page = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert page.index("Update the fraud model") < page.index("Pick the chatbot vendor")
    assert "<strong>70</strong> of 60 minutes" in page and "10 minutes over" in page
    assert "presented by Owner Staff" in page

    for action in ("publish", "start"):
        response = client.post(f"/meetings/{meeting_id}/status", data={"action": action, "version": str(
            db_session.scalar(select(Meeting.version).where(Meeting.id == meeting_id)))})
        assert response.status_code == 302
        db_session.expire_all()

    page = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    first = entry_id(db_session, meeting, a)
    assert f'name="d{first}-rationale"' in page
    assert f'name="d{first}-actions-2-text"' in page  # three blank action rows, no JS

    decided = client.post(f"/meetings/{meeting_id}/entries/{first}/decision", data=decision_form(
        f"d{first}", outcome="approved_with_conditions", conditions="Monthly drift report.",
        **{"deciders": [str(as_chair.id), str(cfo.id)], "expires_on": in_days(200),
           "actions-0-text": "Publish the drift report", "actions-0-owner": str(owner.id),
           "actions-0-due_on": in_days(14)}))
    assert decided.status_code == 302, decided.get_data(as_text=True)
    deferred = client.post(f"/meetings/{meeting_id}/entries/{second}/decision", data=decision_form(
        f"d{second}", outcome="more_evidence_needed", deciders=[str(as_chair.id)]))
    assert deferred.status_code == 302

    unconfirmed = client.post(f"/meetings/{meeting_id}/status", data={
        "action": "close", "version": str(db_session.scalar(select(Meeting.version).where(Meeting.id == meeting_id)))})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm" in unconfirmed.get_data(as_text=True)
    db_session.expire_all()
    closed = client.post(f"/meetings/{meeting_id}/status", data={
        "action": "close", "confirm": "y",
        "version": str(db_session.scalar(select(Meeting.version).where(Meeting.id == meeting_id)))})
    assert closed.status_code == 302

    minutes = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Minutes: December forum" in minutes
    assert "Cfo Exec, Chair Exec" in minutes  # present, by name
    assert "Approved with conditions" in minutes and "Monthly drift report." in minutes
    assert "<strong>edge cases</strong>" in minutes
    assert "Publish the drift report" in minutes
    assert "Record the decision" not in minutes and "Move up" not in minutes

    register = client.get("/decisions?outcome=approved_with_conditions").get_data(as_text=True)
    assert "Pick the chatbot vendor" in register and "Update the fraud model" not in register

    item_page = client.get(f"/items/{a.id}").get_data(as_text=True)
    assert "Executive agenda" in item_page and "December forum" in item_page
    assert "Recorded the decision" in item_page  # history describer


def test_pack_gathers_every_entry_with_summary_facts_and_escalation_reasons(
        client, db_session, as_chair, filer, make_item, make_meeting):
    a = make_item(filer, status="escalated", title="First", summary="Has a **bold** point.", vendor="Acme AI")
    b = make_item(filer, status="escalated", title="Second")
    meeting = make_meeting(as_chair, items=[a, b])
    page = client.get(f"/meetings/{meeting.id}/pack").get_data(as_text=True)
    assert page.count('class="pack-entry"') == 2
    assert "<strong>bold</strong>" in page and "Acme AI" in page
    assert "Escalation reasons" in page
    print_css = (PROJECT_ROOT / "forum" / "static" / "print.css").read_text()
    assert re.search(r"\.pack-entry \{[^}]*break-before: page", print_css)


def test_pack_sections_are_built_once_for_all_items(
        client, db_session, as_chair, filer, make_item, make_meeting, app, tmp_path, monkeypatch):
    calls = []

    def build(session, items):
        calls.append(sorted(i.id for i in items))
        return {i.id: {"tier": f"tier of {i.title}"} for i in items}

    monkeypatch.setattr(pack, "SECTIONS", (*pack.SECTIONS, pack.PackSection("test-tier", "agenda/pack_escalation.html", build)))
    a, b = make_item(filer, status="escalated"), make_item(filer, status="escalated")
    meeting = make_meeting(as_chair, items=[a, b])
    assert client.get(f"/meetings/{meeting.id}/pack").status_code == 200
    assert calls == [sorted([a.id, b.id])]


# --------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("values, message", [
    ({"rationale": ""}, "Give the rationale for the decision."),
    ({"outcome": "approved_with_conditions"}, "An approval with conditions needs its conditions."),
    ({"actions-0-text": "Report", "actions-0-owner": "OWNER", "actions-0-due_on": "PAST"}, "is in the past"),
    ({"actions-0-text": "Report", "actions-0-owner": "GONE", "actions-0-due_on": "FUTURE"}, "deactivated"),
    ({"deciders": []}, "Tick the executives present"),
])
def test_bad_decisions_are_refused_on_the_page_with_input_kept_and_nothing_stored(
        client, db_session, as_chair, filer, owner, make_user, make_item, make_meeting, values, message):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(as_chair, status="in_session", items=[item])
    eid = entry_id(db_session, meeting, item)
    gone = make_user(function="risk", active=False)
    swap = {"OWNER": str(owner.id), "GONE": str(gone.id), "PAST": in_days(-1), "FUTURE": in_days(5)}
    form = decision_form(f"d{eid}", deciders=[str(as_chair.id)], **{k: swap.get(v, v) for k, v in values.items()
                                                                    if k != "deciders"})
    if "deciders" in values:
        form.pop(f"d{eid}-deciders")
    before = counts(db_session)
    response = client.post(f"/meetings/{meeting.id}/entries/{eid}/decision", data=form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    if values.get("rationale") != "":
        assert "The **edge cases** pass." in html  # the input is kept
    assert counts(db_session) == before


def test_a_decision_outside_the_session_is_refused_with_409(client, db_session, as_chair, filer, make_item, make_meeting):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(as_chair, status="published", items=[item])
    eid = entry_id(db_session, meeting, item)
    before = counts(db_session)
    response = client.post(f"/meetings/{meeting.id}/entries/{eid}/decision",
                           data=decision_form(f"d{eid}", deciders=[str(as_chair.id)]))
    assert response.status_code == 409
    assert "while the meeting is in session" in response.get_data(as_text=True)
    assert counts(db_session) == before


def test_a_second_recorder_gets_a_conflict_with_their_input_kept(
        client, db_session, as_chair, cfo, filer, make_item, make_meeting, entry_of):
    item = make_item(filer, status="escalated", title="Contested")
    meeting = make_meeting(as_chair, status="in_session", items=[item])
    eid = entry_id(db_session, meeting, item)
    record_decision(db_session, cfo, entry_of(meeting, item),
                    DecisionData("rejected", "Too risky.", decider_ids=[cfo.id]))
    db_session.commit()
    before = counts(db_session)
    response = client.post(f"/meetings/{meeting.id}/entries/{eid}/decision",
                           data=decision_form(f"d{eid}", rationale="My own reasons.", deciders=[str(as_chair.id)]))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "has just been recorded by someone else" in html
    assert "My own reasons." in html and "Too risky." in html
    assert counts(db_session) == before


def test_bad_reorder_and_bad_agenda_input_are_refused(client, db_session, as_chair, filer, make_item, make_meeting):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(as_chair, items=[item])
    eid = entry_id(db_session, meeting, item)
    before = counts(db_session)
    moved = client.post(f"/meetings/{meeting.id}/entries/{eid}/position", data={"to_position": "5"})
    assert moved.status_code == 400
    assert "There is no position 5 on this agenda" in moved.get_data(as_text=True)
    boxed = client.post(f"/meetings/{meeting.id}/entries/{eid}", data={f"e{eid}-time_box_minutes": "0"})
    assert boxed.status_code == 400 and "Between 1 and 240 minutes." in boxed.get_data(as_text=True)
    added = client.post(f"/meetings/{meeting.id}/entries", data={"add-item": "", "add-time_box_minutes": "10"})
    assert added.status_code == 400 and "Choose an item from the escalation queue." in added.get_data(as_text=True)
    # The meeting page shown with the refused form is built afresh, and is HTML, not escaped text.
    assert 'aria-invalid="true"' in added.get_data(as_text=True) and "&lt;" not in added.get_data(as_text=True)
    other = client.post(f"/meetings/{meeting.id}/entries", data={"add-item": str(item.id), "add-time_box_minutes": "10"})
    assert other.status_code == 409 and "already on this meeting" in other.get_data(as_text=True)
    past = client.post("/meetings/new", data={"title": "Past", "starts_at": "2020-01-01T10:00", "duration_minutes": "60"})
    assert past.status_code == 400 and "The start time is in the past." in past.get_data(as_text=True)
    assert counts(db_session) == before
    assert client.get(f"/meetings/{meeting.id}/entries/{eid + 99}/position").status_code == 405
    assert client.post(f"/meetings/{meeting.id}/entries/{eid + 99}/position", data={"to_position": "1"}).status_code == 404
    assert client.get("/meetings/999999").status_code == 404


def test_a_recused_executive_sees_why_and_gets_no_decision_form(
        client, db_session, as_chair, make_item, make_meeting):
    item = make_item(as_chair, status="escalated", title="My own item")
    meeting = make_meeting(as_chair, status="in_session", items=[item])
    eid = entry_id(db_session, meeting, item)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "You are recused from this item (filed the item)" in page
    assert f'name="d{eid}-rationale"' not in page
    refused = client.post(f"/meetings/{meeting.id}/entries/{eid}/decision",
                          data=decision_form(f"d{eid}", deciders=[str(as_chair.id)]))
    assert refused.status_code == 403


def test_declaring_a_conflict_on_the_page(client, db_session, as_chair, filer, make_item, make_meeting):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(as_chair, status="in_session", items=[item])
    eid = entry_id(db_session, meeting, item)
    empty = client.post(f"/meetings/{meeting.id}/entries/{eid}/conflict", data={f"c{eid}-reason": ""})
    assert empty.status_code == 400 and "Say what the conflict of interest is." in empty.get_data(as_text=True)
    ok = client.post(f"/meetings/{meeting.id}/entries/{eid}/conflict", data={f"c{eid}-reason": "Sister at the vendor"})
    assert ok.status_code == 302
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Recused: Chair Exec (declared a conflict: Sister at the vendor)" in page


def test_amendment_page(client, db_session, as_chair, filer, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(as_chair, status="in_session", items=[item])
    decision = decide(as_chair, meeting, item, "approved", rationale="Fine.")
    change_meeting_status(db_session, as_chair, get_meeting(db_session, meeting.id), "close")
    db_session.commit()
    form = client.get(f"/decisions/{decision.id}/amendment").get_data(as_text=True)
    assert "Fine." in form
    missing = client.post(f"/decisions/{decision.id}/amendment", data={"outcome": "approved", "rationale": "Better."})
    assert missing.status_code == 400 and "Say why the decision is amended." in missing.get_data(as_text=True)
    done = client.post(f"/decisions/{decision.id}/amendment", data={
        "outcome": "approved", "rationale": "Fine, and cheaper.", "reason": "Typo in the minutes."})
    assert done.status_code == 302
    minutes = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Amended (revision 2)" in minutes and "Typo in the minutes." in minutes


# ------------------------------------------------------------------------------------ actions
def test_owner_marks_an_action_done_and_the_item_closes(
        client, db_session, chair, filer, owner, login, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated", title="Conditional")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved_with_conditions",
                      actions=[("Publish drift report", owner, clock.now().date() + timedelta(days=3))])
    action_id = decision.actions[0].id
    login(owner)
    page = client.get("/actions").get_data(as_text=True)
    assert "My open actions" in page and "Publish drift report" in page
    assert "All open actions" not in page  # staff see their own
    empty = client.post(f"/actions/{action_id}/completion", data={f"a{action_id}-note": ""})
    assert empty.status_code == 400 and "Say how the action was done." in empty.get_data(as_text=True)
    done = client.post(f"/actions/{action_id}/completion", data={f"a{action_id}-note": "Live on the wiki."})
    assert done.status_code == 302
    db_session.expire_all()
    assert db_session.get(Action, action_id).done_note == "Live on the wiki."
    assert db_session.get(type(item), item.id).status == "closed"


def test_the_last_action_of_an_amended_decision_closes_the_item_without_an_error(
        client, db_session, chair, filer, owner, login, make_item, make_meeting, decide):
    """Found by the browser XSS sweep: marking the last action done after the decision had been
    amended answered 500 (the amendment's entry was not loaded, and its relationship raises)."""
    item = make_item(filer, status="escalated", title="Amended, then done")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved_with_conditions",
                      actions=[("Publish drift report", owner, clock.now().date() + timedelta(days=3))])
    action_id = decision.actions[0].id
    amend_decision(db_session, chair, get_decision(db_session, decision.id), AmendmentData(
        outcome="approved_with_conditions", rationale="Amended.", conditions="Still.", reason="Wording."))
    db_session.commit()
    login(owner)
    done = client.post(f"/actions/{action_id}/completion", data={f"a{action_id}-note": "Published."})
    assert done.status_code == 302
    db_session.expire_all()
    assert db_session.get(type(item), item.id).status == "closed"


def test_others_cannot_complete_an_action(client, db_session, chair, filer, owner, login, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved_with_conditions",
                      actions=[("Report", owner, clock.now().date() + timedelta(days=3))])
    login(filer)
    response = client.post(f"/actions/{decision.actions[0].id}/completion", data={f"a{decision.actions[0].id}-note": "x"})
    assert response.status_code == 403


def test_executives_see_all_open_and_overdue_actions(
        client, db_session, as_chair, filer, owner, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    start = clock.now()
    with clock.override(lambda: start - timedelta(days=20)):
        meeting = make_meeting(as_chair, status="in_session", items=[item])
        decide(as_chair, meeting, item, "approved_with_conditions",
               actions=[("Late report", owner, (start - timedelta(days=2)).date()),
                        ("Later audit", owner, (start + timedelta(days=9)).date())])
    page = client.get("/actions").get_data(as_text=True)
    assert "All open actions" in page and "Late report" in page and "Later audit" in page
    overdue = client.get("/actions?overdue=1").get_data(as_text=True)
    assert "Late report" in overdue and "Later audit" not in overdue
    assert "Overdue" in overdue


# -------------------------------------------------------------------------------- permissions
def test_staff_read_meetings_and_register_but_cannot_manage(
        client, db_session, chair, filer, login, make_item, make_meeting):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    eid = entry_id(db_session, meeting, item)
    login(filer)
    for url in ("/meetings", f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/pack", "/decisions", "/actions"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Add an item" not in page and "Record the decision" not in page
    before = counts(db_session)
    assert client.post(f"/meetings/{meeting.id}/entries/{eid}/decision",
                       data=decision_form(f"d{eid}", deciders=[str(chair.id)])).status_code == 403
    assert client.post("/meetings/new", data={}).status_code == 403
    assert counts(db_session) == before


def test_register_filters_by_function_and_date_and_rejects_bad_ranges(
        client, db_session, as_chair, make_user, make_item, make_meeting, decide):
    risk = make_user(function="risk")
    proc = make_user(function="procurement")
    r = make_item(risk, status="escalated", title="Risk thing")
    p = make_item(proc, status="escalated", title="Procurement thing")
    meeting = make_meeting(as_chair, status="in_session", items=[r, p])
    decide(as_chair, meeting, r, "rejected")
    decide(as_chair, meeting, p, "approved")
    page = client.get("/decisions?function=risk").get_data(as_text=True)
    assert "Risk thing" in page and "Procurement thing" not in page
    day = meeting.starts_at.date()
    inside = client.get(f"/decisions?date_from={day.isoformat()}&date_to={day.isoformat()}").get_data(as_text=True)
    assert "Risk thing" in inside and "Procurement thing" in inside
    later = client.get(f"/decisions?date_from={(day + timedelta(days=1)).isoformat()}").get_data(as_text=True)
    assert "No decision matches these filters" in later
    bad = client.get(f"/decisions?date_from={day.isoformat()}&date_to={(day - timedelta(days=1)).isoformat()}")
    assert bad.status_code == 400 and "lies after its end" in bad.get_data(as_text=True)
    junk = client.get("/decisions?outcome=maybe")
    assert junk.status_code == 400
    # The filters are kept rendered per set of values: each shows its own selection.
    for function in ("risk", "procurement", "risk"):
        form = client.get(f"/decisions?function={function}").get_data(as_text=True)
        assert re.search(rf'<option selected value="{function}">|<option value="{function}" selected', form), function
        other = "procurement" if function == "risk" else "risk"
        assert not re.search(rf'<option selected value="{other}">|<option value="{other}" selected', form)


# ------------------------------------------------------------------------------- query budgets
# Statements per page (the logged-in user's load included), whatever the number of meetings,
# entries, decisions, recusals and actions. The pack costs one more per registered pack section;
# the item page counts the foundation's six plus this area's panel.
BUDGETS = {
    "meetings": shared.BUDGETS["agenda.meetings"], "meeting": shared.BUDGETS["agenda.meeting"],
    "minutes": shared.BUDGETS["agenda.minutes"], "pack": shared.BUDGETS["agenda.pack"],
    "decisions": shared.BUDGETS["agenda.decisions"], "actions": shared.BUDGETS["agenda.actions"],
    "item": shared.BUDGETS["items.detail"], "entry": shared.BUDGETS["agenda.entry"],
}


def _measure(app, client, urls):
    return {name: cold_statements(app, lambda url=url: client.get(url)) for name, url in urls.items()}


def test_agenda_pages_keep_their_query_budget_whatever_the_data_size(
        app, client, db_session, as_chair, cfo, filer, owner, make_item, make_meeting, decide):
    def build(n: int):
        """One open meeting (in session, n entries, half decided with actions, one more waiting),
        one closed."""
        its = [make_item(filer, status="escalated", title=f"Item {n}-{k}") for k in range(n + 1)]
        open_meeting = make_meeting(as_chair, status="in_session", items=its)
        for k, item in enumerate(its[: max(1, n // 2)]):
            declare_conflict(db_session, cfo, get_entry(
                db_session, open_meeting.id, entry_id(db_session, open_meeting, item)), f"conflict {k}")
            db_session.commit()
            decide(as_chair, open_meeting, item, "approved_with_conditions",
                   actions=[(f"Act {k}.{j}", owner, clock.now().date() + timedelta(days=5)) for j in range(2)])
        closed_items = [make_item(filer, status="escalated") for _ in range(n)]
        closed = make_meeting(as_chair, status="in_session", items=closed_items)
        for item in closed_items:
            decide(as_chair, closed, item, "deferred")
        change_meeting_status(db_session, as_chair, get_meeting(db_session, closed.id), "close")
        db_session.commit()
        make_item(filer, status="escalated")  # one waits in the queue
        return open_meeting, closed, its[0], entry_id(db_session, open_meeting, its[-1])

    def urls(open_meeting, closed, item, waiting):
        return {"meetings": "/meetings", "meeting": f"/meetings/{open_meeting.id}",
                "entry": f"/meetings/{open_meeting.id}/entries/{waiting}",
                "minutes": f"/meetings/{closed.id}", "pack": f"/meetings/{open_meeting.id}/pack",
                "decisions": "/decisions", "actions": "/actions", "item": f"/items/{item.id}"}

    small = _measure(app, client, urls(*build(1)))
    large = _measure(app, client, urls(*build(6)))
    assert small == large
    for name, count in large.items():
        assert count <= BUDGETS[name], f"{name}: {count} statements > budget {BUDGETS[name]}"


def test_register_filters_of_other_areas_filter_and_label_rows(
        client, db_session, as_chair, filer, make_item, make_meeting, decide, monkeypatch):
    from forum.items.models import DecisionItem

    big = make_item(filer, status="escalated", title="Big one", exposure=900_000)
    small = make_item(filer, status="escalated", title="Small one", exposure=1_000)
    meeting = make_meeting(as_chair, status="in_session", items=[big, small])
    decide(as_chair, meeting, big, "approved")
    decide(as_chair, meeting, small, "approved")
    monkeypatch.setattr(pack, "FILTERS", (*pack.FILTERS, pack.RegisterFilter(
        key="size", label="Size", choices=lambda session: [("large", "Large")],
        condition=lambda value: DecisionItem.exposure > 100_000 if value == "large" else DecisionItem.id < 0,
        column=lambda session, ids: {i: "sized" for i in ids},
    )))
    page = client.get("/decisions?size=large").get_data(as_text=True)
    assert "Big one" in page and "Small one" not in page
    assert '<label class="label" for="filter-size">Size</label>' in page
    assert "<td>sized</td>" in page


def test_the_register_shows_a_long_rationale_s_start_and_unfolds_the_rest(
        client, as_chair, filer, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated", title="Long reasons")
    meeting = make_meeting(as_chair, status="in_session", items=[item])
    rationale = "The **evidence** holds. " + " ".join(f"Point {n} was weighed." for n in range(40)) + " THE-END."
    decide(as_chair, meeting, item, rationale=rationale)
    page = client.get("/decisions").get_data(as_text=True)
    summary = re.search(r'<details class="read-more"><summary>(.*?)</summary>', page, re.S).group(1)
    assert "The evidence holds. Point 0" in summary and "…" in summary and "THE-END" not in summary
    assert "Read all" in summary
    assert "THE-END." in page.split("</summary>", 1)[1]  # the whole rationale, in the unfolded part


def test_the_add_an_item_picker_is_searchable_and_paged(client, db_session, as_chair, filer, make_item, make_meeting):
    """At scale the queue is long: the picker shows one page of it, and finds items by title
    or number."""
    made = [make_item(filer, status="escalated", title=f"Queue item {n:02d}") for n in range(20)]
    needle = make_item(filer, status="escalated", title="The orchid vendor")
    meeting = make_meeting(as_chair)

    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)">', page[page.index('id="add-item"'):page.index("</select>", page.index('id="add-item"'))])
    assert len(options) == 15 and "21 escalated items wait for a meeting; page 1 of 2" in page
    second = client.get(f"/meetings/{meeting.id}?page=2").get_data(as_text=True)
    assert "page 2 of 2" in second

    found = client.get(f"/meetings/{meeting.id}?find=orchid").get_data(as_text=True)
    assert f'<option value="{needle.id}">#{needle.id} The orchid vendor</option>' in found
    assert "Queue item" not in found.split('id="add-item"', 1)[1].split("</select>", 1)[0]
    by_number = client.get(f"/meetings/{meeting.id}?find=%23{made[3].id}").get_data(as_text=True)
    assert f"#{made[3].id} Queue item 03" in by_number
    none = client.get(f"/meetings/{meeting.id}?find=nothing-like-it").get_data(as_text=True)
    assert "No escalated item matches “nothing-like-it”." in none
    literal = client.get(f"/meetings/{meeting.id}?find=%25").get_data(as_text=True)  # nothing to search for
    assert "No escalated item matches" in literal


def test_the_picker_finds_words_of_an_items_text_among_escalated_items_only(
        client, db_session, as_chair, filer, make_item, make_meeting, monkeypatch):
    """The picker's search reads the full-text index (words, stemmed, in the title or the
    summary) and takes at most PICKER_MATCHES of the newest matches, saying so."""
    from forum.agenda import queries

    summary = make_item(filer, status="escalated", title="Routing model", summary="Handles **refunds** in Dutch.")
    make_item(filer, status="open", title="Refund assistant, not escalated")
    make_item(filer, status="escalated", title="Unrelated")
    meeting = make_meeting(as_chair)

    def offered(find: str) -> list[str]:
        page = client.get(f"/meetings/{meeting.id}", query_string={"find": find}).get_data(as_text=True)
        if 'id="add-item"' not in page:
            return []
        start = page.index('id="add-item"')
        return re.findall(r'<option value="(\d+)">', page[start:page.index("</select>", start)])

    assert offered("refund") == [str(summary.id)]  # the summary's word, stemmed; the open item is not offered
    assert offered("dutch refunds") == [str(summary.id)] and offered("refund -dutch") == []

    more = [make_item(filer, status="escalated", title=f"Vendor {n}") for n in range(3)]
    monkeypatch.setattr(queries, "PICKER_MATCHES", 2)
    page = client.get(f"/meetings/{meeting.id}?find=vendor").get_data(as_text=True)
    assert "More than 2 escalated items match “vendor”: the newest 2 are offered here" in page
    assert sorted(offered("vendor")) == sorted(str(item.id) for item in more[1:])


def test_the_meeting_page_lists_its_latest_history_and_the_whole_of_it_on_request(
        client, as_chair, filer, make_item, make_meeting):
    from forum.agenda.views._meeting_page import RECENT_EVENTS

    items = [make_item(filer, status="escalated", title=f"History item {n:02d}") for n in range(RECENT_EVENTS + 2)]
    meeting = make_meeting(as_chair, items=items)  # created, then one event per item added

    def history(page: str) -> str:
        return page[page.index('<details class="history'):page.index("</details>", page.index('<details class="history'))]

    latest = history(client.get(f"/meetings/{meeting.id}").get_data(as_text=True))
    assert f"Agenda history (the latest {RECENT_EVENTS} events)" in latest
    assert latest.startswith('<details class="history no-print" id="history">')  # folded
    assert latest.count('class="timeline-entry"') == RECENT_EVENTS
    assert f'href="/meetings/{meeting.id}?history=all#history"' in latest
    assert "Planned the meeting" not in latest  # the oldest event is not among the latest

    whole = history(client.get(f"/meetings/{meeting.id}?history=all").get_data(as_text=True))
    assert f"Agenda history ({RECENT_EVENTS + 3} events)" in whole and "?history=all" not in whole
    assert whole.startswith('<details class="history no-print" id="history" open>') and "Planned the meeting" in whole
    assert whole.count('class="timeline-entry"') == RECENT_EVENTS + 3


def test_an_executive_escalates_and_schedules_from_the_queue_in_one_move(
        client, db_session, as_chair, filer, make_item, make_meeting):
    from forum.items.models import DecisionItem
    from forum.trail.models import Event

    item = make_item(filer, status="open", title="Recommended, not escalated", exposure=900_000)
    meeting = make_meeting(as_chair, title="Next board")
    queue = client.get("/escalations?status=open").get_data(as_text=True)
    assert f'href="/escalations/{item.id}/schedule"' in queue and "Escalate and schedule" in queue

    page = client.get(f"/escalations/{item.id}/schedule").get_data(as_text=True)
    assert "Next board" in page and "Why the executives take it up" in page
    before = db_session.scalar(select(func.count()).select_from(Event))
    missing = client.post(f"/escalations/{item.id}/schedule", data={"meeting": str(meeting.id), "reason": "",
                                                                    "time_box_minutes": "10"})
    assert missing.status_code == 400 and "reason" in missing.get_data(as_text=True).lower()
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Event)) == before  # nothing half written
    assert db_session.get(DecisionItem, item.id).status == "open"

    done = client.post(f"/escalations/{item.id}/schedule", data={
        "meeting": str(meeting.id), "reason": "Strategic weight and a close deadline.", "time_box_minutes": "10"})
    assert done.status_code == 302 and done.headers["Location"].startswith(f"/meetings/{meeting.id}#entry-")
    db_session.expire_all()
    assert db_session.get(DecisionItem, item.id).status == "scheduled"
    kinds = list(db_session.scalars(select(Event.kind).where(Event.seq > before).order_by(Event.seq)))
    assert kinds == ["item.status_changed", "item.status_changed", "agenda.entry_added"]  # escalated, scheduled
    escalated = db_session.scalar(select(Event).where(Event.seq == before + 1))
    assert escalated.data["note"] == "Strategic weight and a close deadline."


def test_only_executives_schedule_from_the_queue(client, login, filer, make_item, make_meeting, chair):
    item = make_item(filer, status="open", exposure=900_000)
    make_meeting(chair)
    login(filer)
    assert "Escalate and schedule" not in client.get("/escalations?status=open").get_data(as_text=True)
    assert client.get(f"/escalations/{item.id}/schedule").status_code == 403


def test_the_decision_register_shows_a_new_decision_at_once_although_its_page_was_cached(
        app, client, db_session, as_chair, filer, make_item, make_meeting, decide):
    from forum.core import derived

    first = make_item(filer, status="escalated", title="Cached register, first")
    second = make_item(filer, status="escalated", title="Cached register, second")
    meeting = make_meeting(as_chair, "in_session", items=[first, second])
    decide(as_chair, meeting, first)
    cold = count_statements(app, lambda: client.get("/decisions"))
    warm = count_statements(app, lambda: client.get("/decisions"))
    # The user and the trail head only: the page's ids, the functions and the rendered table
    # (the decisions with their meetings, items and actions, the tier column) came from the cache.
    assert warm == 2 < cold and app.extensions[derived.EXTENSION].hits >= 1
    decide(as_chair, meeting, second, outcome="rejected")
    page = client.get("/decisions").get_data(as_text=True)
    assert "Cached register, second" in page and "Cached register, first" in page


def test_an_entry_has_its_own_page_for_its_time_box_presenter_and_a_conflict(
        client, db_session, login, chair, cfo, owner, filer, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated", title="Entry page item")
    meeting = make_meeting(chair, items=[item])
    eid = entry_id(db_session, meeting, item)
    url = f"/meetings/{meeting.id}/entries/{eid}"
    login(chair)
    agenda = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert f'href="{url}"' in agenda  # the meeting page links to it ...
    assert f'name="e{eid}-time_box_minutes"' not in agenda and f'name="c{eid}-reason"' not in agenda  # ... not the forms
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Entry page item" in html
    assert f'name="e{eid}-time_box_minutes"' in html and f'name="c{eid}-reason"' in html
    assert '<option selected value="">No presenter</option>' in html

    before = counts(db_session)
    refused = client.post(url, data={f"e{eid}-time_box_minutes": "500", f"e{eid}-presenter": str(owner.id)})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Between 1 and 240 minutes." in html
    assert 'value="500"' in html and "<h1>1. Entry page item</h1>" in html  # the entry page, input kept
    assert counts(db_session) == before
    saved = client.post(url, data={f"e{eid}-time_box_minutes": "25", f"e{eid}-presenter": str(owner.id)})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/meetings/{meeting.id}#entry-{eid}")
    assert "25 minutes" in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    empty = client.post(f"{url}/conflict", data={f"c{eid}-reason": " "})
    assert empty.status_code == 400 and "Say what the conflict of interest is." in empty.get_data(as_text=True)
    assert "<h1>1. Entry page item</h1>" in empty.get_data(as_text=True)

    login(cfo)  # once recused, the page says so instead of offering the form again
    assert client.post(f"{url}/conflict", data={f"c{eid}-reason": "Former vendor employee"}).status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert "You are recused from this item (declared a conflict: Former vendor employee)" in html
    assert f'name="c{eid}-reason"' not in html

    login(filer)  # staff do not manage the agenda
    assert client.get(url).status_code == 403
    login(chair)
    assert client.get(f"/meetings/{meeting.id}/entries/{eid + 99}").status_code == 404
    other = make_item(filer, status="escalated", title="Decided entry item")
    held = make_meeting(chair, status="in_session", items=[other])
    decide(chair, held, other)
    held_entry = entry_id(db_session, held, other)
    decided = client.get(f"/meetings/{held.id}/entries/{held_entry}")
    assert decided.status_code == 302
    assert decided.headers["Location"].endswith(f"/meetings/{held.id}#entry-{held_entry}")
    assert "its decision is recorded" in client.get(f"/meetings/{held.id}").get_data(as_text=True)


def test_the_item_page_offers_to_close_a_decided_item_to_executives_who_may_from_one_kept_list(
        app, client, db_session, login, chair, cfo, filer, make_item, make_meeting, decide):
    """The agenda panel's list is kept rendered for every viewer (forum.agenda.panel); whether
    the viewer may close the item is decided per request: not the filer, not an executive
    while a follow-up action is open (the item then closes by itself with its last action)."""
    close = re.compile(r'action="/decisions/\d+/closure"')
    pending = make_item(filer, status="escalated", title="Pending action bot")
    done = make_item(filer, status="escalated", title="Nothing left bot")
    meeting = make_meeting(chair, "in_session", items=[pending, done])
    decide(chair, meeting, pending, actions=[("Send the drift report", filer, clock.now().date() + timedelta(days=9))])
    decide(chair, meeting, done)
    login(chair)
    page = client.get(f"/items/{pending.id}").get_data(as_text=True)
    assert "Send the drift report" in page and not close.search(page)
    page = client.get(f"/items/{done.id}").get_data(as_text=True)
    assert close.search(page) and "Close the item" in page
    login(filer)  # the same kept list, but the filer never closes their own item
    page = client.get(f"/items/{done.id}").get_data(as_text=True)
    assert "Because the evidence holds." in page and not close.search(page)
    login(cfo)
    assert close.search(client.get(f"/items/{done.id}").get_data(as_text=True))


def _pager_links(html: str, label: str) -> list[str]:
    """The hrefs of the pagination named ``label`` (its aria-label)."""
    nav = re.search(rf'<nav class="pagination" aria-label="{label}">(.*?)</nav>', html, re.S)
    assert nav, f"no pagination {label!r}"
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', nav.group(1))]


def test_the_meeting_list_pages_the_upcoming_and_the_closed_meetings_each_on_its_own(
    client, login, chair, make_meeting, db_session
):
    """However many meetings are planned, the list shows twenty of each kind, and paging one list
    keeps the other where it was."""
    for n in range(22):
        make_meeting(chair, starts_in=timedelta(days=n + 1), title=f"Soon {n:02d}")
    for n in range(21):  # closed meetings, made so directly: the list is what is tested here
        past = make_meeting(chair, title=f"Past {n:02d}")
        past.starts_at, past.status = clock.now() - timedelta(days=n + 1), "closed"
    db_session.commit()
    login(chair)

    first = client.get("/meetings").get_data(as_text=True)
    assert "Soon 00" in first and "Soon 19" in first and "Soon 20" not in first
    assert "Past 00" in first and "Past 19" in first and "Past 20" not in first
    assert _pager_links(first, "Pages of upcoming and open meetings") == ["/meetings?upcoming=2"]
    assert _pager_links(first, "Pages of closed meetings") == ["/meetings?page=2"]

    both = client.get("/meetings?upcoming=2&page=2").get_data(as_text=True)
    assert "Soon 20" in both and "Soon 21" in both and "Soon 19" not in both
    assert "Past 20" in both and "Past 19" not in both
    upcoming_links = _pager_links(both, "Pages of upcoming and open meetings")
    closed_links = _pager_links(both, "Pages of closed meetings")
    assert len(upcoming_links) == 1 and set(upcoming_links[0].split("?")[1].split("&")) == {"page=2", "upcoming=1"}
    assert len(closed_links) == 1 and set(closed_links[0].split("?")[1].split("&")) == {"page=1", "upcoming=2"}
    assert "← Sooner" in both and "Later →" in both  # the upcoming list's own words

    beyond = client.get("/meetings?upcoming=9").get_data(as_text=True)  # past the end: the last page
    assert "Soon 21" in beyond and "Soon 00" not in beyond
