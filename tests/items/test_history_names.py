"""History reads names, not keys: people by display name and functions by label, while the
trail keeps the addresses and keys (two queries at most, whatever the number of events)."""

from __future__ import annotations

from forum.items import history
from forum.trail.service import events_for, record


def test_decisions_and_ratings_read_with_display_names_and_function_labels(db_session, make_user, make_item):
    cfo = make_user("executive", name="Carla Fernandes", email="cfo@example.com")
    staff = make_user("staff", function="risk", name="Rui Staff")
    item = make_item(staff, status="open")
    record(db_session, cfo, "decision.recorded", item.subject, {
        "outcome": "deferred", "rationale": "More evidence.", "deciders": ["cfo@example.com"],
        "recused": [{"user": staff.email, "reason": "filed it"}],
        "reviews_before": {"cfo@example.com": []},
        "actions": [{"id": 1, "text": "Re-test", "owner": staff.email, "due_on": "2027-01-01"}],
    })
    record(db_session, staff, "weight.rated", item.subject, {
        "function": "risk", "before": None,
        "after": {"scores": {}, "total": 3, "tier": "tactical", "reason": "Low"}})
    db_session.commit()

    entries = {e.kind: e for e in history.for_item(db_session, item)}

    decided = entries["decision.recorded"]
    assert "Deciders: Carla Fernandes" in decided.note and "cfo@example.com" not in decided.note
    assert "Rui Staff (filed it)" in decided.note
    assert any(c.after.startswith("Re-test — Rui Staff") for c in decided.changes)
    assert decided.actor_name == "Carla Fernandes"
    assert entries["weight.rated"].label == "Rated the strategic weight for Risk"


def test_names_load_in_two_queries_whatever_the_number_of_events(app, db_session, make_user, make_item):
    from tests.budgets import count_statements

    staff = make_user("staff", function="risk")
    item = make_item(staff, status="open")
    for n in range(30):
        record(db_session, staff, "weight.rated", item.subject, {
            "function": "risk", "before": None,
            "after": {"scores": {}, "total": n, "tier": "tactical", "reason": f"r{n}"}})
    db_session.commit()
    events = events_for(db_session, item.subject)
    loaded = []
    assert count_statements(app, lambda: loaded.append(history.Names.load(db_session, events))) == 2
    names = loaded[0]
    assert names.person(staff.email) == staff.display_name and names.function("risk") == "Risk"
    assert names.person("gone@example.com") == "gone@example.com"  # an address without an account
