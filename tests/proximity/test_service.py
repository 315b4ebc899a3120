"""Proximity rules: reviews, proposed cases and their CSV round-trip through the evidence service,
and the snapshot of reviews a decision keeps."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.agenda.decisions import close_item, get_decision
from forum.core import clock
from forum.core.errors import Conflict, PermissionDenied, ValidationError
from forum.evidence import service as evidence
from forum.proximity import service
from forum.proximity.models import ProposedCase, Review
from forum.trail.models import Event
from tests.proximity.conftest import MIXED


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _events(session, kind: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq)))


# ------------------------------------------------------------------------------------ reviews
def test_cases_are_ordered_edge_cases_first_then_in_the_files_order(filer, make_item, attach):
    item = make_item(filer, status="open")
    run = attach(item, filer, MIXED + [("edge-fail-2", False, True, "x", "y"), ("plain-fail-2", False, False, "a", "b")])
    cases = service.ordered_cases(run)
    assert [c["id"] for c in cases] == ["edge-fail", "edge-fail-2", "plain-fail", "plain-fail-2"]
    assert [c["number"] for c in cases] == [1, 2, 3, 4]


def test_a_review_is_one_row_and_one_event_saying_who_which_run_and_how_many_cases(
        db_session, chair, filer, make_item, attach):
    item = make_item(filer, status="open")
    run = attach(item, filer, MIXED)
    review = service.record_review(db_session, chair, run, item, "  The refund cases all fail the same way.  ")
    db_session.commit()
    assert (review.cases_shown, review.reviewer_id, review.run_id, review.item_id) == (2, chair.id, run.id, item.id)
    assert review.note == "The refund cases all fail the same way."
    [event] = _events(db_session, "evidence.reviewed")
    assert event.actor == chair.email and event.subject == item.subject
    assert event.data["run_id"] == run.id and event.data["cases_shown"] == 2
    assert event.data["edge_cases_shown"] == 1 and event.data["outcome"] == "failing cases reviewed"


def test_reviewing_a_run_where_nothing_failed_records_nothing_failed(db_session, chair, filer, make_item, attach):
    item = make_item(filer, status="open")
    run = attach(item, filer, [("ok-1", True, False, "a", "b"), ("ok-2", True, True, "c", "d")])
    review = service.record_review(db_session, chair, run, item)
    db_session.commit()
    assert review.nothing_failed and review.note == ""
    [event] = _events(db_session, "evidence.reviewed")
    assert event.data["cases_shown"] == 0 and event.data["outcome"] == "nothing failed"


def test_only_executives_review_and_a_refused_review_stores_nothing(
        db_session, make_user, chair, filer, make_item, attach):
    item = make_item(filer, status="open")
    run = attach(item, filer, MIXED)
    auditor = make_user(role="auditor", function=None)
    events = _count(db_session, Event)
    for user in (filer, auditor):
        with pytest.raises(PermissionDenied):
            service.record_review(db_session, user, run, item)
    with pytest.raises(ValidationError) as refused:
        service.record_review(db_session, chair, run, item, "x" * (service.MAX_NOTE + 1))
    assert refused.value.field == "note"
    db_session.rollback()
    assert _count(db_session, Review) == 0 and _count(db_session, Event) == events


# ----------------------------------------------------------------------------- proposed cases
def test_staff_and_executives_propose_edge_cases_one_event_each(db_session, chair, filer, make_item):
    item = make_item(filer, status="open")
    first = service.propose_case(db_session, filer, item, service.ProposalData(
        "  Refund  asked in two languages ", "Je veux un refund for order 123"))
    second = service.propose_case(db_session, chair, item, service.ProposalData("Sarcasm", "Great, another delay."))
    db_session.commit()
    assert first.description == "Refund asked in two languages"
    assert [c.id for c in service.proposed_cases(db_session, [item.id])[item.id]] == [second.id, first.id]
    events = _events(db_session, "case.proposed")
    assert [(e.actor, e.data["case"]) for e in events] == [(filer.email, first.id), (chair.email, second.id)]


def test_the_newest_proposed_cases_come_with_each_items_count(db_session, chair, filer, make_item):
    busy, quiet, other = (make_item(filer, status="open", title=t) for t in ("Busy", "Quiet", "Other"))
    proposed = [service.propose_case(db_session, filer, busy, service.ProposalData(f"Case {n}", f"input {n}"))
                for n in range(3)]
    lone = service.propose_case(db_session, chair, other, service.ProposalData("Lone case", "input"))
    db_session.commit()
    cases, counts = service.newest_proposed(db_session, [busy.id, quiet.id, other.id], 2)
    assert [c.id for c in cases[busy.id]] == [proposed[2].id, proposed[1].id]
    assert cases[busy.id][0].proposed_by.display_name == filer.display_name
    assert (cases[quiet.id], [c.id for c in cases[other.id]]) == ([], [lone.id])
    assert counts == {busy.id: 3, quiet.id: 0, other.id: 1}


@pytest.mark.parametrize(("description", "example", "field"), [
    ("", "some input", "description"),
    ("   ", "some input", "description"),
    ("A case", "  \n ", "example_input"),
    ("x" * 301, "some input", "description"),
])
def test_an_empty_or_oversized_proposal_is_refused_and_nothing_is_stored(
        db_session, filer, make_item, description, example, field):
    item = make_item(filer, status="open")
    events = _count(db_session, Event)
    with pytest.raises(ValidationError) as refused:
        service.propose_case(db_session, filer, item, service.ProposalData(description, example))
    assert refused.value.field == field
    db_session.rollback()
    assert _count(db_session, ProposedCase) == 0 and _count(db_session, Event) == events


def test_no_proposal_on_a_closed_item_and_none_by_auditors(
        db_session, chair, filer, make_user, make_item, make_meeting, decide):
    item = make_item(filer, status="escalated")
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved")
    close_item(db_session, chair, get_decision(db_session, decision.id))
    db_session.commit()
    assert item.status == "closed"
    auditor = make_user(role="auditor", function=None)
    events = _count(db_session, Event)
    with pytest.raises(Conflict) as refused:
        service.propose_case(db_session, filer, item, service.ProposalData("A case", "An input"))
    assert "closed" in refused.value.reason
    with pytest.raises(PermissionDenied):
        service.propose_case(db_session, auditor, item,
                             service.ProposalData("A case", "An input"))
    db_session.rollback()
    assert _count(db_session, ProposedCase) == 0 and _count(db_session, Event) == events


def test_exported_proposals_upload_as_evidence_and_every_case_is_counted(db_session, chair, filer, make_item):
    item = make_item(filer, status="open")
    inputs = ["Refund, but half in store credit", 'He said "cancel", then "don\'t"\nsecond line',
              "=HYPERLINK(\"http://x\")"]
    for n, text in enumerate(inputs):
        service.propose_case(db_session, chair if n % 2 else filer, item, service.ProposalData(f"Case {n}", text))
    db_session.commit()
    text = service.export_csv(service.proposed_cases(db_session, [item.id])[item.id])

    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["input"] for r in rows] == [inputs[0], inputs[1], "'" + inputs[2]]  # a formula stays text
    assert {r["passed"] for r in rows} == {"skipped"} and {r["category"] for r in rows} == {"edge-case"}

    run = evidence.attach_evidence(db_session, filer, item, f"item-{item.id}-proposed-edge-cases.csv", text.encode())
    assert run.format == "csv" and run.suite == service.PROPOSED_SUITE
    assert (run.total, run.skipped, run.edge_total, run.edge_skipped) == (3, 3, 3, 3)
    assert run.tag_counts["proposed"]["skipped"] == 3


def test_an_export_without_proposals_is_the_header_alone():
    assert service.export_csv([]) == ",".join(service.CSV_HEADER) + "\r\n"


# ---------------------------------------------------------------------- snapshot on decisions
def test_the_decision_keeps_who_had_reviewed_what_and_later_reviews_do_not_change_it(
        db_session, chair, cfo, filer, make_item, make_meeting, attach, decide):
    item = make_item(filer, status="escalated")
    old = attach(item, filer, MIXED)  # superseded by the next run of the same suite
    latest = attach(item, filer, MIXED, suite="support")
    other = attach(item, filer, [("b-1", False, True, "x", "y")], suite="billing")
    service.record_review(db_session, chair, latest, item)
    service.record_review(db_session, chair, other, item)
    service.record_review(db_session, cfo, old, item)  # an older run does not cover the latest
    db_session.commit()
    meeting = make_meeting(chair, status="in_session", items=[item])
    decision = decide(chair, meeting, item, "approved", deciders=[chair, cfo])

    snapshot = decision.review_snapshot
    assert [r["id"] for r in snapshot["latest_runs"]] == [other.id, latest.id]  # by suite name
    people = {p["email"]: p for p in snapshot["deciders"]}
    assert [r["run"] for r in people[chair.email]["reviewed"]] == [latest.id, other.id]
    assert people[chair.email]["missing"] == []
    assert [r["run"] for r in people[cfo.email]["reviewed"]] == [old.id]
    assert people[cfo.email]["missing"] == [other.id, latest.id]
    assert service.fully_reviewed(snapshot) is False
    [event] = _events(db_session, "decision.recorded")
    assert event.data["reviews_before"] == {chair.email: [latest.id, other.id], cfo.email: [old.id]}

    later = clock.now() + timedelta(minutes=5)
    with clock.override(lambda: later):
        service.record_review(db_session, cfo, latest, item)
        service.record_review(db_session, cfo, other, item)
    db_session.commit()
    db_session.expire_all()
    assert get_decision(db_session, decision.id).review_snapshot == snapshot


def test_a_decision_without_evidence_or_without_reviews_is_allowed_and_says_so(
        db_session, chair, filer, make_item, make_meeting, attach, decide):
    bare, tested = make_item(filer, status="escalated"), make_item(filer, status="escalated")
    attach(tested, filer, MIXED)
    meeting = make_meeting(chair, status="in_session", items=[bare, tested])
    without_evidence = decide(chair, meeting, bare, "approved").review_snapshot
    without_review = decide(chair, meeting, tested, "approved").review_snapshot
    assert without_evidence["latest_runs"] == [] and service.fully_reviewed(without_evidence) is None
    assert without_review["deciders"][0]["reviewed"] == [] and service.fully_reviewed(without_review) is False
