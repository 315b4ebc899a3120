"""Evidence pages through the test client: upload, refusals (400/413), permissions, the run
page, download headers, comparison, the item-page panel, history, and query budgets."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select

from forum.core import db
from forum.evidence import service
from forum.evidence.models import EvidenceRun
from forum.items import service as items
from forum.trail.models import Event
from tests import budgets
from tests.evidence.conftest import csv_bytes, fixture_bytes


def counts(db_session) -> tuple[int, int]:
    db_session.expire_all()
    return (db_session.scalar(select(func.count()).select_from(EvidenceRun)),
            db_session.scalar(select(func.count()).select_from(Event)))


def upload(client, item_id: int, data: bytes, name: str = "results.json"):
    return client.post(f"/items/{item_id}/evidence", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def count_statements(app, fn) -> int:
    """Statements of one page view, which must succeed."""
    responses = []
    count = budgets.count_statements(app, lambda: responses.append(fn()))
    assert responses[0].status_code == 200, responses[0].status_code
    return count


@pytest.fixture
def logged_in(staff, login):
    login(staff)
    return staff


def test_the_runs_table_labels_its_cells_for_small_screens(client, logged_in, open_item, staff, db_session):
    """Below 40rem each run is a card of labelled lines (CSS reads data-label): every cell has one."""
    service.attach_evidence(db_session, staff, open_item, "a.csv", csv_bytes(8, 2, 4, 0))
    db_session.commit()
    page = client.get(f"/items/{open_item.id}/evidence").get_data(as_text=True)
    table = page.split('<table class="evidence-runs">')[1].split("</table>")[0]
    assert table.count("<td") == table.count("<td data-label=") == 5
    assert all(f'data-label="{label}"' in table for label in ("Run", "Suite · model", "Passed", "Edge cases", "Gates"))


def test_upload_shows_the_result_and_the_run_page(client, logged_in, open_item, db_session):
    response = upload(client, open_item.id, fixture_bytes("pytest-support-llm.xunit2.xml"), "out/pytest.xml")
    assert response.status_code == 302
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/evidence/{run_id}").get_data(as_text=True)
    assert "Evidence attached: JUnit XML, suite support-llm-regression — 16 of 26 passed, 4 of 9 edge cases." in page
    assert "Failing gates: Edge-case pass rate, Freshness." in page
    assert "support-llm-regression" in page and "tiny-support-lm" in page and "2026.04.2" in page
    assert '<svg viewBox=' in page and 'role="img"' in page
    assert '<th scope="row">edge-case</th><td>9</td><td>4</td><td>4</td><td>0</td><td>1</td><td>50%</td>' in page
    assert "test_toxicity_lexicon_covers_slurs" in page
    assert "<details>" in page  # long failure texts fold away
    item_page = client.get(f"/items/{open_item.id}").get_data(as_text=True)
    assert "Evidence from model tests" in item_page and f"#{run_id}" in item_page
    assert "Attached evidence" in item_page  # the history describer
    assert "16 of 26 passed, 4 of 9 edge cases" in item_page


def test_failing_case_text_is_escaped(client, logged_in, open_item):
    response = upload(client, open_item.id, fixture_bytes("junit-several-suites.xml"), "n.xml")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "model complied &lt;script&gt;" in page
    assert "&lt;b&gt;complied&lt;/b&gt;" in page
    assert "<script>" not in page


@pytest.mark.parametrize("data, message", [
    (b"", "the file is empty"),
    (b"just some words\n", "unknown format"),
    (b'{"results": [1,', "malformed JSON"),
    (b"<!DOCTYPE x [<!ENTITY a 'b'>]><testsuite/>", "document type declaration"),
    (b"case_id,score\na,1\n", "the CSV has no pass/fail column"),
    (b'<testsuite name="s" tests="-4"/>', "negative"),
])
def test_bad_files_are_refused_with_400_a_message_and_nothing_stored(client, logged_in, open_item, db_session, data, message):
    before = counts(db_session)
    response = upload(client, open_item.id, data, "bad.txt")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text and "bad.txt:" in text
    assert counts(db_session) == before


def test_a_missing_file_is_a_form_error(client, logged_in, open_item, db_session):
    before = counts(db_session)
    response = client.post(f"/items/{open_item.id}/evidence", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a result file to upload." in response.get_data(as_text=True)
    assert counts(db_session) == before


def test_the_file_is_parsed_before_the_write_lock(client, logged_in, open_item, db_session, monkeypatch):
    """Other changes wait for an upload only while it is stored, not while its file is parsed."""
    locked_while_parsing = []
    parse = service.parse

    def watched(*args, **kwargs):
        locked_while_parsing.append(db.holds_write_lock(db.session()))
        return parse(*args, **kwargs)

    monkeypatch.setattr(service, "parse", watched)
    response = upload(client, open_item.id, csv_bytes(4, 1), "r.csv")
    assert response.status_code == 302
    assert locked_while_parsing == [False]
    assert counts(db_session)[0] == 1


def test_an_oversized_upload_is_refused_with_413_before_it_is_read(app, client, logged_in, open_item, db_session):
    app.config["EVIDENCE_MAX_BYTES"] = 1000
    before = counts(db_session)
    # declared too large: refused on its Content-Length
    response = upload(client, open_item.id, b"x" * 200_000, "big.csv")
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "larger than the 1000 bytes allowed for evidence files" in text
    # within the form allowance but over the file limit: refused after reading limit + 1 bytes
    response = upload(client, open_item.id, b"case_id,passed\n" + b"a,true\n" * 200, "big.csv")
    assert response.status_code == 413
    assert "larger than the 1000 bytes allowed" in response.get_data(as_text=True)
    assert counts(db_session) == before


def test_the_evidence_limit_not_the_request_limit_bounds_an_upload(app, client, logged_in, open_item, db_session):
    """A result file within the evidence limit is accepted even when it is larger than the
    app-wide request limit (16 MiB against 20 MiB by default: here 2,000 bytes against 1,000)."""
    data = csv_bytes(40, 5)
    assert len(data) > 1000
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = upload(client, open_item.id, data, "results.csv")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert db_session.scalar(select(func.count()).select_from(EvidenceRun)) == 1


def test_the_size_limit_is_shown_before_upload(client, logged_in, open_item):
    page = client.get(f"/items/{open_item.id}").get_data(as_text=True)
    assert "Largest upload accepted: <strong>20 MB</strong>" in page
    assert 'enctype="multipart/form-data"' in page


def test_who_may_upload_and_see(client, login, make_user, make_item, staff, open_item, db_session):
    data = csv_bytes(3, 1, 1, 0)
    for role in ("auditor", "admin"):
        user = make_user(role=role, function=None)
        login(user)
        assert upload(client, open_item.id, data, "r.csv").status_code == 403
        assert "Attach a result file" not in client.get(f"/items/{open_item.id}").get_data(as_text=True)
    client.post("/logout")
    assert upload(client, open_item.id, data, "r.csv").status_code == 302  # to the login page
    assert counts(db_session)[0] == 0

    draft = make_item(staff)
    run = service.attach_evidence(db_session, staff, draft, "r.csv", data)
    db_session.commit()
    login(make_user())
    assert upload(client, draft.id, data, "r.csv").status_code == 404
    assert client.get(f"/evidence/{run.id}").status_code == 404
    assert client.get(f"/evidence/{run.id}/original").status_code == 404
    auditor = make_user(role="auditor", function=None)
    login(auditor)
    assert client.get(f"/evidence/{run.id}").status_code == 200
    assert client.get(f"/evidence/{run.id}/original").status_code == 200


def test_a_closed_item_takes_no_more_evidence(client, login, make_user, staff, open_item, db_session):
    executive = make_user(role="executive")
    for action in ("escalate", "schedule", "decide", "close"):
        items.transition(db_session, executive, open_item, action)
    db_session.commit()
    login(staff)
    before = counts(db_session)
    response = upload(client, open_item.id, csv_bytes(1, 0), "r.csv")
    assert response.status_code == 409
    assert "evidence can no longer be attached" in response.get_data(as_text=True)
    assert counts(db_session) == before


def test_download_returns_the_original_bytes_as_an_attachment(client, logged_in, open_item):
    data = fixture_bytes("inspect-intent-router.eval")
    run_url = upload(client, open_item.id, data, "2026-11-24_intent-router.eval").headers["Location"]
    response = client.get(run_url + "/original")
    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename=2026-11-24_intent-router.eval'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    # streamed from the stored pieces, byte ranges still work
    part = client.get(run_url + "/original", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"


def test_a_large_upload_is_stored_in_pieces_and_downloads_whole(client, logged_in, open_item, db_session):
    """Over 500 KB Werkzeug spools the upload to disk and the page hands that file on; over
    1 MiB the file is stored in several pieces. The download is the very same bytes."""
    data = csv_bytes(30000, 10000, 3000, 1000)
    assert len(data) > 1024 * 1024
    # The multipart body built here: the test client would spool its own encoding of a large
    # file to a temporary file that it never closes.
    body = (b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n" + data + b"\r\n--b0undary--\r\n")
    response = client.post(f"/items/{open_item.id}/evidence", data=body,
                           content_type="multipart/form-data; boundary=b0undary")
    run_url = response.headers["Location"]
    original = client.get(run_url + "/original")
    assert original.data == data and original.headers["Content-Length"] == str(len(data))
    tail = client.get(run_url + "/original", headers={"Range": f"bytes={len(data) - 10}-"})
    assert tail.status_code == 206 and tail.data == data[-10:]
    run = db_session.get(EvidenceRun, int(run_url.rsplit("/", 1)[1]))
    assert (run.passed, run.failed, run.edge_total, run.size) == (33000, 11000, 4000, len(data))


def test_compare_two_runs_of_a_suite_by_tag(client, logged_in, open_item, staff, db_session, make_item):
    first = service.attach_evidence(db_session, staff, open_item, "a.csv", csv_bytes(8, 2, 4, 0))
    second = service.attach_evidence(db_session, staff, open_item, "b.csv", csv_bytes(10, 0, 1, 3))
    other = service.attach_evidence(db_session, staff, open_item, "c.csv", csv_bytes(1, 1, suite="other"))
    elsewhere = service.attach_evidence(db_session, staff, make_item(staff, status="open"), "d.csv", csv_bytes(1, 1))
    db_session.commit()
    page = client.get(f"/items/{open_item.id}/evidence/compare?base={second.id}&head={first.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"run #{first.id} → run #{second.id}" in text  # ordered earlier → later
    assert "1 tag got better, 1 got worse." in text
    assert "+20.0 points — <strong>better</strong>" in text and "-75.0 points — <strong>worse</strong>" in text
    assert client.get(f"/items/{open_item.id}/evidence/compare?base={first.id}&head={other.id}").status_code == 400
    assert client.get(f"/items/{open_item.id}/evidence/compare?base={first.id}&head={elsewhere.id}").status_code == 404
    bad = client.get(f"/items/{open_item.id}/evidence/compare?base=x")
    assert bad.status_code == 400 and "Choose two runs to compare" in bad.get_data(as_text=True)
    detail = client.get(f"/evidence/{second.id}").get_data(as_text=True)
    assert f"Compare with run #{first.id}" in detail


def test_a_decided_item_with_stale_evidence_shows_revalidation_required(client, login, make_user, staff, open_item, db_session):
    service.attach_evidence(db_session, staff, open_item, "a.csv", csv_bytes(8, 2, 4, 0, version="1.0"))
    executive = make_user(role="executive")
    for action in ("escalate", "schedule", "decide"):
        items.transition(db_session, executive, open_item, action)
    db_session.commit()
    login(staff)
    assert "Revalidation required" not in client.get(f"/items/{open_item.id}").get_data(as_text=True)
    # the model is updated after the decision: its evidence is stale at once
    items.update_model_version(db_session, staff, open_item, "1.1", open_item.version)
    db_session.commit()
    page = client.get(f"/items/{open_item.id}").get_data(as_text=True)
    assert "Revalidation required" in page and "the item is now at 1.1" in page


# Query budgets: the same number of statements with one run or many.
ITEM_PAGE_BUDGET = budgets.BUDGETS["items.detail"]
INDEX_BUDGET = budgets.BUDGETS["evidence.index"]
RUN_BUDGET = budgets.BUDGETS["evidence.detail"]
COMPARE_BUDGET = budgets.BUDGETS["evidence.compare"]


def test_pages_keep_their_query_budget_whatever_the_data_size(app, client, logged_in, staff, open_item, db_session):
    first = service.attach_evidence(db_session, staff, open_item, "a.csv", csv_bytes(8, 2, 4, 0))
    second = service.attach_evidence(db_session, staff, open_item, "b.csv", csv_bytes(7, 3, 3, 1))
    db_session.commit()

    def measure():
        return {
            "item": count_statements(app, lambda: client.get(f"/items/{open_item.id}")),
            "index": count_statements(app, lambda: client.get(f"/items/{open_item.id}/evidence")),
            "run": count_statements(app, lambda: client.get(f"/evidence/{second.id}")),
            "compare": count_statements(app, lambda: client.get(
                f"/items/{open_item.id}/evidence/compare?base={first.id}&head={second.id}")),
        }

    small = measure()
    for n in range(30):
        service.attach_evidence(db_session, staff, open_item, f"r{n}.csv",
                                csv_bytes(5, n % 4, 2, 1, suite=f"suite-{n % 7}", tags=f"t{n}"))
    db_session.commit()
    large = measure()
    assert small == large
    assert large["item"] <= ITEM_PAGE_BUDGET, large
    assert large["index"] <= INDEX_BUDGET
    assert large["run"] <= RUN_BUDGET
    assert large["compare"] <= COMPARE_BUDGET


def test_lm_eval_results_and_their_samples_upload_together_as_one_run(client, logged_in, open_item, db_session):
    """The real lm-eval outputs: results JSON in the file field, both samples files in the second."""
    names = ["lm-eval-support-dummy.results.json", "lm-eval-support-dummy.samples.support_intent_mc.jsonl",
             "lm-eval-support-dummy.samples.slang_abbrev_em.jsonl"]
    before = counts(db_session)
    response = client.post(f"/items/{open_item.id}/evidence", content_type="multipart/form-data", data={
        "file": (io.BytesIO(fixture_bytes(names[0])), names[0]),
        "samples": [(io.BytesIO(fixture_bytes(name)), name) for name in names[1:]],
    })
    assert response.status_code == 302
    assert counts(db_session) == (before[0] + 1, before[1] + 1)  # one run, one trail event
    run = db_session.scalar(select(EvidenceRun).order_by(EvidenceRun.id.desc()))
    assert (run.format, run.total, run.passed, run.edge_total, run.edge_passed) == ("lm-eval-run", 22, 9, 9, 4)
    assert run.model_id == "acme/support-dummy-1b" and run.metrics["slang_abbrev_em exact_match"] == 0.5
    assert run.filename == "lm-eval-support-dummy.results.zip" and run.content_type == "application/zip"
    page = client.get(f"/evidence/{run.id}").get_data(as_text=True)
    assert "lm-evaluation-harness results + samples" in page and "9 of 22 passed, 4 of 9 edge cases" in page
    original = client.get(f"/evidence/{run.id}/original")
    import zipfile
    assert sorted(zipfile.ZipFile(io.BytesIO(original.data)).namelist()) == sorted(names)


def test_samples_files_with_a_file_that_is_not_lm_eval_results_are_refused(client, logged_in, open_item, db_session):
    before = counts(db_session)
    response = client.post(f"/items/{open_item.id}/evidence", content_type="multipart/form-data", data={
        "file": (io.BytesIO(fixture_bytes("promptfoo-support-2providers.json")), "promptfoo.json"),
        "samples": [(io.BytesIO(fixture_bytes("lm-eval-support-dummy.samples.slang_abbrev_em.jsonl")), "s.jsonl")],
    })
    assert response.status_code == 400
    assert "no lm-evaluation-harness results JSON" in response.get_data(as_text=True)
    assert counts(db_session) == before
    response = client.post(f"/items/{open_item.id}/evidence", content_type="multipart/form-data", data={
        "file": (io.BytesIO(fixture_bytes("lm-eval-support-dummy.results.json")), "r.json"),
        "samples": [(io.BytesIO(b"case_id,passed\n"), "s.csv")],
    })
    assert response.status_code == 400 and "per-sample files are lm-evaluation-harness JSON Lines" in \
        response.get_data(as_text=True)
    assert counts(db_session) == before


def test_the_evidence_list_offers_a_picker_of_two_runs_grouped_by_suite(client, logged_in, open_item, staff,
                                                                        db_session):
    assert "Compare two runs" not in client.get(f"/items/{open_item.id}/evidence").get_data(as_text=True)
    first = service.attach_evidence(db_session, staff, open_item, "a.csv", csv_bytes(8, 2, 4, 0))
    other = service.attach_evidence(db_session, staff, open_item, "c.csv", csv_bytes(1, 1, suite="other"))
    db_session.commit()
    page = client.get(f"/items/{open_item.id}/evidence").get_data(as_text=True)
    assert "Compare two runs" not in page and "each suite here has one run so far" in page
    second = service.attach_evidence(db_session, staff, open_item, "b.csv", csv_bytes(10, 0, 1, 3))
    db_session.commit()
    page = client.get(f"/items/{open_item.id}/evidence").get_data(as_text=True)
    assert "Compare two runs" in page and "each suite here has one run so far" not in page
    assert f'action="/items/{open_item.id}/evidence/compare"' in page and 'method="get"' in page
    assert '<label class="label" for="base">Earlier run</label>' in page and 'for="head">Later run</label>' in page
    assert '<optgroup label="nightly">' in page and '<optgroup label="other">' in page
    # starts on the latest two runs of a suite that has two
    assert f'<option selected value="{second.id}">#{second.id} · ' in page.split('id="head"')[1]
    assert f'<option selected value="{first.id}">#{first.id} · ' in page.split('id="base"')[1].split('id="head"')[0]
    assert f"#{other.id} · " in page and "of 2 passed" in page
    # the form's own submission compares them
    result = client.get(f"/items/{open_item.id}/evidence/compare?base={first.id}&head={second.id}")
    assert result.status_code == 200 and "Compare other runs" in result.get_data(as_text=True)


def test_the_picker_says_why_two_runs_cannot_be_compared(client, logged_in, open_item, staff, db_session):
    first = service.attach_evidence(db_session, staff, open_item, "a.csv", csv_bytes(8, 2, 4, 0))
    other = service.attach_evidence(db_session, staff, open_item, "c.csv", csv_bytes(1, 1, suite="other"))
    db_session.commit()
    url = f"/items/{open_item.id}/evidence/compare"
    page = client.get(f"{url}?base={first.id}&head={other.id}")
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert f"Run #{first.id} tests suite “nightly” and run #{other.id} tests “other”: choose two runs of the same " \
           "suite." in text
    assert '<a href="#head">Later run: Run #' in text  # the error summary points at the field
    assert 'aria-invalid="true"' in text and "Choose two runs of the same suite" in text
    same = client.get(f"{url}?base={first.id}&head={first.id}")
    assert same.status_code == 400
    assert f"Run #{first.id} is chosen twice: choose two different runs of its suite." in same.get_data(as_text=True)
    missing = client.get(url)
    assert missing.status_code == 400 and "Choose the earlier run." in missing.get_data(as_text=True)
