"""Recording a model update on an item past escalation: the one field that still changes, with
one trail event, so that evidence of the old version turns stale and a decided item shows
"revalidation required" (docs/evidence.md). Found missing by the model-update browser journey."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.core.errors import Conflict, PermissionDenied, ValidationError
from forum.evidence import service as evidence
from forum.items import service as items
from forum.trail.models import Event
from tests.agenda.samples import agenda_samples

CSV = Path(__file__).resolve().parent.parent / "evidence" / "fixtures" / "handwritten-support-bot.csv"


def events_of(session, subject: str) -> list[Event]:
    session.expire_all()
    return list(session.scalars(select(Event).where(Event.subject == subject).order_by(Event.seq)))


@pytest.fixture
def people(make_user):
    return {
        "filer": make_user(function="procurement", email="filer@example.com"),
        "risk": make_user(function="risk", email="risk@example.com"),
        "executive": make_user(role="executive", function="product", email="exec@example.com"),
        "auditor": make_user(role="auditor", function=None, email="audit@example.com"),
        "product": make_user(function="product", email="product@example.com"),
    }


def test_any_member_records_a_model_update_on_an_escalated_item_with_one_event(db_session, people, make_item):
    item = make_item(people["filer"], status="escalated", model_version="2026.06.1")
    before = len(events_of(db_session, item.subject))
    changes = items.update_model_version(db_session, people["risk"], item, " 2026.07.0 ", item.version)
    db_session.commit()
    assert changes == {"model_version": {"before": "2026.06.1", "after": "2026.07.0"}}
    assert item.model_version == "2026.07.0"
    trail = events_of(db_session, item.subject)
    assert len(trail) == before + 1
    assert trail[-1].kind == "item.updated" and trail[-1].actor == "risk@example.com"
    assert trail[-1].data == {"changes": changes, "version": item.version}


def test_the_same_version_changes_nothing_and_writes_no_event(db_session, people, make_item):
    item = make_item(people["filer"], status="escalated", model_version="3.1.0")
    before = len(events_of(db_session, item.subject))
    assert items.update_model_version(db_session, people["risk"], item, "3.1.0", item.version) == {}
    assert len(events_of(db_session, item.subject)) == before


@pytest.mark.parametrize("status", ["draft", "open"])
def test_before_escalation_the_filer_edits_instead(db_session, people, make_item, status):
    item = make_item(people["filer"], status=status)
    assert not items.can_update_model(people["filer"], item)
    with pytest.raises(Conflict) as refused:
        items.update_model_version(db_session, people["filer"], item, "2.0", item.version)
    assert refused.value.field == "status" and status in refused.value.reason


def test_refusals_say_why_and_write_nothing(db_session, people, make_item):
    item = make_item(people["filer"], status="escalated", model_version="1.0")
    before = len(events_of(db_session, item.subject))
    with pytest.raises(PermissionDenied):
        items.update_model_version(db_session, people["auditor"], item, "2.0", item.version)
    with pytest.raises(ValidationError, match="model version"):
        items.update_model_version(db_session, people["risk"], item, "   ", item.version)
    with pytest.raises(ValidationError, match="80"):
        items.update_model_version(db_session, people["risk"], item, "9" * 81, item.version)
    with pytest.raises(Conflict) as stale:
        items.update_model_version(db_session, people["risk"], item, "2.0", item.version - 1)
    assert stale.value.field == "version"
    db_session.rollback()
    assert len(events_of(db_session, item.subject)) == before
    assert item.model_version == "1.0"


@pytest.fixture
def decided(db_session, people, make_item):
    """A decided item (approved with conditions, one open action) with evidence of version
    2026.06.1 — the version the CSV fixture was tested on."""
    cast = {"executive": people["executive"], "product": people["product"], "risk": people["risk"]}
    ids = agenda_samples(db_session, cast, make_item)
    from forum.agenda.entries import get_entry

    item = get_entry(db_session, ids["meeting_id"], ids["entry_id"]).item
    items.update_model_version(db_session, people["executive"], item, "2026.06.1", item.version)
    evidence.attach_evidence(db_session, people["product"], item, "support-bot.csv", CSV.read_bytes())
    db_session.commit()
    assert item.status == "decided"
    return item


def test_on_a_decided_item_the_page_records_the_update_and_shows_revalidation_required(
        client, login, db_session, people, decided):
    login(people["risk"])
    page = client.get(f"/items/{decided.id}").get_data(as_text=True)
    assert "Record a model update" in page
    assert "Revalidation required" not in page

    response = client.post(f"/items/{decided.id}/model-version",
                           data={"model-model_version": "2026.07.0", "model-version": str(decided.version)})
    assert response.status_code == 302
    page = client.get(f"/items/{decided.id}").get_data(as_text=True)
    assert "Model update recorded: the item is now at version 2026.07.0" in page
    assert "Revalidation required" in page
    assert "Stale: tested model version 2026.06.1, the item is now at 2026.07.0." in page


def test_the_page_refuses_an_empty_version_or_a_stale_form_with_the_input_kept(client, login, db_session, people, decided):
    login(people["risk"])
    empty = client.post(f"/items/{decided.id}/model-version",
                        data={"model-model_version": "", "model-version": str(decided.version)})
    assert empty.status_code == 400
    assert "Give the model version now in use." in empty.get_data(as_text=True)
    stale = client.post(f"/items/{decided.id}/model-version",
                        data={"model-model_version": "2026.09", "model-version": str(decided.version - 1)})
    assert stale.status_code == 409
    body = stale.get_data(as_text=True)
    assert "Someone else changed this item" in body and 'value="2026.09"' in body
    db_session.expire_all()
    assert decided.model_version == "2026.06.1"


def test_auditors_see_no_form_and_are_refused(client, login, people, decided):
    login(people["auditor"])
    assert "Record a model update" not in client.get(f"/items/{decided.id}").get_data(as_text=True)
    response = client.post(f"/items/{decided.id}/model-version",
                           data={"model-model_version": "2.0", "model-version": str(decided.version)})
    assert response.status_code == 403


def test_the_api_patch_of_the_model_version_alone_works_after_the_decision(client, db_session, people, decided):
    """README: "Change an item's model version after an update" with PATCH — it answered 409 on
    any item past the forum stage before."""
    from forum.api import service as api_tokens

    _token, secret = api_tokens.create_token(
        db_session, people["risk"], people["risk"], api_tokens.NewToken("ci", ["items:read", "items:write"]))
    db_session.commit()
    auth = {"Authorization": f"Bearer {secret}"}
    etag = client.get(f"/api/v1/items/{decided.id}", headers=auth).headers["ETag"]
    response = client.patch(f"/api/v1/items/{decided.id}", json={"model_version": "2026.07.0"},
                            headers={**auth, "If-Match": etag})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["model_version"] == "2026.07.0"
    assert "revalidation_required" in response.get_json()["flags"]
    other = client.patch(f"/api/v1/items/{decided.id}", json={"title": "x"},
                         headers={**auth, "If-Match": response.headers["ETag"]})
    assert other.status_code == 403  # other fields stay the filer's, and only before escalation
    assert db_session.scalar(select(func.count()).select_from(Event).where(
        Event.subject == decided.subject, Event.kind == "item.updated")) == 2
