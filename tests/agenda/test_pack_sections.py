"""The pre-read pack gathers, for every entry, the forum's weight and positions and the evidence
gates with the latest run per suite (sections the forum and evidence areas register)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forum.evidence import service as evidence
from forum.items.rubric import RUBRIC
from forum.weighing import positions, ratings
from tests.budgets import BUDGETS, cold_statements

# Results from the derived cache are asserted here: the minute must not turn mid-test.
pytestmark = pytest.mark.usefixtures("steady_minute")

CSV = Path(__file__).resolve().parent.parent / "evidence" / "fixtures" / "handwritten-support-bot.csv"


def weigh_in(db_session, item, rater, objector, score: int):
    ratings.rate(db_session, rater, item, ratings.RatingData({c.key: score for c in RUBRIC.criteria}, "Because."))
    positions.take_position(db_session, objector, item, positions.PositionData("object", "Edge cases fail."))
    evidence.attach_evidence(db_session, rater, item, "support.csv", CSV.read_bytes())
    db_session.commit()


def test_the_pack_shows_tier_positions_and_gates_for_every_entry(
    app, client, login, chair, filer, owner, make_item, make_meeting, db_session
):
    first = make_item(filer, status="escalated", title="First pack item")
    second = make_item(filer, status="escalated", title="Second pack item")
    for item in (first, second):
        db_session.refresh(item)
    meeting = make_meeting(chair, items=[first, second])
    login(chair)
    small = cold_statements(app, lambda: client.get(f"/meetings/{meeting.id}/pack"))

    weigh_in(db_session, first, filer, owner, 3)  # 18 points: strategic
    weigh_in(db_session, second, filer, owner, 1)
    page = client.get(f"/meetings/{meeting.id}/pack")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count("<h3>Weight and positions</h3>") == 2
    assert "Strategic" in text and "Object" in text and "Edge cases fail." in text
    assert text.count("<h3>Evidence: latest run per suite</h3>") == 2
    assert "Edge-case pass rate" in text and "8/12 passed" in text
    large = cold_statements(app, lambda: client.get(f"/meetings/{meeting.id}/pack"))
    assert small == large <= BUDGETS["agenda.pack"], (small, large)


def test_the_decision_register_filters_by_tier_and_shows_it(
    client, login, chair, filer, owner, make_item, make_meeting, decide, db_session
):
    heavy = make_item(filer, status="escalated", title="Heavy decision")
    light = make_item(filer, status="escalated", title="Light decision")
    ratings.rate(db_session, filer, heavy, ratings.RatingData({c.key: 3 for c in RUBRIC.criteria}, "Big."))
    ratings.rate(db_session, filer, light, ratings.RatingData({c.key: 0 for c in RUBRIC.criteria}, "Small."))
    db_session.commit()
    meeting = make_meeting(chair, status="in_session", items=[heavy, light])
    decide(chair, meeting, heavy)
    decide(chair, meeting, light)
    login(chair)
    strategic = client.get("/decisions?tier=strategic").get_data(as_text=True)
    assert "Heavy decision" in strategic and "Light decision" not in strategic
    tactical = client.get("/decisions?tier=tactical").get_data(as_text=True)
    assert "Light decision" in tactical and "Heavy decision" not in tactical
    everything = client.get("/decisions").get_data(as_text=True)
    assert "Strategic" in everything and "Tactical" in everything


def test_the_pack_is_kept_rendered_per_permission_and_follows_every_change(
    app, client, login, chair, filer, owner, make_item, make_meeting, db_session
):
    from tests.budgets import count_statements

    item = make_item(filer, status="escalated", title="Cached pack item")
    db_session.refresh(item)
    meeting = make_meeting(chair, items=[item])
    weigh_in(db_session, item, filer, owner, 3)  # a run with failing cases
    url = f"/meetings/{meeting.id}/pack"
    login(chair)
    first = client.get(url).get_data(as_text=True)
    assert "review its failing cases" in first  # executives review failing cases hands-on
    again = []
    warm = count_statements(app, lambda: again.append(client.get(url).get_data(as_text=True)))
    def article(html: str) -> str:
        return html[html.index('<article class="pack">'):html.index("</article>")]

    # The user and the trail head; the article from the cache, as it was.
    assert article(again[0]) == article(first) and warm <= 3

    login(filer)  # staff: the same data, another permission, another article
    staff = client.get(url).get_data(as_text=True)
    assert "Cached pack item" in staff and "review its failing cases" not in staff

    positions.take_position(db_session, filer, item, positions.PositionData("support", "Works for us."))
    db_session.commit()
    assert "Works for us." in client.get(url).get_data(as_text=True)
    login(chair)
    assert "Works for us." in client.get(url).get_data(as_text=True)
    assert client.get("/meetings/999999/pack").status_code == 404
    assert client.get("/meetings/999999/pack").status_code == 404
