"""The top of an item's page says what it asks of the person looking at it, with the form a
click away; the page shows the latest events, and the whole history is a page of its own."""

from __future__ import annotations

import re

from forum.items.rubric import RUBRIC
from forum.weighing import comments, positions, ratings


def _asks(html: str) -> list[str]:
    if "Asked of you" not in html:
        return []
    block = html[html.index('id="asks-heading"'):html.index("</section>", html.index('id="asks-heading"'))]
    return re.findall(r'href="(#[\w-]+)"', block)


def test_the_top_asks_for_the_viewers_missing_rating_and_position(client, login, make_user, make_item, db_session):
    filer = make_user("staff", function="procurement")
    risk = make_user("staff", function="risk")
    item = make_item(filer, status="open")
    login(risk)
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert _asks(page) == ["#rate-weight", "#take-position"]
    assert "Your function (Risk) has not rated the strategic weight yet." in page
    assert 'id="rate-weight"' in page and 'id="take-position"' in page  # the forms the links reach

    ratings.rate(db_session, risk, item, ratings.RatingData(scores={c.key: 1 for c in RUBRIC.criteria}, reason="Low."))
    db_session.commit()
    assert _asks(client.get(f"/items/{item.id}").get_data(as_text=True)) == ["#take-position"]
    positions.take_position(db_session, risk, item, positions.PositionData("support", "Fine."))
    db_session.commit()
    assert _asks(client.get(f"/items/{item.id}").get_data(as_text=True)) == []


def test_people_who_do_not_weigh_are_asked_nothing(client, login, make_user, make_item):
    item = make_item(make_user("staff", function="procurement"), status="open")
    login(make_user("auditor", function=None))
    assert _asks(client.get(f"/items/{item.id}").get_data(as_text=True)) == []


def test_the_page_shows_the_latest_events_and_links_the_whole_history(client, login, make_user, make_item, db_session):
    filer = make_user("staff", function="procurement")
    item = make_item(filer, status="open")
    for n in range(8):
        comments.add_comment(db_session, filer, item, f"Note {n}")
    db_session.commit()
    login(filer)
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    total = 2 + 8  # filed, submitted, eight comments
    assert "The latest 5 events." in page
    assert page.count('class="timeline-entry"') == 5
    assert f'href="/items/{item.id}/history"' in page
    history = client.get(f"/items/{item.id}/history").get_data(as_text=True)
    assert history.count('class="timeline-entry"') == total and "Filed the item" in history


def test_the_whole_history_of_someone_elses_draft_is_not_disclosed(client, login, make_user, make_item):
    draft = make_item(make_user("staff", function="procurement"), status="draft")
    login(make_user("staff", function="risk"))
    assert client.get(f"/items/{draft.id}/history").status_code == 404


def _flags(html: str) -> list[tuple[str, str]]:
    """(label, link) of the badges beside the status at the top of the page."""
    block = html[html.index('class="item-flags"'):html.index("</p>", html.index('class="item-flags"'))]
    return re.findall(r'<a class="badge [\w-]+" href="(#[\w-]+)"[^>]*>([^<]+)', block)


def test_the_top_shows_the_tier_flags_and_evidence_state_linking_to_their_sections(
        client, login, make_user, make_item, db_session):
    from forum.evidence import service as evidence
    from tests.evidence.conftest import csv_bytes

    procurement, product = make_user("staff", function="procurement"), make_user("staff", function="product")
    item = make_item(procurement, status="open")
    login(procurement)
    assert _flags(client.get(f"/items/{item.id}").get_data(as_text=True)) == [
        ("#weight", "Not rated"), ("#evidence", "No evidence")]

    ratings.rate(db_session, procurement, item, ratings.RatingData({c.key: 3 for c in RUBRIC.criteria}, "High."))
    ratings.rate(db_session, product, item, ratings.RatingData({c.key: 0 for c in RUBRIC.criteria}, "Low."))
    item.model_version = "1.0"
    evidence.attach_evidence(db_session, procurement, item, "run.csv", csv_bytes(passed=2, failed=8, edge_failed=2))
    db_session.commit()
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert _flags(page) == [("#weight", "Strategic"), ("#weight", "Weight divergence"),
                            ("#escalation", "Escalation recommended"), ("#evidence", "Evidence failing")]
    assert 'id="weight"' in page and 'id="escalation"' in page and 'id="evidence"' in page


def test_a_draft_shows_its_status_only(client, login, make_user, make_item):
    filer = make_user("staff", function="procurement")
    item = make_item(filer, status="draft")
    login(filer)
    assert _flags(client.get(f"/items/{item.id}").get_data(as_text=True)) == []
