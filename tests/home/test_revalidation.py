"""Revalidation only for drift after the decision (issue: evidence you can trust, point 8): an
item decided on evidence that was already stale keeps the state it was decided on — shown on the
decision as "decided on stale evidence" — and needs revalidation only when something changes
after the decision: a model update, a newer failing run, evidence ageing past its tier's limit."""

from __future__ import annotations

from datetime import timedelta

from forum.core import clock
from forum.evidence import service as evidence
from forum.home import service as home
from forum.items import service as items
from forum.items.models import DecisionItem
from forum_seed.demo_evidence import with_run_time
from tests.health.conftest import CSV, CSV_VERSION

DAY = timedelta(days=1)


def revalidation_titles(db_session) -> set[str]:
    found, _total = home.drifted_items(db_session, [DecisionItem.status.in_(("decided", "closed"))],
                                       clock.now(), ("test revalidation",))
    return {drift.item.title for drift in found}


def item_page(client, login, user, item) -> str:
    login(user)
    return client.get(f"/items/{item.id}").get_data(as_text=True)


def test_a_decision_on_already_stale_evidence_is_recorded_as_such_not_as_drift(
        db_session, history, cast, client, login, api_as):
    now = clock.now()
    item = history.item(now - 30 * DAY, model_version="2026.11", title="Knowingly stale")  # tested 2026.06.1
    history.attach(item, now - 29 * DAY)
    decision = history.decide(item, now - 20 * DAY)
    db_session.refresh(item)
    assert item.decided_at is not None and item.decided_model_version == "2026.11"
    assert item.evidence_drift is False
    assert revalidation_titles(db_session) == set()
    page = item_page(client, login, cast["chair"], item)
    assert "Revalidation required" not in page
    assert "Decided on stale evidence" in page
    assert f"tested model version {CSV_VERSION}, the item is now at 2026.11" in page
    snapshot = decision.evidence_snapshot
    assert snapshot["model_version"] == "2026.11" and snapshot["runs"][0]["gates"]["freshness"] == "fail"
    assert "revalidation_required" not in api_as(cast["chair"]).get(f"/api/v1/items/{item.id}").get_json()["flags"]


def decided_then_updated(db_session, history, cast, title: str) -> DecisionItem:
    """An item tested, decided, and then moved to model version 2026.12."""
    now = clock.now()
    item = history.item(now - 30 * DAY, model_version="2026.11", title=title)
    history.attach(item, now - 29 * DAY)
    history.decide(item, now - 20 * DAY)
    items.update_model_version(db_session, cast["chair"], item, "2026.12", item.version)
    db_session.commit()
    db_session.refresh(item)
    return item


def test_a_model_update_after_the_decision_calls_for_revalidation(db_session, history, cast, client, login, api_as):
    item = decided_then_updated(db_session, history, cast, "Updated after")
    assert item.evidence_drift is True
    assert revalidation_titles(db_session) == {"Updated after"}
    assert "Revalidation required" in item_page(client, login, cast["chair"], item)
    assert "revalidation_required" in api_as(cast["chair"]).get(f"/api/v1/items/{item.id}").get_json()["flags"]


def test_a_newer_run_failing_after_the_decision_calls_for_revalidation(db_session, history, cast):
    now = clock.now()
    item = history.item(now - 30 * DAY, model_version="2026.11", title="Newer run")
    history.attach(item, now - 29 * DAY)
    history.decide(item, now - 20 * DAY)
    assert revalidation_titles(db_session) == set()
    with clock.override(lambda: now - DAY):  # the same stale file again, after the decision
        evidence.attach_evidence(db_session, cast["filer"], item, "run.csv", with_run_time("run.csv", CSV, now - DAY))
    db_session.commit()
    assert revalidation_titles(db_session) == {"Newer run"}


def test_evidence_ageing_past_its_limit_after_the_decision_calls_for_revalidation(db_session, history):
    now = clock.now()
    item = history.item(now - 100 * DAY, model_version=CSV_VERSION, title="Aged after")
    history.attach(item, now - 85 * DAY)  # 90 days allowed (operational): fresh when decided
    history.decide(item, now - 80 * DAY)
    assert revalidation_titles(db_session) == set()
    with clock.override(lambda: now + 6 * DAY):
        assert revalidation_titles(db_session) == {"Aged after"}


def test_revalidation_clears_the_basis_and_a_new_decision_sets_it_again(db_session, history, cast):
    now = clock.now()
    item = history.item(now - 30 * DAY, model_version="2026.11", title="Round trip")
    history.attach(item, now - 29 * DAY)
    history.decide(item, now - 20 * DAY)
    items.transition(db_session, None, item, "revalidate", note="test")
    db_session.commit()
    assert item.decided_at is None and item.decided_model_version is None


def test_the_executive_home_keeps_what_drifted_until_the_trail_moves(db_session, history, cast, client, login):
    """Why an item needs revalidation is computed from its current runs once per state of the
    data (the derived cache): a second visit reads no run, and the next change is seen at once."""
    from sqlalchemy import event

    from forum.core import db

    item = decided_then_updated(db_session, history, cast, "Updated twice")
    login(cast["chair"])

    def visit() -> tuple[str, list[str]]:
        statements: list[str] = []
        engine = db.get_engine(client.application)

        def seen(_conn, _cursor, statement, *_):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            page = client.get("/").get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        return page, [s for s in statements if "FROM evidence_runs" in s]

    first, runs_read = visit()
    assert "Updated twice" in first and "2026.12" in first and runs_read
    again, runs_read = visit()
    assert again.count("2026.12") == first.count("2026.12") and runs_read == []

    items.update_model_version(db_session, cast["chair"], item, "2026.13", item.version)
    db_session.commit()
    moved, runs_read = visit()
    assert "2026.13" in moved and runs_read
