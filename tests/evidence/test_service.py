"""attach_evidence: stored with its bytes (in pieces) and one trail event; refused input stores nothing; who
may attach; gates re-checked against the item and the clock; the bulk gate check."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from forum.core import clock, db
from forum.core.errors import Conflict, NotFound, PermissionDenied
from forum.evidence import models, service
from forum.evidence.models import EvidenceChunk, EvidenceRun
from forum.evidence.parsers import Limits
from forum.items import service as items
from forum.trail.models import Event
from tests.evidence.conftest import csv_bytes, fixture_bytes


def counts(session) -> tuple[int, int]:
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(EvidenceRun)),
            session.scalar(select(func.count()).select_from(Event)))


def test_attach_stores_the_original_bytes_the_parsed_facts_and_one_event(db_session, staff, open_item):
    data = fixture_bytes("pytest-support-llm.xunit1.xml")
    runs_before, events_before = counts(db_session)
    run = service.attach_evidence(db_session, staff, open_item, "C:\\runs\\pytest.xml", data)
    db_session.commit()
    assert counts(db_session) == (runs_before + 1, events_before + 1)
    row = db_session.execute(select(EvidenceRun.sha256, EvidenceRun.size)).one()
    assert service.open_original(db_session, run).read() == data
    assert row.sha256 == hashlib.sha256(data).hexdigest() and row.size == len(data)
    assert run.filename == "pytest.xml" and run.content_type == "application/xml"
    assert (run.format, run.suite, run.model_id, run.model_version) == (
        "junit", "support-llm-regression", "tiny-support-lm", "2026.04.2")
    assert (run.passed, run.failed, run.errored, run.skipped) == (16, 6, 1, 3)
    assert run.pass_rate == pytest.approx(16 / 23)
    assert (run.edge_total, run.edge_passed, run.edge_skipped) == (9, 4, 1)
    assert run.tag_counts["edge-case"] == {"passed": 4, "failed": 4, "errored": 0, "skipped": 1}
    assert run.uploaded_by_id == staff.id
    ev = db_session.scalars(select(Event).order_by(Event.seq.desc())).first()
    assert (ev.kind, ev.subject, ev.actor) == ("evidence.attached", open_item.subject, staff.email)
    assert ev.data["sha256"] == run.sha256 and ev.data["size"] == len(data)
    assert ev.data["format"] == "junit" and ev.data["suite"] == "support-llm-regression"
    assert ev.data["model_id"] == "tiny-support-lm" and ev.data["model_version"] == "2026.04.2"
    assert ev.data["totals"] == {"passed": 16, "failed": 6, "errored": 1, "skipped": 3}
    # gates at ingest: 4 of 8 edge cases is below the default tier's minimum; the item is at 1.0
    assert ev.data["gates"] == {"coverage": "pass", "edge_pass_rate": "fail", "regression": "not_applicable",
                                "freshness": "fail"}
    assert run.gate_results["tier"] == "operational"


def test_a_file_is_stored_in_pieces_and_read_back_whole_or_from_any_offset(db_session, staff, open_item,
                                                                            monkeypatch, tmp_path):
    """A spooled upload (a file, not bytes) is parsed, hashed and stored a piece at a time."""
    monkeypatch.setattr(service, "CHUNK_BYTES", 1000)
    monkeypatch.setattr(models, "CHUNK_BYTES", 1000)
    data = fixture_bytes("pytest-support-llm.xunit1.xml")
    path = tmp_path / "pytest.xml"
    path.write_bytes(data)
    with path.open("rb") as upload:
        run = service.attach_evidence(db_session, staff, open_item, "pytest.xml", upload)
    db_session.commit()
    assert (run.size, run.sha256, run.passed, run.failed) == (len(data), hashlib.sha256(data).hexdigest(), 16, 6)
    pieces = db_session.scalars(select(EvidenceChunk.data).where(EvidenceChunk.run_id == run.id)
                                .order_by(EvidenceChunk.n)).all()
    assert len(pieces) == -(-len(data) // 1000) and {len(p) for p in pieces[:-1]} == {1000}
    assert b"".join(pieces) == data
    stored = service.open_original(db_session, run)
    assert stored.read() == data and stored.read() == b""
    stored.seek(1990)
    assert stored.read(25) == data[1990:2015]  # across a piece boundary
    stored.seek(-10, 2)
    assert stored.read() == data[-10:]


@pytest.mark.parametrize("data, status, message", [
    (b"", 400, "the file is empty"),
    (b"<testsuite><testcase></testsuite>", 400, "malformed XML"),
    (b"case_id,score\na,1\n", 400, "the CSV has no pass/fail column"),
    (b"case_id,passed\n" + b"a,true\n" * 200, 413, "limit for evidence files"),
])
def test_refused_input_stores_nothing_and_writes_no_event(db_session, staff, open_item, data, status, message):
    before = counts(db_session)
    with pytest.raises(service.EvidenceRefused) as caught:
        service.attach_evidence(db_session, staff, open_item, "bad.csv", data, Limits(max_bytes=1000))
    db_session.rollback()
    assert caught.value.status == status and message in caught.value.reason
    assert caught.value.reason.startswith("bad.csv: ") and caught.value.field == "file"
    assert counts(db_session) == before


def test_who_may_attach(db_session, make_user, make_item, staff, open_item):
    data = csv_bytes(3, 1)
    executive = make_user(role="executive")
    service.attach_evidence(db_session, executive, open_item, "r.csv", data)
    for role in ("auditor", "admin"):
        with pytest.raises(PermissionDenied):
            service.attach_evidence(db_session, make_user(role=role, function=None), open_item, "r.csv", data)
    draft = make_item(staff)
    service.attach_evidence(db_session, staff, draft, "r.csv", data)  # the filer prepares a draft
    with pytest.raises(NotFound):
        service.attach_evidence(db_session, make_user(), draft, "r.csv", data)
    assert service.can_attach(staff, draft) and not service.can_attach(executive, draft)


def test_no_evidence_on_a_closed_item_but_yes_after_a_decision(db_session, make_user, staff, open_item):
    executive = make_user(role="executive")
    for action in ("escalate", "schedule", "decide"):
        items.transition(db_session, executive, open_item, action)
    service.attach_evidence(db_session, staff, open_item, "r.csv", csv_bytes(3, 1))
    items.transition(db_session, executive, open_item, "close")
    db_session.commit()
    before = counts(db_session)
    with pytest.raises(Conflict, match="closed"):
        service.attach_evidence(db_session, staff, open_item, "r.csv", csv_bytes(3, 1))
    db_session.rollback()
    assert counts(db_session) == before


def test_a_file_read_before_the_item_was_closed_is_refused_when_stored(db_session, make_user, staff, open_item):
    """A request reads its file before the write lock; the item may be closed meanwhile, and
    storing checks the item as it is then."""
    executive = make_user(role="executive")
    result = service.read_result_file("r.csv", csv_bytes(3, 1))
    for action in ("escalate", "schedule", "decide", "close"):
        items.transition(db_session, executive, open_item, action)
    db_session.commit()
    before = counts(db_session)
    with pytest.raises(Conflict, match="closed"):
        service.store_evidence(db_session, staff, open_item, result)
    db_session.rollback()
    assert counts(db_session) == before


def test_regression_is_measured_against_the_previous_run_of_the_same_suite(db_session, staff, open_item):
    first = service.attach_evidence(db_session, staff, open_item, "a.csv", csv_bytes(9, 1, 4, 0))
    other = service.attach_evidence(db_session, staff, open_item, "b.csv", csv_bytes(1, 9, 4, 0, suite="other"))
    worse = service.attach_evidence(db_session, staff, open_item, "c.csv", csv_bytes(6, 4, 4, 0))
    assert first.gate_results["baseline"] is None and other.gate_results["baseline"] is None
    assert worse.gate_results["baseline"] == {"run_id": first.id, "passed": 13, "rated": 14}
    status = {g["key"]: g["status"] for g in worse.gate_results["gates"]}
    assert status["regression"] == "fail"


def test_gates_are_rechecked_when_the_item_model_version_changes_or_time_passes(db_session, staff, open_item):
    run = service.attach_evidence(db_session, staff, open_item, "a.csv",
                                  csv_bytes(4, 0, 4, 0, version="1.0", run_at=clock.now().isoformat()))
    db_session.commit()
    assert {g.key: g.status for g in service.runs_for_item(db_session, open_item).runs[0].gates}["freshness"] == "pass"
    later = clock.now() + timedelta(days=91)
    with clock.override(lambda: later):
        aged = {g.key: g for g in service.recheck(run, open_item, None)}["freshness"]
    assert aged.status == "fail" and "tested 91 days ago" in aged.detail
    items.update_item(db_session, staff, open_item, items.ItemData(
        title=open_item.title, category=open_item.category, function=open_item.function_key,
        model_name="bot", model_version="1.1"), open_item.version)
    view = service.runs_for_item(db_session, open_item).runs[0]
    fresh = {g.key: g for g in view.gates}["freshness"]
    assert fresh.status == "fail" and "the item is now at 1.1" in fresh.detail
    assert {g["key"]: g["status"] for g in run.gate_results["gates"]}["freshness"] == "pass"  # as at ingest


def test_failing_gates_for_many_items_in_a_bounded_number_of_queries(app, db_session, staff, make_item):
    def statements(fn):
        seen = []
        engine = db.get_engine(app)
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            result = fn()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return result, len(seen)

    good = make_item(staff, status="open", model_version="1.0")
    bad = make_item(staff, status="open", model_version="2.0")
    none = make_item(staff, status="open")
    service.attach_evidence(db_session, staff, good, "a.csv", csv_bytes(9, 1, 4, 0))
    service.attach_evidence(db_session, staff, bad, "a.csv", csv_bytes(9, 1, 1, 3))  # old version, weak edges
    db_session.commit()
    result, small = statements(lambda: service.failing_gates_for(db_session, [good.id, bad.id, none.id]))
    assert result == {good.id: [], bad.id: ["edge_pass_rate", "freshness"], none.id: []}
    more = [make_item(staff, status="open", model_version="1.0") for _ in range(6)]
    for item in more:
        for n in range(3):
            service.attach_evidence(db_session, staff, item, "a.csv", csv_bytes(9, 1, 4, 0, suite=f"s{n}"))
    db_session.commit()
    ids = [i.id for i in more] + [bad.id]
    db_session.expire_all()
    result, large = statements(lambda: service.failing_gates_for(db_session, ids))
    assert large == small <= 3  # items, latest runs, tiers
    assert result[ids[-1]] == ["edge_pass_rate", "freshness"]
    # only the latest run of a suite counts: a better run of the same suite clears the failures
    service.attach_evidence(db_session, staff, bad, "b.csv", csv_bytes(9, 1, 4, 0, version="2.0"))
    assert service.failing_gates_for(db_session, [bad.id]) == {bad.id: []}
    assert service.failing_gates_for(db_session, []) == {}
