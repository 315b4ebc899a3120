"""Risk classification and the obligations it brings: the EU AI Act's and the NIST AI RMF's
checklists per system, each obligation confirmed with what shows it and reopened, on the trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.core import clock
from forum.register import obligations
from forum.register.models import ObligationRecord
from forum.systems import frameworks
from forum.systems import service as systems
from forum.trail.models import Event
from tests.auth.helpers import count

DAY = timedelta(days=1)
FORM = {"name": "Applicant screening", "vendor": "HireLens", "model_name": "hl-screen", "version_in_use": "2026.4",
        "owner_function": "risk", "status": "evaluating", "personal_data": "y"}


def screening(db_session, actor, **classification):
    system = systems.create_system(db_session, actor, systems.SystemData(
        name="Applicant screening", owner_function="risk", vendor="HireLens", model_name="hl-screen",
        **classification), "2026.4")
    db_session.commit()
    return system


def titles(db_session, system) -> dict[str, list[str]]:
    return {c.framework.key: [s.obligation.key for s in c.states] for c in obligations.checklists(db_session, system)}


def test_the_classification_decides_the_obligations(db_session, cast):
    minimal = screening(db_session, cast["filer"], eu_ai_act="minimal")
    assert titles(db_session, minimal) == {"eu_ai_act": ["ai_literacy"],
                                           "nist_ai_rmf": ["govern", "map", "measure", "manage"]}
    high = systems.create_system(db_session, cast["filer"], systems.SystemData(
        name="Other", owner_function="risk", eu_ai_act="high_risk", high_risk_area="employment"))
    assert titles(db_session, high)["eu_ai_act"] == [
        "ai_literacy", "risk_management", "data_governance", "technical_documentation", "record_keeping",
        "transparency_to_deployers", "human_oversight", "accuracy_robustness", "disclose_ai_interaction"]
    provider = systems.create_system(db_session, cast["filer"], systems.SystemData(
        name="Our model", owner_function="risk", eu_ai_act="transparency", gpai_role="provider"))
    assert titles(db_session, provider)["eu_ai_act"] == [
        "ai_literacy", "disclose_ai_interaction", "gpai_documentation", "gpai_copyright"]


def test_a_high_risk_system_needs_its_area_and_only_it_keeps_one(client, login, cast, db_session):
    login(cast["filer"])
    refused = client.post("/systems/new", data={**FORM, "eu_ai_act": "high_risk"})
    assert refused.status_code == 400 and "Say where the system is high-risk" in refused.get_data(as_text=True)
    made = client.post("/systems/new", data={**FORM, "eu_ai_act": "high_risk", "high_risk_area": "employment",
                                             "risk_tier": "high"})
    assert made.status_code == 302
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "High-risk (Art. 6) — Annex III 4: employment and workers&#39; management" in page
    assert "Human oversight (Art. 14, 26)" in page and "0 of 9 met" in page
    system = db_session.scalar(select(systems.AISystem))
    client.post(f"/systems/{system.id}/edit", data={**FORM, "eu_ai_act": "minimal", "high_risk_area": "employment",
                                                    "version": str(system.version)})
    db_session.expire_all()
    assert (system.eu_ai_act, system.high_risk_area) == ("minimal", "")


def test_an_obligation_is_confirmed_with_what_shows_it_and_reopened(db_session, history, cast, client, login):
    system = screening(db_session, cast["filer"], eu_ai_act="high_risk", high_risk_area="employment")
    item = history.item(clock.now() - 3 * DAY, system=system.id)
    run = history.attach(item, clock.now() - 2 * DAY)
    login(cast["chair"])
    url = f"/systems/{system.id}/obligations/eu_ai_act/accuracy_robustness"
    assert f'href="{url}"' in client.get(f"/systems/{system.id}").get_data(as_text=True)
    form = client.get(url).get_data(as_text=True)
    assert "Accuracy, robustness and cybersecurity (Art. 15)" in form and f'<option value="{run.id}">' in form
    nothing = client.post(url, data={"note": "Looks fine"})
    assert nothing.status_code == 400 and "Say what shows it is met" in nothing.get_data(as_text=True)
    bad_doc = client.post(url, data={"document_url": "javascript:alert(1)"})
    assert bad_doc.status_code == 400 and "http(s) address" in bad_doc.get_data(as_text=True)
    assert count(db_session, ObligationRecord) == 0

    done = client.post(url, data={"run": str(run.id), "document_url": "https://intranet.example.org/bias-test",
                                  "note": "Bias and robustness suite, 2026 Q4"})
    assert done.status_code == 302
    page = client.get(f"/systems/{system.id}").get_data(as_text=True)
    assert "1 of 9 met" in page and f"evidence run {run.id}" in page and "Bias and robustness suite" in page
    event = db_session.scalars(select(Event).where(Event.kind == "system.obligation_confirmed")).one()
    assert event.actor == cast["chair"].email and event.data["run"] == run.id
    assert client.post(url, data={"run": str(run.id)}).status_code == 409
    assert "Already confirmed by" in client.get(url).get_data(as_text=True)

    assert client.post(url + "/reopen").status_code == 302
    assert count(db_session, ObligationRecord) == 0
    assert "0 of 9 met" in client.get(f"/systems/{system.id}").get_data(as_text=True)
    assert db_session.scalars(select(Event).where(Event.kind == "system.obligation_reopened")).one()


def test_only_the_systems_own_runs_and_applicable_obligations_can_be_confirmed(db_session, history, cast, client,
                                                                                login, make_user):
    system = screening(db_session, cast["filer"], eu_ai_act="minimal")
    other = systems.create_system(db_session, cast["filer"], systems.SystemData(name="Other", owner_function="risk"))
    db_session.commit()
    foreign = history.attach(history.item(clock.now() - 3 * DAY, system=other.id), clock.now() - 2 * DAY)
    login(cast["chair"])
    base = f"/systems/{system.id}/obligations"
    assert client.post(f"{base}/nist_ai_rmf/measure", data={"run": str(foreign.id)}).status_code == 400
    assert client.post(f"{base}/eu_ai_act/human_oversight", data={"document_url": "https://x.example"}).status_code == 404
    assert client.post(f"{base}/nonsense/govern", data={"document_url": "https://x.example"}).status_code == 404
    assert client.get(f"{base}/eu_ai_act/human_oversight").status_code == 404
    login(make_user("auditor", function=None))
    assert client.post(f"{base}/nist_ai_rmf/govern", data={"document_url": "https://x.example"}).status_code == 403
    assert client.get(f"{base}/nist_ai_rmf/govern").status_code == 403
    assert count(db_session, ObligationRecord) == 0


def test_a_framework_file_with_a_fault_is_refused_with_its_name():
    with pytest.raises(frameworks.FrameworkError, match="policy.json"):
        frameworks._parse("policy.json", '{"key": "p", "name": "P", "obligations": [{"key": "a"}]}')
    with pytest.raises(frameworks.FrameworkError, match="unknown classification fields"):
        frameworks._parse("policy.json", '{"key": "p", "name": "P", "obligations": '
                                         '[{"key": "a", "title": "A", "when": {"colour": ["red"]}}]}')


def test_the_register_filters_by_classification(db_session, cast, client, login):
    screening(db_session, cast["filer"], eu_ai_act="high_risk", high_risk_area="employment")
    systems.create_system(db_session, cast["filer"], systems.SystemData(name="Chat", owner_function="risk"))
    db_session.commit()
    login(cast["chair"])
    high = client.get("/systems?classification=high_risk").get_data(as_text=True)
    assert "Applicant screening" in high and ">Chat<" not in high
    open_ = client.get("/systems?classification=unclassified").get_data(as_text=True)
    assert ">Chat<" in open_ and "Applicant screening" not in open_
    assert client.get("/systems?classification=wild%25").status_code == 400
    assert "Applicant screening" in client.get("/systems?q=hire").get_data(as_text=True)
    assert "No systems match" in client.get("/systems?q=%25").get_data(as_text=True)  # % is a character, not a wildcard
