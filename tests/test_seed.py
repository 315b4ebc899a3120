"""The demo data set: loaded through the services, verifiable, and loaded only once by the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from forum.auth import service as accounts
from forum.auth.models import User
from forum.cli import main
from forum.core import clock
from forum.items.models import CATEGORIES, DecisionItem
from forum.trail import service as trail
from forum.trail.models import Event
from forum_seed import demo as seed


@pytest.fixture
def seeded(db_session):
    summary = seed.load_demo(db_session)
    db_session.commit()
    return summary


def _events(session) -> list[Event]:
    return list(session.scalars(select(Event).order_by(Event.seq)))


def test_demo_logins_exist_and_authenticate_with_the_demo_password(db_session, seeded):
    assert len(seed.DEMO_LOGINS) == 6
    roles = set()
    for email, _description in seed.DEMO_LOGINS:
        user = accounts.authenticate(db_session, email, seed.DEMO_PASSWORD)
        roles.add(user.role)
    assert roles == {"staff", "executive", "auditor", "admin"}
    with pytest.raises(accounts.LoginRefused):
        accounts.authenticate(db_session, "exec@example.com", "wrong-password")
    staff = db_session.scalars(select(User).where(User.role == "staff")).all()
    assert {u.function_key for u in staff} == {"procurement", "product", "risk"}


def test_demo_items_span_categories_functions_and_statuses(db_session, seeded):
    rows = db_session.scalars(select(DecisionItem)).all()
    assert len(rows) >= 20
    assert {i.category for i in rows} == set(CATEGORIES)
    assert {i.function_key for i in rows} == {"procurement", "product", "risk"}
    statuses = {i.status for i in rows}
    # the agenda seed (seed/agenda.json) schedules, decides and closes some escalated items
    assert statuses == {"draft", "open", "escalated", "scheduled", "decided", "closed"}
    assert len({i.filer_id for i in rows}) > 3
    assert seeded.endswith(f"{len(rows)} items, {len(_events(db_session))} events")


def test_demo_trail_verifies_and_times_follow_the_chain(db_session, seeded):
    events = _events(db_session)
    result = trail.verify_database(db_session)
    assert result.ok, result.problem
    assert result.count == len(events) > 0
    times = [e.at for e in events]
    assert times == sorted(times)
    assert times[-1] < clock.now()
    assert (times[-1] - times[0]).days > 150  # history spread over months, not seconds
    escalations = [e for e in events if e.kind == "item.status_changed"
                   and e.data["action"] == "escalate"]
    assert escalations and all(e.data.get("note") for e in escalations)
    items = db_session.scalars(select(DecisionItem)).all()
    assert all(i.created_at <= i.updated_at < clock.now() for i in items)


def test_load_demo_does_not_commit(db_session):
    seed.load_demo(db_session)
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(User)) == 0
    assert db_session.scalar(select(func.count()).select_from(Event)) == 0


def test_loading_again_reuses_accounts_and_keeps_event_times_in_order(db_session, seeded):
    users_before = db_session.scalar(select(func.count()).select_from(User))
    summary = seed.load_demo(db_session)
    assert summary.startswith("0 functions, 0 users")
    assert db_session.scalar(select(func.count()).select_from(User)) == users_before
    assert trail.verify_database(db_session).ok
    times = [e.at for e in _events(db_session)]
    assert times == sorted(times)


def test_cli_seed_refuses_a_second_run_without_force(tmp_path, monkeypatch):
    monkeypatch.setenv("FORUM_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FORUM_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()

    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["seed"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded:" in result.output

    result = runner.invoke(main, ["seed"])
    assert result.exit_code != 0
    assert "--force" in result.output

    result = runner.invoke(main, ["trail", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK:")


def test_the_demo_register_names_its_systems_and_their_items(db_session, seeded):
    from forum.items.models import DecisionItem
    from forum.register.models import ObligationRecord
    from forum.systems.models import AISystem
    from forum_seed import demo_systems

    spec = json.loads(demo_systems.PATH.read_text(encoding="utf-8"))["systems"]
    found = {s.name: s for s in db_session.scalars(select(AISystem))}
    assert set(found) == {entry["name"] for entry in spec}
    for entry in spec:
        system = found[entry["name"]]
        linked = {item.title: item for item in db_session.scalars(
            select(DecisionItem).where(DecisionItem.system_id == system.id))}
        assert set(linked) == set(entry["items"])
        assert (system.eu_ai_act, system.high_risk_area, system.risk_tier) == (
            entry["eu_ai_act"], entry.get("high_risk_area", ""), entry["risk_tier"])
        # Linked items were already about that version: linking moved none of them.
        assert {item.model_version for item in linked.values()} == {system.version_in_use}
        confirmed = {(r.framework, r.obligation): r for r in db_session.scalars(
            select(ObligationRecord).where(ObligationRecord.system_id == system.id))}
        assert set(confirmed) == {(o["framework"], o["key"]) for o in entry.get("obligations", [])}
        assert all(r.run_id or r.document_url for r in confirmed.values())
    link_events = [e for e in _events(db_session) if e.kind == "item.updated" and "system_id" in e.data["changes"]]
    assert len(link_events) == sum(len(entry["items"]) for entry in spec)
    assert all(set(e.data["changes"]) == {"system_id"} for e in link_events)
