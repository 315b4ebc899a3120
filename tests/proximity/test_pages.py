"""Proximity pages through the test client: the review of failing cases, the review board on the
decision form and the record on decisions and minutes, proposed cases on the item page and in
the pack, the CSV, the figures page; bad input, permissions and query budgets."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select

from forum.agenda.decisions import close_item, get_decision
from forum.agenda.meetings import change_meeting_status, get_meeting
from forum.agenda.models import AgendaEntry
from forum.proximity import service
from forum.proximity.models import ProposedCase, Review
from forum.trail.models import Event
from tests import budgets as shared
from tests.budgets import count_statements
from tests.proximity.conftest import MIXED


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------------------------ review
def test_an_executive_reviews_failing_cases_edge_first_escaped_folded_and_linked(
        client, db_session, login, chair, filer, make_item, attach):
    item = make_item(filer, status="open")
    long_output = "<script>alert(1)</script> " + "very long answer " * 40
    run = attach(item, filer, [
        ("plain-fail", False, False, "refund 20 EUR", long_output),
        ("edge-fail", False, True, "<b>half store credit</b>", "full refund"),
        ("ok-1", True, False, "hi", "hello"),
    ])
    login(chair)
    detail = client.get(f"/evidence/{run.id}").get_data(as_text=True)
    assert f'href="/evidence/{run.id}/review"' in detail

    response = client.get(f"/evidence/{run.id}/review")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index("Case 1 of 2: <span class=\"break\">edge-fail") < page.index("Case 2 of 2: <span class=\"break\">plain-fail")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "&lt;b&gt;half store credit&lt;/b&gt;" in page
    assert "<details><summary>" in page and "show more" in page  # the long output folds without script
    assert 'id="case-1" tabindex="-1"' in page and 'href="#case-2" rel="next"' in page
    assert 'href="#case-1" rel="prev"' in page and 'href="#mark-done"' in page
    assert "edge-fail was wrong" in page  # the tool's reason
    assert re.search(r'<script src="/static/proximity.js[^"]*" defer></script>', page)

    response = client.post(f"/evidence/{run.id}/review", data={"note": "Refunds with store credit break it."})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/evidence/{run.id}")
    [review] = db_session.scalars(select(Review)).all()
    assert (review.reviewer_id, review.cases_shown, review.note) == (chair.id, 2, "Refunds with store credit break it.")
    again = client.get(f"/evidence/{run.id}/review").get_data(as_text=True)
    assert "Earlier reviews of this run" in again and "Refunds with store credit break it." in again


def test_a_run_where_nothing_failed_can_be_reviewed(client, db_session, login, chair, filer, make_item, attach):
    item = make_item(filer, status="open")
    run = attach(item, filer, [("ok-1", True, False, "a", "b")])
    login(chair)
    page = client.get(f"/evidence/{run.id}/review").get_data(as_text=True)
    assert "Nothing failed in this run" in page and "(nothing failed)" in page
    assert client.post(f"/evidence/{run.id}/review", data={}).status_code == 302
    follow = client.get(f"/evidence/{run.id}").get_data(as_text=True)
    assert "nothing failed in this run" in follow
    assert db_session.scalar(select(Review.cases_shown)) == 0


def test_review_refuses_other_roles_a_missing_run_and_a_too_long_note(
        client, db_session, login, make_user, chair, filer, make_item, attach):
    item = make_item(filer, status="open")
    run = attach(item, filer, MIXED)
    events = _count(db_session, Event)
    for user in (filer, make_user(role="auditor", function=None), make_user(role="admin", function=None)):
        client.get("/logout")
        login(user)
        assert client.get(f"/evidence/{run.id}/review").status_code == 403
        assert client.post(f"/evidence/{run.id}/review", data={"note": "x"}).status_code == 403
    client.get("/logout")
    login(chair)
    assert client.get(f"/evidence/{run.id + 99}/review").status_code == 404
    response = client.post(f"/evidence/{run.id}/review", data={"note": "x" * (service.MAX_NOTE + 1)})
    assert response.status_code == 400 and "At most 2000 characters." in response.get_data(as_text=True)
    assert _count(db_session, Review) == 0
    assert _count(db_session, Event) == events + 2  # only the two accounts made above


# -------------------------------------------------------------------------- decision and minutes
def test_the_decision_form_shows_who_reviewed_and_the_minutes_keep_it_per_decider(
        client, db_session, login, chair, cfo, filer, make_item, make_meeting, attach):
    item = make_item(filer, status="escalated", title="Pick the support bot")
    run = attach(item, filer, MIXED)
    service.record_review(db_session, chair, run, item)
    db_session.commit()
    meeting = make_meeting(chair, status="in_session", items=[item])
    login(chair)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    board = page[page.index("Who has reviewed the failing cases"):page.index("Deciders present")]
    assert "Chair Exec</th>" in board and "Cfo Exec</th>" in board
    rows = {m.group(1): m.group(2) for m in re.finditer(r'<th scope="row">([^<]+)</th>(.*?)</tr>', board, re.S)}
    assert "review-done" in rows["Chair Exec"] and "Not reviewed" not in rows["Chair Exec"]
    assert "Not reviewed" in rows["Cfo Exec"]
    assert f'href="/evidence/{run.id}/review"' in board

    entry_id = db_session.scalar(select(AgendaEntry.id).where(AgendaEntry.meeting_id == meeting.id))
    response = client.post(f"/meetings/{meeting.id}/entries/{entry_id}/decision", data={
        f"d{entry_id}-outcome": "approved", f"d{entry_id}-rationale": "The edge cases hold.",
        f"d{entry_id}-deciders": [str(chair.id), str(cfo.id)]})
    assert response.status_code == 302, response.get_data(as_text=True)
    service.record_review(db_session, cfo, run, item)  # after the decision: not part of its record
    db_session.commit()
    change_meeting_status(db_session, chair, get_meeting(db_session, meeting.id), "close")
    db_session.commit()

    minutes = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Minutes:" in minutes
    record = minutes[minutes.index("Failing cases reviewed before the decision"):]
    assert re.search(rf"Chair Exec</strong>:\s*reviewed <a href=\"/evidence/{run.id}\">run #{run.id}</a>", record)
    assert "Reviewed all the latest evidence" in record
    assert re.search(r"Cfo Exec</strong>:\s*<span class=\"badge review-none\">No review before deciding", record)
    item_page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "No review before deciding" in item_page  # the agenda panel shows the same record


# ----------------------------------------------------------------------------- proposed cases
def test_proposing_an_edge_case_on_the_item_page_and_downloading_the_csv(
        client, db_session, login, filer, make_user, make_item):
    item = make_item(filer, status="open")
    login(filer)
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "Proposed edge cases" in page and "No edge case proposed yet." in page
    assert f'action="/items/{item.id}/proposed-cases"' in page

    response = client.post(f"/items/{item.id}/proposed-cases", data={
        "description": "Refund asked in two languages", "example_input": "Je veux un refund, please"})
    assert response.status_code == 302
    case = db_session.scalar(select(ProposedCase))
    assert response.headers["Location"].endswith(f"/items/{item.id}#case-{case.id}")
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "Refund asked in two languages" in page and "Je veux un refund, please" in page

    client.get("/logout")
    login(make_user(role="auditor", function=None))
    download = client.get(f"/items/{item.id}/proposed-cases.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert f"item-{item.id}-proposed-edge-cases.csv" in download.headers["Content-Disposition"]
    [row] = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert (row["case_id"], row["passed"], row["input"]) == (f"proposed-{case.id}", "skipped", "Je veux un refund, please")
    assert "Propose the edge case" not in client.get(f"/items/{item.id}").get_data(as_text=True)
    assert client.post(f"/items/{item.id}/proposed-cases", data={
        "description": "x", "example_input": "y"}).status_code == 403


def test_an_empty_proposal_shows_what_is_missing_and_stores_nothing(client, db_session, login, filer, make_item):
    item = make_item(filer, status="open")
    login(filer)
    events = _count(db_session, Event)
    response = client.post(f"/items/{item.id}/proposed-cases", data={"description": "  ", "example_input": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Describe the edge case in a sentence." in page
    assert "Give an example input the model should be tested with." in page
    assert "<details class=\"propose-case\" open>" in page
    assert _count(db_session, ProposedCase) == 0 and _count(db_session, Event) == events


def test_a_proposal_on_a_closed_item_is_refused_with_409(
        client, db_session, login, chair, filer, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved")
    close_item(db_session, chair, get_decision(db_session, decision.id))
    db_session.commit()
    login(filer)
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "The item is closed: no more edge cases can be proposed." in page
    response = client.post(f"/items/{item.id}/proposed-cases", data={"description": "A case", "example_input": "x"})
    assert response.status_code == 409
    assert "edge cases can no longer be proposed" in response.get_data(as_text=True)
    assert _count(db_session, ProposedCase) == 0


def test_the_pack_lists_proposed_cases_and_who_reviewed_the_latest_runs(
        client, db_session, login, chair, filer, make_item, make_meeting, attach):
    item = make_item(filer, status="escalated")
    run = attach(item, filer, MIXED)
    service.record_review(db_session, chair, run, item)
    service.propose_case(db_session, filer, item, service.ProposalData("Sarcasm", "Great, another delay."))
    db_session.commit()
    meeting = make_meeting(chair, status="published", items=[item])
    login(chair)
    page = client.get(f"/meetings/{meeting.id}/pack").get_data(as_text=True)
    assert "Failing cases: who has looked" in page and "reviewed by Chair Exec" in page
    assert "Sarcasm" in page and "Great, another delay." in page
    assert page.count(f'href="/evidence/{run.id}/review"') == 2  # the evidence section links it too


def test_the_figures_page(client, login, make_user):
    login(make_user(function="risk"))
    page = client.get("/proximity").get_data(as_text=True)
    assert "<h1>Technical proximity</h1>" in page and "No decision recorded yet." in page
    assert "Reviews before deciding, and edge cases proposed</h2>" in page  # the partial's own heading


def test_the_figures_partial_renders_as_a_health_section_context(app, db_session, make_user):
    from flask import render_template

    from forum.health.proximity import habit_figures

    make_user(role="executive", name="Ann Exec")
    with app.test_request_context("/health"):
        html = render_template("proximity/_figures.html", s={"figures": habit_figures(db_session)})
    assert "<h2 id=\"habit-heading\">Technical proximity</h2>" in html and "Ann Exec" in html


def test_the_health_page_carries_the_habit_figures(client, login, make_user):
    make_user(role="executive", name="Ann Exec")
    login(make_user(function="risk"))
    page = client.get("/health").get_data(as_text=True)
    assert '<h2 id="habit-heading">Technical proximity</h2>' in page and "Ann Exec" in page


# ------------------------------------------------------------------------------- query budgets
def test_proximity_pages_keep_their_query_budget_whatever_the_data_size(
        app, client, db_session, login, make_user, chair, filer, make_item, make_meeting, attach, decide):
    login(chair)

    def build(n: int):
        its = [make_item(filer, status="escalated") for _ in range(n)]
        runs = [attach(item, filer, MIXED * n) for item in its]
        for run, item in zip(runs, its, strict=True):
            for _ in range(n):
                service.record_review(db_session, chair, run, item, "seen")
                service.propose_case(db_session, filer, item, service.ProposalData("case", "input"))
        db_session.commit()
        meeting = make_meeting(chair, status="in_session", items=its)
        decide(chair, meeting, its[0], "approved")
        return runs[-1], its[-1]

    def measure(run, item):
        return {name: count_statements(app, lambda url=url: client.get(url)) for name, url in {
            "proximity.review": f"/evidence/{run.id}/review", "health.proximity_figures": "/proximity",
            "proximity.export": f"/items/{item.id}/proposed-cases.csv",
        }.items()}

    small = measure(*build(1))
    large = measure(*build(5))
    assert small == large
    for name, count in large.items():
        assert count <= shared.BUDGETS[name], f"{name}: {count} statements > budget {shared.BUDGETS[name]}"


def test_a_decision_without_evidence_to_review_is_not_flagged_as_unreviewed(
        client, db_session, login, chair, filer, make_item, make_meeting):
    item = make_item(filer, status="escalated", title="No tests yet")
    meeting = make_meeting(chair, status="in_session", items=[item])
    login(chair)
    entry_id = db_session.scalar(select(AgendaEntry.id).where(AgendaEntry.meeting_id == meeting.id))
    response = client.post(f"/meetings/{meeting.id}/entries/{entry_id}/decision", data={
        f"d{entry_id}-outcome": "deferred", f"d{entry_id}-rationale": "Test it first.",
        f"d{entry_id}-deciders": [str(chair.id)]})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    record = page[page.index("Failing cases reviewed before the decision"):]
    assert "No evidence from model tests was attached" in record
    assert re.search(r"Chair Exec</strong>:\s*<span class=\"muted\">nothing to review", record)
    assert "No review before deciding" not in page
