"""Hands-on probes against a real OpenAI-compatible server: endpoints kept by administrators,
two versions answering side by side, verdicts saved to the trail, and every way an endpoint can
misbehave coming back as a clear message with nothing half saved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.probes.models import ModelEndpoint, Probe, ProbeAnswer
from forum.trail.models import Event
from tests.probes.conftest import KEY


def count(session, model, *conditions) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*conditions))


def add(client, support, model_server, version, model, **values):
    data = {"version": version, "base_url": model_server.base_url, "model": model, "key_variable": "PROBE_TEST_KEY",
            "timeout_seconds": "2", "per_user_per_hour": "30", **values}
    return client.post(f"/systems/{support.id}/endpoints", data=data)


@pytest.fixture
def two_versions(client, login, people, support, model_server, monkeypatch, db_session):
    monkeypatch.setenv("PROBE_TEST_KEY", KEY)
    login(people["admin"])
    assert add(client, support, model_server, "2026.10", "support-2026.10").status_code == 302
    assert add(client, support, model_server, "2026.11", "support-2026.11").status_code == 302
    return {e.version: e for e in db_session.scalars(select(ModelEndpoint))}


def ask(client, support, endpoints, prompt, versions=("2026.10", "2026.11")):
    data = {"prompt": prompt, "first": str(endpoints[versions[0]].id),
            "second": str(endpoints[versions[1]].id) if len(versions) > 1 else ""}
    return client.post(f"/systems/{support.id}/try", data=data)


def test_two_versions_answer_side_by_side_and_the_judged_probe_goes_on_the_trail(
        client, login, people, support, two_versions, model_server, db_session):
    login(people["exec"])
    form = client.get(f"/systems/{support.id}/try").get_data(as_text=True)
    assert "2026.10 — in use (support-2026.10)" in form
    answer = ask(client, support, two_versions, "Can I get a refund after 40 days?")
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "support-2026.10 answers: Can I get a refund after 40 days?" in page
    assert "support-2026.11 answers: Can I get a refund after 40 days?" in page
    assert "Save the probe to the trail" in page
    # The key went to the server from the environment, and nowhere else.
    assert {r["authorization"] for r in model_server.requests()[-2:]} == {f"Bearer {KEY}"}
    assert KEY not in page
    assert count(db_session, Event, Event.kind == "probe.saved") == 0  # run, not saved

    probe = db_session.scalar(select(Probe))
    first, second = probe.answers
    missing = client.post(f"/probes/{probe.id}/save", data={f"verdict-{first.id}": "acceptable"})
    assert missing.status_code == 400 and "Say whether version 2026.11&#39;s answer is acceptable" in missing.get_data(
        as_text=True)
    saved = client.post(f"/probes/{probe.id}/save", data={
        f"verdict-{first.id}": "acceptable", f"verdict-{second.id}": "unacceptable",
        f"note-{second.id}": "Promises a refund the policy does not give."})
    assert saved.status_code == 302
    event = db_session.scalar(select(Event).where(Event.kind == "probe.saved"))
    assert event.actor == people["exec"].email and event.subject == support.subject
    assert [(a["version"], a["verdict"]) for a in event.data["answers"]] == [
        ("2026.10", "acceptable"), ("2026.11", "unacceptable")]
    assert event.data["answers"][0]["sha256"] == first.sha256 and len(first.sha256) == 64
    assert KEY not in event.data_json
    assert client.post(f"/probes/{probe.id}/save", data={}).status_code == 409  # saved once

    login(people["auditor"])
    shown = client.get(f"/probes/{probe.id}").get_data(as_text=True)
    assert "Not acceptable" in shown and "Promises a refund the policy does not give." in shown


def test_html_and_script_in_an_answer_show_as_text(client, login, people, support, two_versions, db_session):
    login(people["staff"])
    answer = ask(client, support, two_versions, "Show me HTML", versions=("2026.11",))
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&#34;probe&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp; more" in page


@pytest.mark.parametrize(("prompt", "message"), [
    ("Please FAIL500", "The endpoint failed with status 500: The server is overloaded."),
    ("Please FAIL400", "The endpoint refused the request with status 400: The model support-2026.11 does not exist."),
    ("SLOW please", "No complete answer within 2 s."),
    ("HUGE please", "The answer is larger than 64 KB; it was not kept."),
    ("REDIRECT please", "The endpoint redirected to elsewhere.example; redirects are not followed."),
    ("MALFORMED please", "The endpoint&#39;s answer is not a chat completion"),
])
def test_a_misbehaving_endpoint_gives_a_clear_message_beside_the_other_answer(
        client, login, people, support, two_versions, db_session, prompt, message):
    login(people["staff"])
    answer = ask(client, support, two_versions, prompt, versions=("2026.11",))
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert message in page
    stored = db_session.scalar(select(ProbeAnswer))
    assert stored.text == "" and stored.sha256 == "" and stored.error
    # Nothing to judge: saving records the error, with no verdict.
    probe = db_session.scalar(select(Probe))
    assert client.post(f"/probes/{probe.id}/save", data={}).status_code == 302
    assert db_session.scalar(select(Event).where(Event.kind == "probe.saved")).data["answers"][0]["error"]


def test_a_missing_key_variable_is_named_without_calling_the_endpoint(
        client, login, people, support, two_versions, model_server, monkeypatch):
    monkeypatch.delenv("PROBE_TEST_KEY")
    before = len(model_server.requests())
    login(people["staff"])
    answer = ask(client, support, two_versions, "Hello", versions=("2026.10",))
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "the environment variable PROBE_TEST_KEY is not set on its server" in page
    assert len(model_server.requests()) == before


def test_a_wrong_key_comes_back_as_the_servers_refusal(client, login, people, support, two_versions, monkeypatch):
    monkeypatch.setenv("PROBE_TEST_KEY", "not-the-key")
    login(people["staff"])
    answer = ask(client, support, two_versions, "Hello", versions=("2026.10",))
    assert "refused the request with status 401: Incorrect API key provided." in client.get(
        answer.headers["Location"]).get_data(as_text=True)


def test_endpoints_only_on_allowed_hosts_and_never_with_a_key_in_the_form(
        client, login, people, support, model_server, db_session):
    login(people["admin"])
    elsewhere = add(client, support, model_server, "2026.10", "m", base_url="https://evil.example.com/v1")
    assert elsewhere.status_code == 400 and "evil.example.com is not on the forum&#39;s list of model hosts" in \
        elsewhere.get_data(as_text=True)
    other_port = add(client, support, model_server, "2026.10", "m", base_url="http://127.0.0.1:1/v1")
    assert other_port.status_code == 400
    a_key = add(client, support, model_server, "2026.10", "m", key_variable="sk-live-abc123")
    assert a_key.status_code == 400 and "not the key itself" in a_key.get_data(as_text=True)
    with_credentials = add(client, support, model_server, "2026.10", "m",
                           base_url=f"http://user:pw@127.0.0.1:{model_server.port}/v1")
    assert with_credentials.status_code == 400
    assert add(client, support, model_server, "2026.10", "m", timeout_seconds="600").status_code == 400
    assert count(db_session, ModelEndpoint) == 0
    assert count(db_session, Event, Event.kind == "system.endpoint_added") == 0
    assert add(client, support, model_server, "2026.10", "m").status_code == 302
    again = add(client, support, model_server, "2026.10", "other")
    assert again.status_code == 409 and "has an endpoint already" in again.get_data(as_text=True)


def test_a_host_taken_off_the_list_is_refused_at_call_time(
        app, client, login, people, support, two_versions, model_server):
    app.config["PROBE_HOSTS"] = "models.example.org"
    before = len(model_server.requests())
    login(people["staff"])
    answer = ask(client, support, two_versions, "Hello", versions=("2026.10",))
    assert "is not on the forum&#39;s list of model hosts" in client.get(answer.headers["Location"]).get_data(
        as_text=True)
    assert len(model_server.requests()) == before


def test_each_person_has_the_endpoints_hourly_limit(client, login, people, support, model_server, monkeypatch,
                                                   db_session):
    monkeypatch.setenv("PROBE_TEST_KEY", KEY)
    login(people["admin"])
    assert add(client, support, model_server, "2026.10", "support-2026.10", per_user_per_hour="2").status_code == 302
    endpoint = db_session.scalar(select(ModelEndpoint))
    login(people["staff"])
    for _ in range(2):
        assert client.post(f"/systems/{support.id}/try", data={"prompt": "Hi", "first": str(endpoint.id)}).status_code == 302
    third = client.post(f"/systems/{support.id}/try", data={"prompt": "Hi", "first": str(endpoint.id)})
    assert third.status_code == 429 and "2 times this hour, its limit" in third.get_data(as_text=True)
    assert count(db_session, Probe) == 2
    login(people["exec"])  # another person has their own count
    assert client.post(f"/systems/{support.id}/try", data={"prompt": "Hi", "first": str(endpoint.id)}).status_code == 302


def test_who_may_do_what(client, login, people, support, two_versions, db_session):
    for who in ("staff", "exec", "auditor"):
        login(people[who])
        assert client.get(f"/systems/{support.id}/endpoints").status_code == 403
    login(people["auditor"])
    assert client.get(f"/systems/{support.id}/try").status_code == 403
    assert f'href="/systems/{support.id}/try"' not in client.get(f"/systems/{support.id}").get_data(as_text=True)
    login(people["admin"])
    page = client.get(f"/systems/{support.id}").get_data(as_text=True)
    assert f'href="/systems/{support.id}/endpoints"' in page and f'href="/systems/{support.id}/try"' not in page
    login(people["staff"])
    assert f'href="/systems/{support.id}/try"' in client.get(f"/systems/{support.id}").get_data(as_text=True)
    answer = ask(client, support, two_versions, "Mine", versions=("2026.10",))
    probe_url = answer.headers["Location"]
    login(people["exec"])  # an unsaved probe is its runner's alone
    assert client.get(probe_url).status_code == 404
    login(people["admin"])
    endpoint = two_versions["2026.11"]
    confirm = client.get(f"/systems/{support.id}/endpoints/{endpoint.id}/remove")
    assert "Remove the endpoint of version 2026.11?" in confirm.get_data(as_text=True)
    assert client.post(f"/systems/{support.id}/endpoints/{endpoint.id}/remove").status_code == 302
    db_session.expire_all()
    assert {e.version for e in db_session.scalars(select(ModelEndpoint))} == {"2026.10"}
    assert count(db_session, Event, Event.kind == "system.endpoint_removed") == 1


def test_a_prompt_is_required_and_bounded(client, login, people, support, two_versions, db_session):
    login(people["staff"])
    empty = ask(client, support, two_versions, "   ")
    assert empty.status_code == 400 and "Write a prompt" in empty.get_data(as_text=True)
    long = ask(client, support, two_versions, "x" * 8_001)
    assert long.status_code == 400
    foreign = client.post(f"/systems/{support.id}/try", data={"prompt": "Hi", "first": "999999"})
    assert foreign.status_code == 400
    assert count(db_session, Probe) == 0


def test_a_probe_from_an_item_and_an_unacceptable_answer_becomes_an_edge_case(
        client, login, people, support, two_versions, db_session, make_item):
    from forum.proximity.models import ProposedCase

    item = make_item(people["staff"], status="open", title="Refund answers by the assistant", system=support.id)
    other = make_item(people["staff"], status="open", title="Not about it")
    login(people["exec"])
    assert f'href="/systems/{support.id}/try?item={item.id}"' in client.get(f"/items/{item.id}").get_data(as_text=True)
    form = client.get(f"/systems/{support.id}/try?item={item.id}&prompt=Refund+after+40+days%3F").get_data(
        as_text=True)
    assert "Refund answers by the assistant" in form and "Refund after 40 days?</textarea>" in form
    assert client.get(f"/systems/{support.id}/try?item={other.id}").status_code == 400

    answer = client.post(f"/systems/{support.id}/try", data={
        "prompt": "Refund after 40 days?", "first": str(two_versions["2026.10"].id),
        "second": str(two_versions["2026.11"].id), "item": str(item.id)})
    probe = db_session.scalar(select(Probe))
    assert probe.item_id == item.id
    first, second = probe.answers
    client.post(f"/probes/{probe.id}/save", data={f"verdict-{first.id}": "acceptable",
                                                 f"verdict-{second.id}": "unacceptable",
                                                 f"note-{second.id}": "Invents a 60-day window."})
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Propose it as an edge case" in page and "Version 2026.11: Invents a 60-day window." in page

    url = f"/probes/{probe.id}/answers/{second.id}/propose"
    assert client.post(f"/probes/{probe.id}/answers/{first.id}/propose",
                       data={"item": str(item.id), "description": "x"}).status_code == 409  # acceptable
    assert client.post(url, data={"item": str(other.id), "description": "x"}).status_code == 400
    done = client.post(url, data={"item": str(item.id), "description": "Refund window past 30 days"})
    assert done.status_code == 302
    case = db_session.scalar(select(ProposedCase))
    assert (case.item_id, case.example_input, case.observed_output) == (
        item.id, "Refund after 40 days?", "support-2026.11 answers: Refund after 40 days?")
    event = db_session.scalar(select(Event).where(Event.kind == "case.proposed"))
    assert event.data["observed_output"] == case.observed_output
    assert client.post(url, data={"item": str(item.id), "description": "again"}).status_code == 409
    exported = client.get(f"/items/{item.id}/proposed-cases.csv").get_data(as_text=True)
    header, row = exported.splitlines()[:2]
    assert ",output," in header and "support-2026.11 answers: Refund after 40 days?" in row
    shown = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "Observed when tried:" in shown and "Try this input" in shown


def test_a_failing_case_offers_its_input_to_try(client, login, people, support, db_session, make_item):
    from pathlib import Path

    from forum.evidence import service as evidence

    data = (Path(__file__).resolve().parents[2] / "seed" / "evidence" / "support-bot-2026.07.2-week2.csv").read_bytes()
    item = make_item(people["staff"], status="open", title="Support evidence", system=support.id)
    run = evidence.attach_evidence(db_session, people["staff"], item, "week2.csv", data)
    db_session.commit()
    login(people["staff"])
    page = client.get(f"/evidence/{run.id}").get_data(as_text=True)
    assert f"/systems/{support.id}/try?item={item.id}&amp;prompt=" in page and "Try this input on the model" in page


def test_a_decision_keeps_who_probed_and_the_figures_count_the_probes(
        client, login, people, support, two_versions, db_session):
    from datetime import timedelta

    from forum.agenda.models import Decision
    from forum.core import clock
    from tests.health.conftest import History

    def probe_and_save(who):
        login(people[who])
        answer = ask(client, support, two_versions, "Is the refund policy right?", versions=("2026.10",))
        probe = db_session.scalar(select(Probe).order_by(Probe.id.desc()))
        assert client.post(f"/probes/{probe.id}/save",
                           data={f"verdict-{probe.answers[0].id}": "acceptable"}).status_code == 302
        return int(answer.headers["Location"].rsplit("/", 1)[1])

    mine = probe_and_save("exec")
    probe_and_save("staff")
    history = History(db_session, {"filer": people["staff"], "rater": people["staff"], "chair": people["exec"]})
    item = history.item(clock.now(), title="Keep the support assistant", system=support.id)
    history.decide(item, clock.now() + timedelta(minutes=5))
    decision = db_session.scalar(select(Decision))
    assert [p["probe"] for p in decision.review_snapshot["deciders"][0]["probes"]] == [mine]
    login(people["exec"])
    assert f'<a href="/probes/{mine}">probe #{mine}</a>' in client.get(f"/items/{item.id}").get_data(as_text=True)

    figures = client.get("/proximity").get_data(as_text=True)
    row = figures.split("Erin Exec</th>")[1].split("</tr>")[0]
    assert "<td>1</td>" in row  # one probe saved
    quarter = figures.split("<caption>Decisions by quarter</caption>")[1].split("</tbody>")[0]
    assert "<td>2</td></tr>" in quarter  # two probes this quarter


def test_the_probe_pages_keep_their_query_budget_whatever_the_number_of_probes(
        app, client, login, people, support, two_versions, db_session):
    from tests.budgets import BUDGETS, count_statements

    login(people["exec"])

    def probe_and_save():
        answer = ask(client, support, two_versions, "Hello")
        probe = db_session.scalar(select(Probe).order_by(Probe.id.desc()))
        first, second = probe.answers
        client.post(f"/probes/{probe.id}/save", data={f"verdict-{first.id}": "acceptable",
                                                     f"verdict-{second.id}": "unacceptable"})
        return answer.headers["Location"]

    url = probe_and_save()
    small = {path: count_statements(app, lambda path=path: client.get(path))
             for path in (f"/systems/{support.id}/try", url)}
    for _ in range(4):
        probe_and_save()
    large = {path: count_statements(app, lambda path=path: client.get(path))
             for path in (f"/systems/{support.id}/try", url)}
    assert small == large
    assert large[f"/systems/{support.id}/try"] <= BUDGETS["probes.try_it"], large
    assert large[url] <= BUDGETS["probes.probe"], large


def test_runs_left_unsaved_for_a_day_go_when_their_runner_runs_another(
        client, login, people, support, two_versions, db_session):
    from datetime import timedelta

    from forum.core import clock

    then = clock.now() - timedelta(days=2)
    login(people["staff"])
    with clock.override(lambda: then):
        ask(client, support, two_versions, "Old and unsaved", versions=("2026.10",))
    login(people["exec"])
    with clock.override(lambda: then):
        ask(client, support, two_versions, "Someone else's", versions=("2026.10",))
    login(people["staff"])
    ask(client, support, two_versions, "Fresh", versions=("2026.10",))
    assert sorted(p.prompt for p in db_session.scalars(select(Probe))) == ["Fresh", "Someone else's"]
    assert count(db_session, ProbeAnswer) == 2
