"""For auditors: the register's "obligations unmet" filter, its CSV and JSON export, and a
system's obligations report with the evidence and decisions behind each line."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from sqlalchemy import select

from forum.core import clock
from forum.items import service as items
from forum.register import obligations
from forum.systems import service as systems
from forum.systems.models import AISystem
from tests.budgets import BUDGETS, count_statements
from tests.health.conftest import CSV_VERSION

DAY = timedelta(days=1)
EVERY_MINIMAL = [("eu_ai_act", "ai_literacy"), ("nist_ai_rmf", "govern"), ("nist_ai_rmf", "map"),
                 ("nist_ai_rmf", "measure"), ("nist_ai_rmf", "manage")]


def new_system(db_session, actor, name, version=CSV_VERSION, **values) -> AISystem:
    system = systems.create_system(db_session, actor, systems.SystemData(
        name=name, owner_function="risk", vendor="Acme AI", model_name="acme-chat", **values), version)
    db_session.commit()
    return system


def confirm_all(db_session, actor, system, pairs):
    for framework, key in pairs:
        obligations.confirm(db_session, actor, system, framework, key, document_url="https://intranet.example.org/p")
    db_session.commit()


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_obligations_unmet_lists_the_systems_with_an_open_obligation(db_session, cast, client, login):
    done = new_system(db_session, cast["filer"], "Done", eu_ai_act="minimal")
    confirm_all(db_session, cast["filer"], done, EVERY_MINIMAL)
    new_system(db_session, cast["filer"], "Open", eu_ai_act="minimal")
    login(cast["chair"])
    page = client.get("/systems?unmet=y").get_data(as_text=True)
    assert ">Open<" in page and ">Done<" not in page
    assert "obligations: 5 of 5 met" in client.get("/systems").get_data(as_text=True)

    # Classified high-risk now, it carries seven more obligations: unmet again.
    systems.update_system(db_session, cast["filer"], done, systems.SystemData(
        name="Done", owner_function="risk", vendor="Acme AI", model_name="acme-chat", eu_ai_act="high_risk",
        high_risk_area="employment"), None)
    db_session.commit()
    page = client.get("/systems?unmet=y").get_data(as_text=True)
    assert ">Done<" in page and "obligations: 5 of 13 met" in page


def test_the_unmet_condition_agrees_with_each_systems_checklist(db_session, cast):
    """The SQL condition and the checklists read the same framework files the same way."""
    kinds = [{}, {"eu_ai_act": "minimal"}, {"eu_ai_act": "prohibited"}, {"eu_ai_act": "transparency",
             "gpai_role": "provider"}, {"eu_ai_act": "high_risk", "high_risk_area": "employment"},
             {"gpai_role": "deployer", "risk_tier": "high"}]
    made = []
    for n, kind in enumerate(kinds):
        for confirmed in (False, True):
            system = new_system(db_session, cast["filer"], f"S{n}{confirmed}", **kind)
            if confirmed:
                pairs = [(c.framework.key, s.obligation.key) for c in obligations.checklists(db_session, system)
                         for s in c.states]
                confirm_all(db_session, cast["filer"], system, pairs)
            made.append(system)
    in_sql = set(db_session.scalars(select(AISystem.id).where(obligations.with_obligations_unmet())))
    in_python = {s.id for s, standing in zip(made, obligations.standings(db_session, made).values(), strict=True)
                 if standing.open}
    assert in_sql == in_python
    assert len(in_python) == len(kinds)  # the unconfirmed half


def test_the_register_exports_as_csv_and_json_with_the_filters(db_session, history, cast, client, login,
                                                                make_user):
    screening = new_system(db_session, cast["filer"], "Applicant screening", eu_ai_act="high_risk",
                           high_risk_area="employment", personal_data=True)
    hostile = new_system(db_session, cast["filer"], "=HYPERLINK(\"http://evil.example\")", eu_ai_act="minimal")
    item = history.item(clock.now() - 30 * DAY, system=screening.id)
    history.attach(item, clock.now() - 29 * DAY)
    history.decide(item, clock.now() - 20 * DAY)
    systems.record_version(db_session, cast["filer"], screening, "2027.01")
    items.apply_system_version(db_session, cast["filer"], screening)
    db_session.commit()
    confirm_all(db_session, cast["filer"], hostile, EVERY_MINIMAL)

    login(make_user("auditor", function=None))
    answer = client.get("/systems/export.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="ai-systems-')
    found = {r["id"]: r for r in rows(answer.get_data(as_text=True))}
    first = found[str(screening.id)]
    assert (first["name"], first["eu_ai_act"], first["high_risk_area"], first["version_in_use"]) == (
        "Applicant screening", "high_risk", "employment", "2027.01")
    assert (first["items"], first["decisions_to_revalidate"], first["personal_data"]) == ("1", "yes", "yes")
    assert (first["obligations_applicable"], first["obligations_met"]) == ("13", "0")
    assert "eu_ai_act/human_oversight" in first["obligations_open"].split(";")
    assert first["url"] == f"http://localhost/systems/{screening.id}"
    second = found[str(hostile.id)]
    assert second["name"].startswith("'=HYPERLINK")  # text in a spreadsheet, not a formula
    assert (second["obligations_met"], second["obligations_open"], second["decisions_to_revalidate"]) == ("5", "", "no")

    document = json.loads(client.get("/systems/export.json?unmet=y&classification=high_risk").get_data(as_text=True))
    assert document["filters"] == {"classification": "high_risk", "unmet": "y"}
    assert [s["name"] for s in document["systems"]] == ["Applicant screening"]
    assert document["systems"][0]["decisions_to_revalidate"] is True
    assert document["systems"][0]["obligations_open"][0] == "eu_ai_act/ai_literacy"

    assert json.loads(client.get("/systems/export.json?drifted=y&q=nothing-like-it").get_data(as_text=True))[
        "systems"] == []
    bad = client.get("/systems/export.csv?status=sunset")
    assert bad.status_code == 400 and "Status" in bad.get_data(as_text=True)
    assert rows(client.get("/systems/export.csv?status=retired").get_data(as_text=True)) == []


def test_the_export_needs_a_login(client):
    answer = client.get("/systems/export.csv")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_export_streams_in_batches_past_the_first(db_session, cast, client, login, monkeypatch):
    from forum.register import report
    monkeypatch.setattr(report, "BATCH", 2)
    for n in range(5):
        new_system(db_session, cast["filer"], f"System {n}")
    login(cast["chair"])
    names = [r["name"] for r in rows(client.get("/systems/export.csv").get_data(as_text=True))]
    assert names == [f"System {n}" for n in range(5)]
    document = json.loads(client.get("/systems/export.json").get_data(as_text=True))
    assert [s["name"] for s in document["systems"]] == names


def test_the_obligations_report_shows_what_stands_behind_each_line(db_session, history, cast, client, login,
                                                                   make_user):
    system = new_system(db_session, cast["filer"], "Applicant screening", eu_ai_act="high_risk",
                        high_risk_area="employment")
    item = history.item(clock.now() - 30 * DAY, title="Screening pilot", system=system.id)
    run = history.attach(item, clock.now() - 29 * DAY)
    decision = history.decide(item, clock.now() - 20 * DAY)
    obligations.confirm(db_session, cast["chair"], system, "eu_ai_act", "accuracy_robustness", run_id=run.id,
                        note="Robustness suite")
    obligations.confirm(db_session, cast["chair"], system, "eu_ai_act", "human_oversight", decision_id=decision.id)
    db_session.commit()

    login(make_user("auditor", function=None))
    page = client.get(f"/systems/{system.id}/obligations").get_data(as_text=True)
    assert "Obligations report: Applicant screening" in page
    assert "2 of 9 met" in page and "7 open" in page
    assert f'href="/evidence/{run.id}"' in page and f'href="/items/{item.id}"' in page
    assert "Robustness suite" in page and "Approved" in page
    assert "check again" not in page.split("<tbody>")[1]

    # A new version: the run behind the confirmation was tested on the old one.
    systems.record_version(db_session, cast["filer"], system, "2027.01")
    items.apply_system_version(db_session, cast["filer"], system)
    db_session.commit()
    page = client.get(f"/systems/{system.id}/obligations").get_data(as_text=True)
    assert "Met — check again" in page and "tested on another version than the 2027.01 in use" in page
    assert "1 to check again" in page

    lines = {r["obligation"]: r for r in rows(client.get(f"/systems/{system.id}/obligations.csv").get_data(
        as_text=True))}
    assert lines["accuracy_robustness"]["status"] == "check"
    assert lines["accuracy_robustness"]["evidence_run"] == str(run.id)
    assert lines["human_oversight"]["status"] == "met" and lines["human_oversight"]["outcome"] == "approved"
    assert lines["risk_management"]["status"] == "open" and lines["risk_management"]["confirmed_by"] == ""
    assert client.get("/systems/999999/obligations").status_code == 404


def test_the_obligations_report_keeps_its_query_budget(app, db_session, history, cast, client, login):
    system = new_system(db_session, cast["filer"], "Applicant screening", eu_ai_act="high_risk",
                        high_risk_area="employment")
    login(cast["chair"])
    path = f"/systems/{system.id}/obligations"
    keys = ["risk_management", "data_governance", "technical_documentation", "record_keeping"]

    def confirm(key):
        item = history.item(clock.now() - 30 * DAY, title=f"Item {key}", system=system.id)
        run = history.attach(item, clock.now() - 29 * DAY)
        decision = history.decide(item, clock.now() - 20 * DAY)
        obligations.confirm(db_session, cast["chair"], system, "eu_ai_act", key, run_id=run.id,
                            decision_id=decision.id)
        db_session.commit()

    confirm(keys[0])
    small = count_statements(app, lambda: client.get(path))
    for key in keys[1:]:
        confirm(key)
    large = count_statements(app, lambda: client.get(path))
    assert small == large <= BUDGETS["register.obligations_report"], (small, large)
