"""The register of AI systems: keeping it, filing items about a system, and the one model update
that reaches every item about a system — three decided items flagged for revalidation at once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from forum.core import clock
from forum.core.errors import Conflict
from forum.core.pages import iso
from forum.health import tallies
from forum.health.models import HealthTally
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.systems import service as systems
from forum.systems.models import AISystem, SystemVersion
from forum.trail.models import Event
from forum.weighing import drift
from tests.auth.helpers import count
from tests.budgets import BUDGETS, count_statements
from tests.health.conftest import CSV_VERSION

# Results from the derived cache are asserted here: the minute must not turn mid-test.
pytestmark = pytest.mark.usefixtures("steady_minute")

DAY = timedelta(days=1)
NEW = {"name": "Support assistant", "vendor": "Acme AI", "model_name": "acme-chat", "version_in_use": "2026.11",
       "owner_function": "procurement", "status": "pilot", "intended_use": "Drafts answers to customer e-mails.",
       "personal_data": "y"}


def make_system(db_session, actor, name="Support assistant", version="2026.11", **values) -> AISystem:
    data = systems.SystemData(name=name, owner_function=values.pop("owner_function", "procurement"),
                              vendor=values.pop("vendor", "Acme AI"), model_name=values.pop("model_name", "acme-chat"),
                              **values)
    system = systems.create_system(db_session, actor, data, version)
    db_session.commit()
    return system


def events(db_session, kind: str) -> list[Event]:
    db_session.expire_all()
    return list(db_session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq)))


# ------------------------------------------------------------------------------- keeping it
def test_staff_add_a_system_to_the_register(client, login, make_user, db_session):
    staff = make_user(function="procurement")
    login(staff)
    form = client.get("/systems/new").get_data(as_text=True)
    assert "Add to the register" in form
    response = client.post("/systems/new", data=NEW)
    assert response.status_code == 302
    system = db_session.scalar(select(AISystem))
    assert (system.name, system.version_in_use, system.status, system.personal_data) == (
        "Support assistant", "2026.11", "pilot", True)
    created = events(db_session, "system.created")[-1]
    assert created.actor == staff.email and created.data["version_in_use"] == "2026.11"
    assert [v.version for v in db_session.scalars(select(SystemVersion))] == ["2026.11"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Support assistant" in page and "No items name this system yet." in page
    listing = client.get("/systems").get_data(as_text=True)
    assert "Support assistant" in listing and "Pilot" in listing


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"name": ""}, 400, "Give the system a name."),
    ({"name": "x" * 121}, 400, "120"),
    ({"owner_function": "legal"}, 400, "Not a valid choice"),
    ({"status": "shipped"}, 400, "Not a valid choice"),
    ({"intended_use": "x" * 2001}, 400, "2000"),
])
def test_a_system_with_bad_input_is_refused_with_a_message(client, login, make_user, db_session, change, status,
                                                           message):
    login(make_user(function="procurement"))
    response = client.post("/systems/new", data={**NEW, **change})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert count(db_session, AISystem) == 0 and events(db_session, "system.created") == []


def test_a_name_already_in_the_register_is_refused(client, login, make_user, db_session):
    staff = make_user(function="procurement")
    make_system(db_session, staff)
    login(staff)
    response = client.post("/systems/new", data={**NEW, "name": "support ASSISTANT"})
    assert response.status_code == 409 and "already has a system named" in response.get_data(as_text=True)
    assert count(db_session, AISystem) == 1


def test_an_edit_from_an_older_copy_is_refused(client, login, make_user, db_session):
    staff = make_user(function="procurement")
    system = make_system(db_session, staff)
    login(staff)
    form = client.get(f"/systems/{system.id}/edit").get_data(as_text=True)
    assert '<option selected value="procurement">' in form and 'name="version" type="hidden" value="1"' in form
    first = client.post(f"/systems/{system.id}/edit", data={**NEW, "status": "production", "version": "1"})
    assert first.status_code == 302
    assert events(db_session, "system.updated")[-1].data["changes"]["status"] == {"before": "evaluating",
                                                                                 "after": "production"}
    stale = client.post(f"/systems/{system.id}/edit", data={**NEW, "status": "retired", "version": "1"})
    assert stale.status_code == 409 and "Someone else changed this system" in stale.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(AISystem, system.id).status == "production"


def test_the_list_filters_and_says_when_nothing_matches(client, login, make_user, db_session):
    staff = make_user(function="procurement")
    make_system(db_session, staff, "Support assistant", status="production")
    make_system(db_session, staff, "Contract reviewer", vendor="Lexa", model_name="lexa-1", status="pilot")
    login(staff)
    page = client.get("/systems?status=pilot").get_data(as_text=True)
    assert "Contract reviewer" in page and "Support assistant" not in page
    assert "Contract reviewer" in client.get("/systems?q=lexa").get_data(as_text=True)
    assert "No systems match these filters" in client.get("/systems?q=nothing-like-it").get_data(as_text=True)
    refused = client.get("/systems?status=shipped")
    assert refused.status_code == 400 and "Filter ignored" in refused.get_data(as_text=True)


def test_the_list_rows_come_rendered_from_the_cache_and_a_confirmed_obligation_shows_at_once(
        app, client, login, make_user, db_session):
    from forum.register import obligations

    staff = make_user(function="procurement")
    system = make_system(db_session, staff, "Support assistant", status="production")
    login(staff)
    first = client.get("/systems").get_data(as_text=True)
    met = re.search(r"obligations: (\d+) of (\d+) met", first)
    assert met and int(met.group(1)) == 0 and int(met.group(2)) > 0
    pages = []
    warm = count_statements(app, lambda: pages.append(client.get("/systems").get_data(as_text=True)))
    assert warm == 2  # the user and the trail head: the page's ids and rendered rows were kept
    assert "Support assistant" in pages[0] and met.group(0) in pages[0]
    framework, obligation = obligations.standings(db_session, [system])[system.id].open[0]
    obligations.confirm(db_session, staff, system, framework, obligation,
                        document_url="https://intranet.example.org/policy")  # a trail event
    db_session.commit()
    after = client.get("/systems").get_data(as_text=True)
    assert f"obligations: 1 of {met.group(2)} met" in after


def test_the_system_page_keeps_its_lists_rendered_and_shows_a_new_item_at_once(
        client, login, make_user, make_item, db_session):
    staff = make_user(function="procurement")
    system = make_system(db_session, staff, "Support assistant", status="production")
    make_item(staff, status="open", title="First about it", system=system.id)
    login(staff)
    first = client.get(f"/systems/{system.id}").get_data(as_text=True)
    assert "First about it" in first and "Second about it" not in first
    assert "First about it" in client.get(f"/systems/{system.id}").get_data(as_text=True)  # kept
    make_item(staff, status="open", title="Second about it", system=system.id)  # a trail event
    page = client.get(f"/systems/{system.id}").get_data(as_text=True)
    assert "Second about it" in page and "First about it" in page


def test_auditors_read_the_register_but_do_not_keep_it(client, login, make_user, db_session):
    system = make_system(db_session, make_user(function="procurement"))
    login(make_user("auditor", function=None))
    page = client.get(f"/systems/{system.id}").get_data(as_text=True)
    assert "Support assistant" in page and "Record the new version" not in page
    assert client.get("/systems/new").status_code == 403
    assert client.post(f"/systems/{system.id}/version", data={"version_in_use": "9", "version": "1"}).status_code == 403


def test_the_system_page_kept_for_staff_is_not_shown_to_an_auditor(client, login, make_user, db_session):
    staff = make_user(function="procurement")
    system = make_system(db_session, staff)
    login(staff)
    assert "Record the new version" in client.get(f"/systems/{system.id}").get_data(as_text=True)
    login(make_user("auditor", function=None))
    page = client.get(f"/systems/{system.id}").get_data(as_text=True)  # the same trail head
    assert "Support assistant" in page and "Record the new version" not in page


def test_the_kept_system_page_carries_each_sessions_own_csrf_token(protected_app, make_user, db_session):
    from forum.core import derived
    from tests.conftest import csrf_token_from, logged_in_client

    people = [make_user(function="procurement"), make_user(function="risk")]
    system = make_system(db_session, people[0])
    clients = [logged_in_client(protected_app, person) for person in people]
    tokens = []
    for client in clients:
        page = client.get(f"/systems/{system.id}").get_data(as_text=True)
        assert derived.CSRF_SLOT not in page
        tokens.append(csrf_token_from(page.split('id="versions-heading"')[1]))
    assert tokens[0] != tokens[1]
    version = f"/systems/{system.id}/version"
    data = {"version_in_use": "2027.01", "version": str(system.version)}
    assert clients[1].post(version, data=dict(data, csrf_token=tokens[0])).status_code == 400
    assert clients[1].post(version, data=dict(data, csrf_token=tokens[1])).status_code == 302


# -------------------------------------------------------------------------------- items
def test_an_item_filed_about_a_system_takes_its_model(client, login, make_user, db_session):
    staff = make_user(function="procurement")
    system = make_system(db_session, staff)
    login(staff)
    form = client.get(f"/items/new?system={system.id}").get_data(as_text=True)
    assert f'<option selected value="{system.id}">' in form
    response = client.post("/items/new", data={
        "title": "Roll the assistant out to billing", "category": "model_deployment", "function": "procurement",
        "system": str(system.id), "vendor": "typed over", "model_version": "0.1"})
    assert response.status_code == 302
    item = db_session.scalar(select(DecisionItem))
    assert (item.system_id, item.vendor, item.model_name, item.model_version) == (
        system.id, "Acme AI", "acme-chat", "2026.11")
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert f'href="/systems/{system.id}"' in page and "new versions are recorded there" in page
    assert "Roll the assistant out to billing" in client.get(f"/systems/{system.id}").get_data(as_text=True)
    with pytest.raises(Conflict, match="record the new version on the system"):
        items.update_model_version(db_session, staff, item, "2027.1", item.version)


def test_an_unknown_system_on_the_item_form_is_refused(client, login, make_user, db_session):
    login(make_user(function="procurement"))
    response = client.post("/items/new", data={"title": "T", "category": "model_deployment",
                                               "function": "procurement", "system": "999"})
    assert response.status_code == 400 and count(db_session, DecisionItem) == 0


# ---------------------------------------------------------------------- one model update
def test_one_new_version_flags_every_decided_item_about_the_system(db_session, history, cast, client, login):
    """Through the system's page; the executives' home then names the system."""
    now = clock.now()
    system = make_system(db_session, cast["filer"])
    other = make_system(db_session, cast["filer"], "Contract reviewer", version="5.0")
    decided = []
    for n in range(3):
        item = history.item(now - 30 * DAY, title=f"Decided {n}", system=system.id)
        history.attach(item, now - 29 * DAY)
        history.decide(item, now - 20 * DAY)
        decided.append(item)
    still_open = history.item(now - 5 * DAY, status="open", title="Still open", system=system.id)
    elsewhere = history.item(now - 5 * DAY, status="open", title="Elsewhere", system=other.id)
    for item in decided:
        db_session.refresh(item)
        assert item.evidence_drift is False and item.model_version == "2026.11"
    updates_before = len(events(db_session, "item.updated"))

    login(cast["chair"])
    response = client.post(f"/systems/{system.id}/version",
                           data={"version_in_use": "2026.12", "note": "Vendor release 2026.12", "version": "1"})
    assert response.status_code == 302
    db_session.expire_all()
    for item in decided:
        item = db_session.get(DecisionItem, item.id)
        assert item.model_version == "2026.12" and item.evidence_drift is True
    assert db_session.get(DecisionItem, still_open.id).model_version == "2026.12"
    assert db_session.get(DecisionItem, elsewhere.id).model_version == "5.0"
    caused = events(db_session, "item.updated")[updates_before:]
    assert len(caused) == 4 and {e.data["cause"] for e in caused} == {f"system:{system.id}"}
    recorded = events(db_session, "system.version_recorded")[-1]
    assert recorded.data["version_in_use"] == {"before": "2026.11", "after": "2026.12"}
    page = client.get(f"/systems/{system.id}").get_data(as_text=True)
    assert "3 decided items about this system need revalidation" in page
    assert page.count("Revalidation required") == 3 and "Vendor release 2026.12" in page
    for item in decided:
        assert "Revalidation required" in client.get(f"/items/{item.id}").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert f'By system: <a href="/systems/{system.id}">Support assistant</a> (3)' in home
    drifting = client.get("/systems?drifted=y").get_data(as_text=True)
    assert "Support assistant" in drifting and "Contract reviewer" not in drifting
    assert count_statements(client.application, lambda: client.get("/")) <= BUDGETS["core.home.executive"]

    # The same version again changes nothing and writes nothing.
    seq = events(db_session, "system.version_recorded")[-1].seq
    again = client.post(f"/systems/{system.id}/version", data={"version_in_use": "2026.12", "version": "2"})
    assert again.status_code == 302
    assert events(db_session, "system.version_recorded")[-1].seq == seq
    assert "already runs 2026.12" in client.get(f"/systems/{system.id}").get_data(as_text=True)


def test_a_version_from_an_older_page_is_refused_and_nothing_moves(db_session, history, cast, client, login):
    system = make_system(db_session, cast["filer"])
    item = history.item(clock.now() - DAY, status="open", system=system.id)
    login(cast["chair"])
    assert client.post(f"/systems/{system.id}/version", data={"version_in_use": "2026.12", "version": "1"}).status_code == 302
    stale = client.post(f"/systems/{system.id}/version", data={"version_in_use": "2027.01", "version": "1"})
    assert stale.status_code == 409
    db_session.expire_all()
    assert db_session.get(DecisionItem, item.id).model_version == "2026.12"
    assert db_session.get(AISystem, system.id).version_in_use == "2026.12"
    empty = client.post(f"/systems/{system.id}/version", data={"version_in_use": "", "version": "2"})
    assert empty.status_code == 400 and "Give the version now in use." in empty.get_data(as_text=True)
    # The page shown with the refused form is built afresh, and is HTML, not escaped text.
    assert 'aria-invalid="true"' in empty.get_data(as_text=True) and "&lt;" not in empty.get_data(as_text=True)


def test_the_register_pages_keep_their_query_budget_whatever_the_data_size(app, db_session, history, cast, client,
                                                                           login):
    now = clock.now()
    system = make_system(db_session, cast["filer"])

    def add(n):
        make_system(db_session, cast["filer"], f"System {n}")
        item = history.item(now - (30 + n) * DAY, title=f"Decided {n}", system=system.id)
        history.attach(item, now - (29 + n) * DAY)
        history.decide(item, now - (20 + n) * DAY)
        systems.record_version(db_session, cast["filer"], system, f"2027.{n}")
        items.apply_system_version(db_session, cast["filer"], system)
        db_session.commit()

    add(0)
    login(cast["chair"])
    small = {path: count_statements(app, lambda path=path: client.get(path)) for path in ("/systems", f"/systems/{system.id}")}
    for n in range(1, 6):
        add(n)
    large = {path: count_statements(app, lambda path=path: client.get(path)) for path in ("/systems", f"/systems/{system.id}")}
    assert small == large
    assert all(client.get(path).status_code == 200 for path in large)
    assert large["/systems"] <= BUDGETS["register.index"], large
    assert large[f"/systems/{system.id}"] <= BUDGETS["register.detail"], large
    # Asked again with nothing changed, the system page's content comes from the derived cache:
    # it reads the user, the system (its title, or a 404) and the trail head.
    warm = count_statements(app, lambda: client.get(f"/systems/{system.id}"))
    assert warm == 3 < large[f"/systems/{system.id}"]


def test_linking_an_item_to_a_system_moves_it_to_the_systems_model(db_session, history, cast):
    system = make_system(db_session, cast["filer"])
    item = history.item(clock.now() - DAY, status="escalated", vendor="Other", model_name="m", model_version="0.9")
    changes = items.link_system(db_session, cast["chair"], item, system)
    db_session.commit()
    assert changes == {"system_id": {"before": None, "after": system.id},
                       "vendor": {"before": "Other", "after": "Acme AI"},
                       "model_name": {"before": "m", "after": "acme-chat"},
                       "model_version": {"before": "0.9", "after": "2026.11"}}
    assert items.link_system(db_session, cast["chair"], item, system) == {}  # already linked: nothing
    retired = make_system(db_session, cast["filer"], "Old bot", status="retired")
    with pytest.raises(Conflict, match="retired"):
        items.link_system(db_session, cast["chair"], item, retired)


def test_the_queue_lists_the_systems_whose_decisions_drifted(db_session, history, cast, client, login):
    system = make_system(db_session, cast["filer"])
    item = history.item(clock.now() - 30 * DAY, title="Decided on the old version", system=system.id)
    history.attach(item, clock.now() - 29 * DAY)
    history.decide(item, clock.now() - 20 * DAY)
    login(cast["chair"])
    assert "Decisions to revalidate" not in client.get("/escalations").get_data(as_text=True)

    systems.record_version(db_session, cast["filer"], system, "2027.01")
    items.apply_system_version(db_session, cast["filer"], system)
    db_session.commit()
    page = client.get("/escalations").get_data(as_text=True)
    assert "Decisions to revalidate" in page
    assert f'<a href="/systems/{system.id}">{system.name}</a>: 1 decided item' in page


def test_the_systems_whose_decisions_drifted_are_counted_as_kept_not_from_the_items(
        app, db_session, history, cast, client, login):
    """The queue's list of drifted systems reads the counts kept per system (forum.health.tallies):
    a count moved by hand, no item changed, shows."""
    system = make_system(db_session, cast["filer"])
    item = history.item(clock.now() - 30 * DAY, title="Decided on the old version", system=system.id)
    history.attach(item, clock.now() - 29 * DAY)
    history.decide(item, clock.now() - 20 * DAY)
    systems.record_version(db_session, cast["filer"], system, "2027.01")
    items.apply_system_version(db_session, cast["filer"], system)
    db_session.commit()
    with app.app_context():  # the app's receivers answer
        assert drift.revalidation_counts(db_session, clock.now()) == {system.id: 1}
    moved = db_session.execute(update(HealthTally).where(
        HealthTally.metric == tallies.REVALIDATION_BY_SYSTEM, HealthTally.period == "",
        HealthTally.key == str(system.id)).values(n=HealthTally.n + 4)).rowcount
    db_session.commit()
    assert moved == 1
    login(cast["chair"])
    later = clock.now() + timedelta(minutes=1)
    with clock.override(lambda: later):  # past the kept result's minute
        page = client.get("/escalations").get_data(as_text=True)
    assert f'<a href="/systems/{system.id}">{system.name}</a>: 5 decided items' in page


def test_the_systems_with_the_most_decisions_to_revalidate_come_first_then_by_name(db_session, history, cast):
    counts = {"Zeta bot": 1, "Beta bot": 2, "Alpha bot": 1}
    made = {}
    for name, n in counts.items():
        made[name] = make_system(db_session, cast["filer"], name)
        for k in range(n):
            item = history.item(clock.now() - 30 * DAY, title=f"{name} decision {k}", system=made[name].id)
            history.attach(item, clock.now() - 29 * DAY)
            history.decide(item, clock.now() - 20 * DAY)
    for system in made.values():
        systems.record_version(db_session, cast["filer"], system, "2027.01")
        items.apply_system_version(db_session, cast["filer"], system)
    db_session.commit()

    listed = drift.drifted_systems(db_session, clock.now(), 2)

    assert [(s.name, s.items) for s in listed] == [("Beta bot", 2), ("Alpha bot", 1)]
    assert listed[0].id == made["Beta bot"].id


def test_the_system_page_shows_its_decisions_and_when_each_version_was_tested_and_decided(
        db_session, history, cast, client, login):
    now = clock.now()
    with clock.override(lambda: now - 60 * DAY):
        system = make_system(db_session, cast["filer"], version=CSV_VERSION)  # what the sample run tested
    item = history.item(now - 30 * DAY, title="Chat for the legal team", system=system.id)
    history.attach(item, now - 29 * DAY)
    owner = cast["filer"]
    history.decide(item, now - 20 * DAY, outcome="approved_with_conditions",
                   actions=[("Monthly drift report", owner, (now - 5 * DAY).date()),
                            ("Red-team the new prompts", owner, (now + 30 * DAY).date())])
    login(cast["chair"])
    page = client.get(f"/systems/{system.id}").get_data(as_text=True)
    assert "Decisions about it" in page and "Chat for the legal team" in page
    assert "Approved with conditions" in page and "Conditions: Monthly drift report." in page
    assert "2 open actions, <strong>1 overdue</strong>" in page

    with clock.override(lambda: now - 10 * DAY):
        systems.record_version(db_session, cast["filer"], system, "2027.01", "January release")
        items.apply_system_version(db_session, cast["filer"], system)
    db_session.commit()

    def versions() -> tuple[str, str]:
        page = client.get(f"/systems/{system.id}").get_data(as_text=True)
        return (page.split("<strong>2027.01</strong>")[1].split("</li>")[0],
                page.split(f"<strong>{CSV_VERSION}</strong>")[1].split("</li>")[0])

    newest, oldest = versions()
    assert "not tested yet;" in newest and "no decision while in use" in newest
    page = client.get(f"/systems/{system.id}").get_data(as_text=True)
    evidence = page.split('id="evidence-heading"')[1].split("</section>")[0]
    assert '<span class="badge gate-fail">Failing</span>' in evidence and "Freshness" in evidence  # another version
    assert "tested 1 time, last on" in oldest and "last decided on" in oldest

    # A decision under the new version is the new version's, not the old one's; another system's
    # versions have no say in either (each version is in use until its own system's next one).
    with clock.override(lambda: now - 50 * DAY):
        other = make_system(db_session, cast["filer"], name="Other bot", version="1.0")
    with clock.override(lambda: now - 25 * DAY):
        systems.record_version(db_session, cast["filer"], other, "2.0")
    db_session.commit()
    later = history.item(now - 8 * DAY, title="Chat for the sales team", system=system.id)
    history.decide(later, now - 5 * DAY)
    newest, oldest = versions()
    assert f'last decided on <time datetime="{iso(now - 5 * DAY)}"' in newest
    assert f'last decided on <time datetime="{iso(now - 20 * DAY)}"' in oldest


def test_the_system_page_is_kept_across_a_comment_and_not_across_a_change_to_its_items(
        app, db_session, history, cast, client, login):
    """The page reads nothing of the discussion: a comment on one of its items leaves it in
    place (forum.core.derived ``items_only``); a new version of the system does not."""
    from forum.weighing import comments

    now = clock.now()
    system = make_system(db_session, cast["filer"], version=CSV_VERSION)
    item = history.item(now - 3 * DAY, title="Chat for the legal team", system=system.id)
    login(cast["chair"])
    url = f"/systems/{system.id}"
    count_statements(app, lambda: client.get(url))
    warm = count_statements(app, lambda: client.get(url))
    comments.add_comment(db_session, cast["rater"], item, "A thought on the vendor.")
    db_session.commit()
    assert count_statements(app, lambda: client.get(url)) == warm
    systems.record_version(db_session, cast["filer"], system, "2027.01", "January release")
    db_session.commit()
    pages = []
    assert count_statements(app, lambda: pages.append(client.get(url).get_data(as_text=True))) > warm
    assert "<strong>2027.01</strong>" in pages[0]


def test_a_result_file_is_confined_to_its_items_system(app, db_session, history, cast, client, login):
    """A result file for an item of one system moves that system's own counter and the head's
    items_seq, not its shared_seq (forum.systems.service.record_confined): another system's kept
    page stays in place, the item's own system's page is computed again and counts the run. A
    result file for an item outside the register moves the shared counter."""
    from forum.trail.models import TrailHead

    def head():
        db_session.expire_all()
        return db_session.execute(select(TrailHead.seq, TrailHead.items_seq, TrailHead.shared_seq)).one()

    now = clock.now()
    system = make_system(db_session, cast["filer"], version=CSV_VERSION)
    other = make_system(db_session, cast["filer"], name="Contract reader", version=CSV_VERSION)
    item = history.item(now - 3 * DAY, title="Chat for the legal team", system=system.id)
    elsewhere = history.item(now - 3 * DAY, title="Clause extraction", system=other.id)
    unlinked = history.item(now - 3 * DAY, title="A model outside the register", model_name="free-text-llm")
    login(cast["chair"])
    url = f"/systems/{system.id}"
    count_statements(app, lambda: client.get(url))
    warm = count_statements(app, lambda: client.get(url))
    assert "not tested yet" in client.get(url).get_data(as_text=True)

    history.attach(elsewhere, now - DAY)
    seq, items_seq, shared_seq = head()
    assert items_seq == seq and shared_seq < seq
    assert (db_session.get(AISystem, other.id).changed_seq, db_session.get(AISystem, other.id).version) == (seq, 1)
    assert db_session.get(AISystem, system.id).changed_seq < seq
    assert count_statements(app, lambda: client.get(url)) == warm

    history.attach(item, now - DAY)
    pages = []
    assert count_statements(app, lambda: pages.append(client.get(url).get_data(as_text=True))) > warm
    assert "tested 1 time" in pages[0]

    history.attach(unlinked, now - DAY)
    seq, items_seq, shared_seq = head()
    assert shared_seq == items_seq == seq
    assert count_statements(app, lambda: client.get(url)) > warm


def test_a_confined_result_file_writes_only_its_systems_scope(app, db_session, history, cast):
    """What a result file for a system's item writes (recorded with ``confined``): the pages kept
    per scope read none of it outside that system — were an upload one day to write an item's own
    columns or another table that other systems' pages or the grouping page read, this fails
    before a page is shown stale."""
    from sqlalchemy import event

    from forum.core import db
    from forum.weighing import standing

    write = re.compile(r'\s*(INSERT(?: OR \w+)? INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?\s+(?:SET\s+(.*?)\s+WHERE)?',
                       re.IGNORECASE | re.DOTALL)
    system = make_system(db_session, cast["filer"], version=CSV_VERSION)
    item = history.item(clock.now() - 3 * DAY, title="Chat for the legal team", system=system.id)
    written: list[tuple[str, str, str]] = []

    def on_execute(conn, cursor, statement, *_):
        found = write.match(statement)
        if found:
            written.append((found.group(1).split()[0].upper(), found.group(2), found.group(3) or ""))

    engine = db.get_engine(app)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        history.attach(item, clock.now() - DAY)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    scope = {"evidence_runs", "evidence_chunks", "events", "trail_head", "notifications", "notification_outbox",
             "search_index", "health_tallies", "health_item_parts", "webhook_deliveries"}
    assert {("UPDATE", "decision_items"), ("UPDATE", "ai_systems"), ("INSERT", "evidence_runs")} <= {
        (verb, table) for verb, table, _ in written}
    for verb, table, assignments in written:
        columns = {part.split("=")[0].strip().strip('"') for part in assignments.split(",")} if assignments else set()
        if table == "decision_items":
            assert verb == "UPDATE" and columns <= set(standing.COLUMNS), assignments
        elif table == "ai_systems":
            assert verb == "UPDATE" and columns == {"changed_seq"}, assignments
        else:
            assert table in scope, (verb, table, written)
