"""Drafts stay private to their filer until submitted, in the trail too: an executive finds none of
another person's draft's events in the trail browser, a raw event, the export or the API, while an
auditor (whose job is the whole record) sees them all. A filtered export says so, and `forum trail
verify --file` checks the links it can."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from forum.api import service as api_service
from forum.items import service as items
from forum.trail.models import Event
from tests.audit.conftest import count_statements
from tests.audit.test_browser import BROWSER_BUDGET

SECRET = "Project Nightjar"


@pytest.fixture
def draft(db_session, staff, make_item):
    """Another person's draft, edited once: item.created and item.updated, both naming it."""
    item = make_item(staff, title=f"{SECRET} acquisition", summary="Buy the vendor outright.")
    items.update_item(db_session, staff, item, replace(_data(item), summary=f"{SECRET}: the price."), item.version)
    db_session.commit()
    return item


def _data(item) -> items.ItemData:
    return items.ItemData(title=item.title, category=item.category, function=item.function_key,
                          summary=item.summary)


def draft_events(db_session, item) -> list[Event]:
    db_session.expire_all()
    return list(db_session.scalars(select(Event).where(Event.subject == item.subject).order_by(Event.seq)))


def trail_reads(client, api, item) -> dict[str, str]:
    """Every way a trail reader reads events, as text."""
    pages = {
        "browser": client.get("/trail").get_data(as_text=True),
        "by subject": client.get(f"/trail?subject={item.subject}").get_data(as_text=True),
        "by text": client.get(f"/trail?text={SECRET}").get_data(as_text=True),
        "export": client.get("/trail/export.jsonl").get_data(as_text=True),
        "csv": client.get("/trail/export.csv").get_data(as_text=True),
        "api": json.dumps(api.get("/api/v1/events?limit=1000").get_json()),
    }
    return pages


class Api:
    def __init__(self, app, db_session, user):
        _token, self.secret = api_service.create_token(
            db_session, None, user, api_service.NewToken("trail", ["trail:read"]))
        db_session.commit()
        self.client = app.test_client()

    def get(self, url):
        return self.client.get(url, headers={"Authorization": f"Bearer {self.secret}"})


def test_an_executive_sees_none_of_another_persons_draft_in_the_trail(
        app, client, login, executive, draft, db_session, notes):
    notes(2)
    hidden = draft_events(db_session, draft)
    assert [e.kind for e in hidden] == ["item.created", "item.updated"]
    login(executive)

    assert client.get(f"/items/{draft.id}").status_code == 404
    for where, text in trail_reads(client, Api(app, db_session, executive), draft).items():
        if where != "by text":  # these two pages repeat the filter typed in
            assert SECRET not in text, where
        if where != "by subject":
            assert draft.subject not in text, where
        for event in hidden:
            assert f'href="/trail/{event.seq}"' not in text, where
            assert f'"hash":"{event.hash}"' not in text.replace(" ", ""), where
    for event in hidden:
        assert client.get(f"/trail/{event.seq}").status_code == 404
    # The neighbours of a hidden event do not link to it.
    neighbour = client.get(f"/trail/{hidden[-1].seq + 1}").get_data(as_text=True)
    assert f'href="/trail/{hidden[-1].seq}"' not in neighbour


def test_only_item_subjects_name_a_draft(app, client, login, executive, draft, db_session):
    """A draft is found from the id in an ``item:N`` subject: events of other kinds of subject
    that carry the same number (a meeting, a person, an AI system) stay in view."""
    from forum.trail.service import record

    others = [f"{kind}:{draft.id}" for kind in ("meeting", "user", "system")]
    for subject in others:
        record(db_session, executive, "test.noted", subject, {"note": "same number"})
    db_session.commit()
    login(executive)

    api = json.dumps(Api(app, db_session, executive).get("/api/v1/events?limit=1000").get_json())
    page = client.get("/trail").get_data(as_text=True)

    for subject in others:
        assert subject in page and subject in api
    assert draft.subject not in page and draft.subject not in api


def test_an_auditor_sees_every_event_of_every_draft(app, client, login, auditor, draft, db_session):
    hidden = draft_events(db_session, draft)
    login(auditor)

    for where, text in trail_reads(client, Api(app, db_session, auditor), draft).items():
        if where != "by text":  # the text filter matches the data, where the title is
            assert draft.subject in text, where
        assert SECRET in text, where
    for event in hidden:
        assert client.get(f"/trail/{event.seq}").status_code == 200


def test_filers_see_their_own_drafts_and_everyone_sees_a_submitted_item(
        app, client, login, executive, staff, make_item, db_session):
    own = make_item(executive)
    (own_created,) = draft_events(db_session, own)
    login(executive)
    assert f'href="/trail/{own_created.seq}"' in client.get(f"/trail?subject={own.subject}").get_data(as_text=True)

    other = make_item(staff)
    (created,) = draft_events(db_session, other)
    assert f'href="/trail/{created.seq}"' not in client.get("/trail").get_data(as_text=True)
    items.transition(db_session, staff, other, "submit")
    db_session.commit()
    assert f'href="/trail/{created.seq}"' in client.get("/trail").get_data(as_text=True)  # its history too
    assert client.get(f"/trail/{created.seq}").status_code == 200


def test_the_executives_export_says_it_is_filtered_and_verifies_as_far_as_it_can(
        app, client, login, executive, auditor, draft, db_session, notes, cli, tmp_path):
    notes(3)
    login(executive)
    response = client.get("/trail/export.jsonl")
    header, *links = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    partial = tmp_path / "executive.jsonl"
    partial.write_text(response.get_data(as_text=True), encoding="utf-8")

    assert header["trail_export"]["filtered"] is True
    assert header["trail_export"]["left_out"] == ["events of draft items the exporter may not see"]
    assert response.headers["X-Trail-Filtered"] == "drafts-left-out"
    assert "trail_filtered_" in response.headers["Content-Disposition"]
    checked = cli("trail", "verify", "--file", str(partial))
    assert checked.exit_code == 0, checked.output
    assert "FILTERED EXPORT" in checked.output
    assert "2 event(s) left out in 1 gap(s)" in checked.output
    assert "PARTIAL OK" in checked.output and "only the auditor's full export" in checked.output

    # Altering an event of the filtered export is still caught by its own hash.
    links[-1]["data"] = {"n": "forged"}
    altered = tmp_path / "altered.jsonl"
    altered.write_text("\n".join(json.dumps(x) for x in [header, *links]) + "\n", encoding="utf-8")
    assert cli("trail", "verify", "--file", str(altered)).exit_code == 1

    # The same export without its header is a chain with a gap: broken.
    bare = tmp_path / "bare.jsonl"
    bare.write_text("\n".join(json.dumps(x) for x in links) + "\n", encoding="utf-8")
    assert "BROKEN" in cli("trail", "verify", "--file", str(bare)).output

    client.post("/logout")
    login(auditor)
    full = tmp_path / "auditor.jsonl"
    full.write_text(client.get("/trail/export.jsonl").get_data(as_text=True), encoding="utf-8")
    whole = cli("trail", "verify", "--file", str(full))
    assert whole.exit_code == 0 and whole.output.startswith("OK: ")


def test_the_browser_keeps_its_budget_for_an_executive(app, client, login, executive, staff, make_item, notes):
    for _ in range(3):
        make_item(staff)
    notes(60)
    login(executive)
    first = count_statements(app, lambda: client.get("/trail"))[0]
    deep = count_statements(app, lambda: client.get("/trail?before=30"))[0]
    assert first <= BROWSER_BUDGET and deep <= BROWSER_BUDGET


def test_the_kept_trail_pages_keep_each_readers_own_drafts_to_themselves(
        client, login, executive, make_user, auditor, make_item, db_session):
    """A page of the trail is kept for the readers who see the same items: another executive,
    reading it first or after, never gets the filer's page with their draft in it."""
    other = make_user("executive", name="Otto Other", email="otto.exec@example.com")
    own = make_item(executive, title=f"{SECRET} draft")
    (created,) = draft_events(db_session, own)
    link = f'href="/trail/{created.seq}"'
    login(other)
    assert link not in client.get("/trail").get_data(as_text=True)
    login(executive)
    assert link in client.get("/trail").get_data(as_text=True)
    login(other)
    assert link not in client.get("/trail").get_data(as_text=True)
    login(auditor)
    assert link in client.get("/trail").get_data(as_text=True)
