"""The item timeline (auditors and executives) and its link on the item page."""

from __future__ import annotations

import re

import pytest

from forum.audit.timeline import text_diff
from forum.items import service as items
from forum.trail.service import record
from tests.audit.conftest import count_statements

SUMMARY = "Line one.\nLine two stays.\nLine three.\n" + "\n".join(f"Line {n}." for n in range(4, 14))


@pytest.fixture
def item(make_item, staff, db_session):
    """An open item with a title edit (word diff), a summary edit (line diff), and events the
    later areas write: evidence attached, a decision recorded."""
    item = make_item(staff, status="open", title="Choose a support chatbot vendor", summary=SUMMARY)
    edited = items.ItemData(
        title="Choose the support chatbot vendor <b>now</b>", category="vendor_selection",
        function="procurement", summary=SUMMARY.replace("Line three.", "Line 3, rewritten."),
    )
    items.update_item(db_session, staff, item, edited, item.version)
    record(db_session, staff, "evidence.attached", item.subject,
           {"filename": "promptfoo.json", "sha256": "ab" * 32, "size": 2048})
    record(db_session, None, "decision.recorded", item.subject,
           {"outcome": "approved_with_conditions", "rationale": "Edge cases <b>must</b> pass first."})
    db_session.commit()
    return item


def test_auditor_sees_every_event_in_order_with_who_when_and_links_to_raw_events(
    client, login, auditor, staff, item
):
    login(auditor)

    response = client.get(f"/items/{item.id}/timeline")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    seqs = [int(s) for s in re.findall(r'href="/trail/(\d+)"', page)]
    assert len(seqs) == 5  # filed, submitted, edited, evidence attached, decision recorded
    assert seqs == sorted(seqs)
    for label in ("Filed the item", "Changed the status", "Edited the item"):
        assert label in page
    assert "Sam Staff" in page and "&lt;sam.staff@example.com&gt;" in page
    assert "<time datetime=" in page


def test_title_edit_shows_an_escaped_word_diff(client, login, auditor, item):
    login(auditor)

    page = client.get(f"/items/{item.id}/timeline").get_data(as_text=True)

    assert re.search(r"<del><span class=\"visually-hidden\">removed: </span>a</del>", page)
    assert "<ins><span class=\"visually-hidden\">added: </span>the</ins>" in page
    assert "&lt;b&gt;now&lt;/b&gt;" in page and "<b>now</b>" not in page


def test_summary_edit_shows_a_line_diff_with_context(client, login, auditor, item):
    login(auditor)

    page = client.get(f"/items/{item.id}/timeline").get_data(as_text=True)

    assert '<li class="diff-delete">' in page and "Line three." in page
    assert '<li class="diff-insert">' in page and "Line 3, rewritten." in page
    assert "unchanged line" in page  # long unchanged runs are folded


def test_evidence_hash_and_decision_rationale_are_shown(client, login, auditor, item):
    login(auditor)

    page = client.get(f"/items/{item.id}/timeline").get_data(as_text=True)

    assert "File SHA-256" in page and "ab" * 32 in page
    assert "approved_with_conditions" in page
    assert "Edge cases &lt;b&gt;must&lt;/b&gt; pass first." in page


def test_executive_sees_the_timeline(client, login, executive, item):
    login(executive)
    assert client.get(f"/items/{item.id}/timeline").status_code == 200


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_may_not_see_timelines(client, login, make_user, item, role):
    login(make_user(role))
    assert client.get(f"/items/{item.id}/timeline").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, item):
    response = client.get(f"/items/{item.id}/timeline")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_item_and_other_peoples_drafts_are_not_found(client, login, executive, make_item, staff):
    draft = make_item(staff, status="draft")
    login(executive)
    assert client.get("/items/9999/timeline").status_code == 404
    assert client.get(f"/items/{draft.id}/timeline").status_code == 404


def test_item_page_links_the_timeline_for_trail_readers_only(client, login, auditor, staff, item):
    login(auditor)
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert f'href="/items/{item.id}/timeline"' in page
    assert "Timeline &amp; raw events" in page
    assert "5 events in the trail" in page

    client.post("/logout")
    login(staff)
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "/timeline" not in page
    assert client.post(f"/items/{item.id}/comments", data={"body": "One more event"}).status_code == 302

    client.post("/logout")
    login(auditor)  # the count was kept from the first visit; the comment moved the trail
    assert "6 events in the trail" in client.get(f"/items/{item.id}").get_data(as_text=True)


TIMELINE_BUDGET = 5


def test_timeline_keeps_its_query_budget(app, client, login, auditor, staff, make_item, db_session):
    item = make_item(staff, status="open")
    login(auditor)
    small, _ = count_statements(app, lambda: client.get(f"/items/{item.id}/timeline"))
    for n in range(12):
        db_session.refresh(item)
        items.update_item(db_session, staff, item, items.ItemData(
            title=f"Renamed to version {n}", category="vendor_selection", function="procurement"),
            item.version)
        record(db_session, auditor, "comment.added", item.subject, {"text": f"note {n}"})
        db_session.commit()
    large, _ = count_statements(app, lambda: client.get(f"/items/{item.id}/timeline"))
    assert small == large <= TIMELINE_BUDGET


def test_text_diff_of_one_line_is_by_words():
    diff = text_diff("choose a vendor now", "choose the vendor now")
    assert diff.mode == "words"
    assert [(p.op, p.text) for p in diff.parts] == [
        ("equal", "choose "), ("delete", "a"), ("insert", "the"), ("equal", " vendor now"),
    ]


def test_text_diff_of_several_lines_is_by_lines_and_folds_long_unchanged_runs():
    before = "\n".join(f"line {n}" for n in range(20))
    after = before.replace("line 10", "line ten")

    diff = text_diff(before, after)

    ops = [(p.op, p.text) for p in diff.parts]
    assert diff.mode == "lines"
    assert ("delete", "line 10") in ops and ("insert", "line ten") in ops
    assert ops[0] == ("skip", "8 unchanged lines")
    assert ops[-1] == ("skip", "7 unchanged lines")
    assert ("equal", "line 9") in ops and ("equal", "line 11") in ops
