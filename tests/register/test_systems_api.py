"""The register through the API: /api/v1/systems list, get, create and patch with If-Match — the
vendor-update pipeline's PATCH of version_in_use that reaches every item about the system."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from forum.core import clock
from forum.items.models import DecisionItem
from forum.systems import service as systems
from forum.systems.models import AISystem
from forum.trail.models import Event

DAY = timedelta(days=1)
NEW = {"name": "Support assistant", "owner_function": "procurement", "vendor": "Acme AI",
       "model_name": "acme-chat", "version_in_use": "2026.11", "status": "production", "personal_data": True}


def test_a_pipeline_adds_reads_and_lists_systems(api_as, make_user, db_session):
    staff = make_user(function="procurement")
    api = api_as(staff, ["systems:read", "systems:write"])
    created = api.post("/api/v1/systems", json=NEW)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["name"], body["version_in_use"], body["owner_function"], body["personal_data"]) == (
        "Support assistant", "2026.11", "procurement", True)
    assert created.headers["ETag"] == '"1"' and created.headers["Location"] == f"/api/v1/systems/{body['id']}"
    assert body["url"].endswith(f"/systems/{body['id']}")
    assert api.get(f"/api/v1/systems/{body['id']}").get_json() == body
    for n in range(3):
        assert api.post("/api/v1/systems", json={**NEW, "name": f"Bot {n}", "status": "pilot"}).status_code == 201
    first = api.get("/api/v1/systems?limit=2").get_json()
    second = api.get(f"/api/v1/systems?limit=2&cursor={first['next_cursor']}").get_json()
    names = [s["name"] for s in first["systems"] + second["systems"]]
    assert names == ["Bot 2", "Bot 1", "Bot 0", "Support assistant"] and second["next_cursor"] is None
    assert [s["name"] for s in api.get("/api/v1/systems?status=production").get_json()["systems"]] == [
        "Support assistant"]


def test_bad_input_is_a_problem_naming_the_field(api_as, make_user, db_session):
    api = api_as(make_user(function="procurement"), ["systems:read", "systems:write"])
    assert api.post("/api/v1/systems", json=NEW).status_code == 201
    taken = api.post("/api/v1/systems", json={**NEW, "name": "SUPPORT assistant"})
    assert taken.status_code == 409 and "already has a system named" in taken.get_json()["detail"]
    unknown = api.post("/api/v1/systems", json={**NEW, "name": "Other", "status": "shipped"})
    assert unknown.status_code == 400 and unknown.content_type.startswith("application/problem+json")
    owner = api.post("/api/v1/systems", json={**NEW, "name": "Other", "owner_function": "legal"})
    assert owner.status_code == 400 and "'legal' is not one of the functions" in owner.get_json()["detail"]
    assert api.get("/api/v1/systems?cursor=damaged").status_code == 400
    assert api.get("/api/v1/systems/999999").status_code == 404
    assert db_session.scalar(select(AISystem).where(AISystem.name == "Other")) is None


def test_scopes_and_roles_decide(api_as, make_user):
    staff = make_user(function="procurement")
    reader = api_as(staff, ["systems:read"])
    assert reader.get("/api/v1/systems").status_code == 200
    assert reader.post("/api/v1/systems", json=NEW).status_code == 403
    auditor = api_as(make_user("auditor", function=None))
    assert auditor.get("/api/v1/systems").status_code == 200
    assert auditor.post("/api/v1/systems", json=NEW).status_code == 403


def test_a_vendor_update_through_the_api_reaches_every_item_about_the_system(api_as, db_session, history, cast):
    now = clock.now()
    system = systems.create_system(db_session, cast["filer"], systems.SystemData(
        name="Support assistant", owner_function="procurement", vendor="Acme AI", model_name="acme-chat"), "2026.11")
    db_session.commit()
    decided = []
    for n in range(3):
        item = history.item(now - 30 * DAY, title=f"Decided {n}", system=system.id)
        history.attach(item, now - 29 * DAY)
        history.decide(item, now - 20 * DAY)
        decided.append(item)
    api = api_as(cast["chair"], ["systems:read", "systems:write", "items:read"])
    url = f"/api/v1/systems/{system.id}"
    assert api.patch(url, json={"version_in_use": "2026.12"}).status_code == 428
    assert api.patch(url, json={"version_in_use": "2026.12"}, headers={"If-Match": '"7"'}).status_code == 412
    response = api.patch(url, json={"version_in_use": "2026.12", "note": "Release 2026.12", "status": "production"},
                         headers={"If-Match": api.get(url).headers["ETag"]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["version_in_use"] == "2026.12" and response.get_json()["status"] == "production"
    for item in decided:
        shown = api.get(f"/api/v1/items/{item.id}").get_json()
        assert shown["model_version"] == "2026.12" and shown["system"] == system.id
        assert "revalidation_required" in shown["flags"]
    db_session.expire_all()
    kinds = [e.kind for e in db_session.scalars(select(Event).order_by(Event.seq.desc()).limit(5))]
    assert kinds[:4] == ["item.updated"] * 3 + ["system.version_recorded"]
    assert all(i.model_version == "2026.12" for i in db_session.scalars(
        select(DecisionItem).where(DecisionItem.system_id == system.id)))
