"""POST /items/{id}/evidence and GET /evidence/{id}[/file] through the evidence hooks; the trail
at /events; meetings through the meeting hooks."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from forum.api import hooks
from forum.core import db
from forum.core.errors import PermissionDenied
from forum.evidence import service as evidence_service
from forum.evidence.service import FORM_ROOM
from forum.trail.chain import verify_links
from tests.api.conftest import assert_problem, counts
from tests.evidence.conftest import csv_bytes

RESULTS = b'{"results": {"stats": {"successes": 9, "failures": 1}}}'


def _run(item_id: int, data: bytes, fmt: str = "promptfoo") -> dict:
    return {
        "id": 7, "item_id": item_id, "format": fmt, "suite": "support-edge", "model": "support-llm",
        "model_version": "2026.11.2", "run_at": "2026-11-20T08:00:00Z", "counting": "cases", "total": 10, "passed": 9,
        "failed": 1, "errored": 0, "skipped": 0, "pass_rate": 0.9, "edge_total": 4, "edge_passed": 3,
        "edge_pass_rate": 0.75, "sha256": hashlib.sha256(data).hexdigest(),
        "gates": [{"name": "coverage", "status": "pass", "detail": "4 edge cases"},
                  {"name": "edge_pass_rate", "status": "fail", "detail": "75% < 90%"}],
    }


@pytest.fixture
def wired(monkeypatch):
    """A stand-in for the evidence area, recording the uploads it gets (with the bytes read
    from each upload's file, which is closed once the request is over)."""
    uploads = []

    def read(actor, item, upload):
        data = upload.file.read()
        uploads.append((upload, data))
        if upload.format == "mystery":
            raise hooks.UnsupportedFormat("Unknown result-file format 'mystery'.", "format")
        if data.startswith(b"locked"):
            raise PermissionDenied("Evidence cannot be attached to a closed item.")
        return upload, data

    def ingest(session, actor, item, result):
        upload, data = result
        return _run(item.id, data, upload.format or "promptfoo")

    monkeypatch.setattr(hooks, "read_evidence", read)
    monkeypatch.setattr(hooks, "ingest_evidence", ingest)
    monkeypatch.setattr(hooks, "get_evidence", lambda s, v, i: _run(1, RESULTS) if i == 7 else None)
    monkeypatch.setattr(hooks, "evidence_file",
                        lambda s, v, i: hooks.EvidenceFile(RESULTS, "application/json", "results.json") if i == 7 else None)
    return uploads


SAMPLE_CSV = Path(__file__).resolve().parent.parent / "evidence" / "fixtures" / "handwritten-support-bot.csv"


def test_the_posted_file_is_parsed_before_the_write_lock(api_as, staff, make_item, monkeypatch):
    """Other changes wait for an upload only while it is stored, not while its file is parsed."""
    item = make_item(staff, status="open")
    locked_while_parsing = []
    parse = evidence_service.parse

    def watched(*args, **kwargs):
        locked_while_parsing.append(db.holds_write_lock(db.session()))
        return parse(*args, **kwargs)

    monkeypatch.setattr(evidence_service, "parse", watched)
    response = api_as(staff).post(f"/api/v1/items/{item.id}/evidence", data=SAMPLE_CSV.read_bytes(),
                                  content_type="text/csv")
    assert response.status_code == 201, response.get_json()
    assert locked_while_parsing == [False]


def test_a_ci_job_posts_a_real_result_file_and_reads_it_back(api_as, staff, make_item, make_user, db_session):
    item = make_item(staff, status="open")
    api = api_as(staff)
    data = SAMPLE_CSV.read_bytes()
    before = counts(db_session)
    response = api.post(f"/api/v1/items/{item.id}/evidence", data=data, content_type="text/csv")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    # the totals the eval-samples README gives for this file
    assert (body["total"], body["passed"], body["failed"], body["edge_total"], body["edge_passed"]) == (12, 8, 4, 5, 3)
    assert body["format"] == "csv" and body["sha256"] == hashlib.sha256(data).hexdigest()
    assert {g["name"] for g in body["gates"]} >= {"coverage", "edge_pass_rate", "freshness"}
    assert counts(db_session) != before
    auditor = api_as(make_user(role="auditor", function=None))
    assert auditor.get(f"/api/v1/evidence/{body['id']}").get_json()["sha256"] == body["sha256"]
    assert auditor.get(f"/api/v1/evidence/{body['id']}/file").data == data
    detail = auditor.get(f"/api/v1/items/{item.id}").get_json()
    assert [run["id"] for run in detail["evidence"]] == [body["id"]]


def test_a_large_raw_body_is_spooled_stored_and_read_back_whole(api_as, staff, make_item, make_user):
    """Over 1 MiB the raw body is spooled to disk and stored in several pieces."""
    item = make_item(staff, status="open")
    data = csv_bytes(30000, 10000, 3000, 1000)
    assert len(data) > 1024 * 1024
    response = api_as(staff).post(f"/api/v1/items/{item.id}/evidence", data=data, content_type="text/csv")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["passed"], body["failed"]) == (33000, 11000)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    file = api_as(make_user(role="auditor", function=None)).get(f"/api/v1/evidence/{body['id']}/file")
    assert file.data == data and file.headers["Content-Length"] == str(len(data))


def test_an_unreadable_or_mislabelled_file_is_refused_and_nothing_is_stored(api_as, staff, make_item, db_session):
    item = make_item(staff, status="open")
    api = api_as(staff)
    before = counts(db_session)
    assert_problem(api.post(f"/api/v1/items/{item.id}/evidence", data=b"just words"), 415, "unknown format")
    assert_problem(api.post(f"/api/v1/items/{item.id}/evidence", data=b'{"results": '), 400)
    assert_problem(api.post(f"/api/v1/items/{item.id}/evidence?format=junit", data=SAMPLE_CSV.read_bytes()),
                   415, "not JUnit XML")
    assert counts(db_session) == before
    assert_problem(api.get("/api/v1/evidence/424242"), 404)


def test_the_evidence_size_limit_of_the_configuration_applies_to_the_api(app, api_as, staff, make_item, db_session):
    item = make_item(staff, status="open")
    api = api_as(staff)
    data = SAMPLE_CSV.read_bytes()
    app.config["EVIDENCE_MAX_BYTES"] = len(data) - 1
    before = counts(db_session)
    response = api.post(f"/api/v1/items/{item.id}/evidence", data=data, content_type="text/csv")
    assert_problem(response, 413, "the limit for evidence files")
    assert counts(db_session) == before
    app.config["EVIDENCE_MAX_BYTES"] = len(data)
    response = api.post(f"/api/v1/items/{item.id}/evidence", data=data, content_type="text/csv")
    assert response.status_code == 201, response.get_json()


def test_the_evidence_limit_not_the_request_limit_bounds_the_api_upload(app, api_as, staff, make_item, db_session):
    """The documented evidence limit holds on the API even where it is larger than the app-wide
    request limit (20 MiB against 16 MiB by default; here the whole file against 100 bytes)."""
    item = make_item(staff, status="open")
    app.config["MAX_CONTENT_LENGTH"] = 100
    data = SAMPLE_CSV.read_bytes()
    assert len(data) > 100
    response = api_as(staff).post(f"/api/v1/items/{item.id}/evidence", data=data, content_type="text/csv")
    assert response.status_code == 201, response.get_json()
    # Other routes keep the app-wide limit.
    assert_problem(api_as(staff).post("/api/v1/items", data=b"{" + b" " * 200 + b"}",
                                      content_type="application/json"), 413, "100 bytes")


def test_a_raw_body_from_curl_reaches_the_evidence_hook(api_as, staff, make_item, wired):
    item = make_item(staff, status="open")
    # curl --data-binary sends application/x-www-form-urlencoded unless told otherwise
    response = api_as(staff).post(f"/api/v1/items/{item.id}/evidence", data=RESULTS,
                                  content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == "/api/v1/evidence/7"
    assert body["item_id"] == item.id and body["edge_pass_rate"] == 0.75
    assert [g["status"] for g in body["gates"]] == ["pass", "fail"]
    ((upload, data),) = wired
    assert data == RESULTS and upload.filename is None and upload.format is None


def test_a_multipart_upload_and_a_format_override(api_as, staff, make_item, wired):
    item = make_item(staff, status="open")
    response = api_as(staff).post(
        f"/api/v1/items/{item.id}/evidence?format=junit",
        data={"file": (io.BytesIO(b"<testsuites/>"), "junit.xml", "application/xml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    ((upload, data),) = wired
    assert (data, upload.filename, upload.media_type, upload.format) == (
        b"<testsuites/>", "junit.xml", "application/xml", "junit")


def test_evidence_input_errors(app, api_as, staff, make_item, make_user, wired):
    item = make_item(staff, status="open")
    api = api_as(staff)
    url = f"/api/v1/items/{item.id}/evidence"
    assert_problem(api.post(url, data=b""), 400, "empty", field="body")
    assert_problem(api.post(url, data={"other": (io.BytesIO(b"x"), "x.json")}, content_type="multipart/form-data"),
                   400, field="file")
    assert_problem(api.post(url + "?format=mystery", data=RESULTS), 415, "mystery")
    assert_problem(api.post(url + "?format=NO%20SPACES", data=RESULTS), 400, field="format")
    assert_problem(api.post(url, data=b"locked file"), 403, "closed item")
    assert_problem(api.post("/api/v1/items/999/evidence", data=RESULTS), 404)
    app.config["EVIDENCE_MAX_BYTES"] = 1000
    limit = 1000 + FORM_ROOM
    assert_problem(api.post(url, data=b"x" * (limit + 1)), 413, f"{limit:,} bytes")
    auditor = make_user(role="auditor", function=None)
    assert_problem(api_as(auditor).post(url, data=RESULTS), 403, "lacks the scope evidence:write")
    reader = api_as(staff, ["items:read"])
    assert_problem(reader.post(url, data=RESULTS), 403, "evidence:write")


def test_read_an_evidence_run_and_its_original_file(api_as, make_user, wired):
    auditor = api_as(make_user(role="auditor", function=None))
    run = auditor.get("/api/v1/evidence/7")
    assert run.status_code == 200 and run.get_json()["sha256"] == hashlib.sha256(RESULTS).hexdigest()
    file = auditor.get("/api/v1/evidence/7/file")
    assert file.status_code == 200 and file.data == RESULTS
    assert file.headers["Content-Disposition"] == "attachment; filename=results.json"
    assert_problem(auditor.get("/api/v1/evidence/8"), 404)


# ---------------------------------------------------------------------------------------- trail
def test_the_trail_in_pages_with_every_field_and_a_chain_that_verifies(api_as, make_user, make_item, staff):
    for n in range(4):
        make_item(staff, status="open", title=f"T{n}")
    auditor = api_as(make_user(role="auditor", function=None))
    events, after = [], 0
    while after is not None:
        page = auditor.get(f"/api/v1/events?after_seq={after}&limit=5").get_json()
        assert len(page["events"]) <= 5
        events += page["events"]
        after = page["next_after_seq"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert set(events[0]) == {"seq", "at", "actor", "kind", "subject", "data", "prev_hash", "hash"}
    assert events[0]["at"].endswith("Z")
    assert verify_links(events).ok
    last = events[-1]["seq"]
    assert auditor.get(f"/api/v1/events?after_seq={last}").get_json() == {"events": [], "next_after_seq": None}


def test_only_executives_and_auditors_read_the_trail(api_as, make_user, staff):
    executive = make_user(role="executive", function="product")
    assert api_as(executive, ["trail:read"]).get("/api/v1/events").status_code == 200
    assert_problem(api_as(staff).get("/api/v1/events"), 403, "lacks the scope trail:read")
    auditor = make_user(role="auditor", function=None)
    assert_problem(api_as(auditor, ["items:read"]).get("/api/v1/events"), 403, "trail:read")
    api = api_as(auditor)
    assert_problem(api.get("/api/v1/events?after_seq=-1"), 400, field="after_seq")
    assert_problem(api.get("/api/v1/events?limit=1001"), 400, field="limit")
    assert_problem(api.get("/api/v1/events?after_seq=99999999999999999999"), 400, field="after_seq")


# ------------------------------------------------------------------------------------- meetings
def test_meetings_with_their_entries_decisions_and_actions_in_cursor_pages(api_as, staff, make_user, make_item, db_session):
    from datetime import timedelta

    from forum.agenda.decisions import ActionData, DecisionData, record_decision
    from forum.agenda.entries import add_entry, get_entry
    from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting
    from forum.core import clock

    chair = make_user(role="executive", function="product")
    owner = make_user(function="risk")
    api = api_as(staff)
    assert api.get("/api/v1/meetings").get_json() == {"meetings": [], "next_cursor": None}
    meetings = []
    for n in range(3):
        item = make_item(staff, status="escalated", title=f"On agenda {n}")
        meeting = create_meeting(db_session, chair, MeetingData(f"Forum {n}", clock.now() + timedelta(days=n + 1), 60))
        entry = add_entry(db_session, chair, meeting, item.id, 20)
        meetings.append((meeting, entry))
    meeting, entry = meetings[0]
    for action in ("publish", "start"):
        change_meeting_status(db_session, chair, meeting, action)
    entry = get_entry(db_session, meeting.id, entry.id)
    record_decision(db_session, chair, entry, DecisionData(
        "approved_with_conditions", "Good enough with a guard.", "Weekly drift check.", decider_ids=[chair.id],
        actions=[ActionData("Set up the drift check", owner.id, clock.now().date() + timedelta(days=7))],
    ))
    db_session.commit()

    first = api.get("/api/v1/meetings?limit=2").get_json()
    assert [m["title"] for m in first["meetings"]] == ["Forum 2", "Forum 1"]
    second = api.get(f"/api/v1/meetings?limit=2&cursor={first['next_cursor']}").get_json()
    assert [m["title"] for m in second["meetings"]] == ["Forum 0"] and second["next_cursor"] is None
    decided = api.get(f"/api/v1/meetings/{meeting.id}").get_json()
    assert decided["status"] == "in_session"
    (row,) = decided["entries"]
    assert row["time_box_minutes"] == 20 and row["order"] == entry.position
    assert row["decision"]["outcome"] == "approved_with_conditions"
    assert row["decision"]["deciders"] == [chair.email]
    assert row["decision"]["actions"] == [{"text": "Set up the drift check", "owner": owner.email,
                                           "due": (clock.now().date() + timedelta(days=7)).isoformat(), "done": False}]
    assert_problem(api.get("/api/v1/meetings/424242"), 404)
    assert_problem(api.get("/api/v1/meetings?cursor=%%%"), 400, field="cursor")


def test_meetings_from_the_meeting_hooks(api_as, staff, monkeypatch):
    meeting = {
        "id": 3, "title": "Executive forum, December", "status": "published", "starts_at": "2026-12-02T09:00:00Z",
        "entries": [{"item_id": 12, "order": 1, "time_box_minutes": 20, "presenter": "risk@example.com",
                     "decision": {"outcome": "approved_with_conditions", "rationale": "Edge cases covered",
                                  "conditions": "Re-test after each update", "deciders": ["exec@example.com"],
                                  "recused": [], "actions": [{"text": "Re-run suite", "owner": "risk@example.com",
                                                              "due": "2026-12-20", "done": False}]}}],
    }
    seen = {}

    def listing(session, viewer, cursor, limit):
        seen.update(cursor=cursor, limit=limit)
        return [meeting], "next-page"

    monkeypatch.setattr(hooks, "list_meetings", listing)
    monkeypatch.setattr(hooks, "get_meeting", lambda s, v, i: meeting if i == 3 else None)
    api = api_as(staff, ["items:read"])
    page = api.get("/api/v1/meetings?limit=5&cursor=abc").get_json()
    assert seen == {"cursor": "abc", "limit": 5}
    assert page["next_cursor"] == "next-page"
    assert page["meetings"][0]["entries"][0]["decision"]["actions"][0]["due"] == "2026-12-20"
    assert api.get("/api/v1/meetings/3").get_json()["title"] == "Executive forum, December"
