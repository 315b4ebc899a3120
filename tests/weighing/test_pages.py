"""The forum's pages through the test client: the item panel and its forms, comment editing, the
escalation queue, list filters and row flags, permissions per role, bad input, query budgets."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from forum.items.models import DecisionItem
from forum.weighing import comments, queue, rules
from forum.weighing.models import Comment, Escalation, Position, WeightRating
from tests.budgets import BUDGETS, cold_statements
from tests.weighing.conftest import event_count, form_scores


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _text(response) -> str:
    return response.get_data(as_text=True)


def _discussion(page: str) -> str:
    """The discussion section only (the history below it repeats comment texts, escaped)."""
    return page[page.index('id="discussion"'):page.index('id="history-heading"')]


@pytest.fixture
def item(people, make_item):
    return make_item(people["procurement"], status="open", title="Choose a support chatbot vendor",
                     exposure=100_000)


# ------------------------------------------------------------------------------ the item panel
def test_the_item_page_shows_each_functions_scores_side_by_side_with_tier_and_divergence(
    client, login, people, item, rate, position
):
    rate(people["procurement"], item, 4, "Small contract.")
    rate(people["risk"], item, 13, "Customer data leaves the EU.")
    position(people["risk"], item, "object", "Not without a DPA.")
    login(people["product"])
    page = _text(client.get(f"/items/{item.id}"))
    table = page[page.index('class="weight-table"'):page.index("</table>")]
    headers = re.findall(r'<th scope="col">([^<]+)</th>', table)
    assert headers == ["Criterion", "Procurement", "Product", "Risk"]
    assert re.search(r"Total.*?</th>\s*<td>4</td><td>—</td><td>13</td>", table, re.S)
    assert table.count('tier-tactical') == 1 and table.count('tier-strategic') == 1
    assert "Not rated" in table  # product has not rated
    assert "Weight divergence" in page and "Escalation recommended" in page
    assert "Risk objects." in page and "Strategic weight: rated strategic by Risk (13 of 18)." in page
    assert "Customer data leaves the EU." in page
    assert "Not without a DPA." in page
    assert re.search(r"Still to take a position: Procurement, Product\.", page)
    # the history reads well
    assert "Rated the strategic weight for Risk" in page and "Took a position for Risk" in page  # labels, not keys


def test_a_staff_member_rates_through_the_page_and_sees_the_flash(client, login, people, item, db_session):
    login(people["risk"])
    response = client.post(f"/items/{item.id}/ratings", data=form_scores(12) | {"reason": "Regulated data."},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "Rating saved for Risk: 12 of 18, strategic." in _text(response)
    rating = db_session.scalars(select(WeightRating)).one()
    assert (rating.function_key, rating.total) == ("risk", 12)
    # the form comes back pre-filled to revise it
    page = _text(client.get(f"/items/{item.id}"))
    assert "Revise the weight for Risk" in page
    assert re.search(r'name="score_financial_exposure"[^>]*value="3"[^>]*checked|checked[^>]*name="score_financial_exposure"[^>]*value="3"', page)


@pytest.mark.parametrize(("data", "message"), [
    (form_scores(6) | {"score_regulatory": "4"}, "Not a valid choice"),
    (form_scores(6) | {"score_regulatory": "-1"}, "Not a valid choice"),
    ({k: v for k, v in form_scores(6).items() if k != "score_irreversibility"}, "Score Irreversibility."),
    (form_scores(6) | {"reason": "  "}, "Give a reason for the rating."),
])
def test_bad_rating_input_re_renders_the_item_page_with_400_and_stores_nothing(
    client, login, people, item, db_session, data, message
):
    data = {"reason": "A reason."} | data
    login(people["risk"])
    before = event_count(db_session)
    response = client.post(f"/items/{item.id}/ratings", data=data)
    assert response.status_code == 400
    page = _text(response)
    assert message in page
    assert "<details class=\"forum-form\" open>" in page  # the form is open with its errors
    assert _count(db_session, WeightRating) == 0
    assert event_count(db_session) == before


@pytest.mark.parametrize(("who", "status"), [("auditor", 403), ("admin", 403), ("exec", 403)])
def test_readers_and_executives_without_a_function_cannot_post_ratings_or_positions(
    client, login, people, item, db_session, who, status
):
    login(people[who])
    before = event_count(db_session)
    assert client.post(f"/items/{item.id}/ratings", data=form_scores(6) | {"reason": "R"}).status_code == status
    assert client.post(f"/items/{item.id}/positions", data={"stance": "object", "rationale": "R"}).status_code == status
    assert _count(db_session, WeightRating) == _count(db_session, Position) == 0
    assert event_count(db_session) == before
    page = _text(client.get(f"/items/{item.id}"))
    assert "Save the rating" not in page and "Save the position" not in page


def test_an_executive_with_a_function_rates_for_it_through_the_page(client, login, people, item, db_session):
    login(people["exec_fn"])
    assert client.post(f"/items/{item.id}/positions", data={"stance": "concerns", "rationale": "Check it."}).status_code == 302
    assert db_session.scalars(select(Position)).one().function_key == "risk"


def test_readers_see_the_forum_but_no_forms(client, login, people, item, rate):
    rate(people["risk"], item, 6)
    login(people["auditor"])
    page = _text(client.get(f"/items/{item.id}"))
    assert "Strategic weight" in page and "Positions" in page and "Discussion" in page
    for form in ("forum.rate", "/ratings", "/positions", "/comments\"", "/escalations"):
        assert f'action="/items/{item.id}{form}' not in page
    assert "Escalate to the executives" not in page


def test_a_position_through_the_page_and_its_bad_input(client, login, people, item, db_session):
    login(people["product"])
    response = client.post(f"/items/{item.id}/positions", data={"stance": "support_with_conditions", "rationale": "With a pilot."})
    assert response.status_code == 302 and response.headers["Location"].endswith("#positions")
    before = event_count(db_session)
    response = client.post(f"/items/{item.id}/positions", data={"stance": "love", "rationale": "Hm."})
    assert response.status_code == 400 and "Not a valid choice" in _text(response)
    response = client.post(f"/items/{item.id}/positions", data={"stance": "object", "rationale": ""})
    assert response.status_code == 400 and "Give the rationale for the position." in _text(response)
    assert event_count(db_session) == before
    assert db_session.scalars(select(Position)).one().stance == "support_with_conditions"


def test_no_forum_forms_on_a_draft_and_posts_to_it_are_refused(client, login, people, make_item, db_session):
    draft = make_item(people["procurement"], title="Private draft")
    login(people["procurement"])
    page = _text(client.get(f"/items/{draft.id}"))
    assert "Save the rating" not in page and "Add the comment" not in page
    response = client.post(f"/items/{draft.id}/comments", data={"body": "Hello"})
    assert response.status_code == 409
    assert "The item is a draft" in _text(response)
    assert _count(db_session, Comment) == 0
    # someone else's draft is not disclosed at all
    login(people["risk"])
    assert client.post(f"/items/{draft.id}/ratings", data=form_scores(6) | {"reason": "R"}).status_code == 404


# ----------------------------------------------------------------------------------- comments
def test_comments_are_sanitised_markdown_with_the_authors_function(client, login, people, item, db_session):
    login(people["risk"])
    body = "**Bold** point\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))"
    response = client.post(f"/items/{item.id}/comments", data={"body": body})
    assert response.status_code == 302
    comment = db_session.scalars(select(Comment)).one()
    assert response.headers["Location"].endswith(f"#comment-{comment.id}")
    login(people["exec"])
    assert client.post(f"/items/{item.id}/comments", data={"body": "Noted."}).status_code == 302
    page = _text(client.get(f"/items/{item.id}"))
    assert "<script>alert(1)" not in page
    page = _discussion(page)
    assert "<strong>Bold</strong> point" in page
    assert "javascript:" not in page
    assert re.search(r"Sasha Risk</strong>\s*<span class=\"muted\">Risk ·", page)
    assert re.search(r"Erin Executive</strong>\s*<span class=\"muted\">Executive ·", page)


def test_an_empty_comment_is_refused_with_400(client, login, people, item, db_session):
    login(people["risk"])
    response = client.post(f"/items/{item.id}/comments", data={"body": "   "})
    assert response.status_code == 400 and "Write a comment." in _text(response)
    assert _count(db_session, Comment) == 0


@pytest.mark.parametrize("who", ["auditor", "admin"])
def test_readers_cannot_comment(client, login, people, item, db_session, who):
    login(people[who])
    assert client.post(f"/items/{item.id}/comments", data={"body": "Hi"}).status_code == 403
    assert _count(db_session, Comment) == 0


def test_the_author_edits_a_comment_and_the_earlier_text_stays_in_the_history(
    client, login, people, item, db_session
):
    login(people["risk"])
    client.post(f"/items/{item.id}/comments", data={"body": "First version"})
    comment = db_session.scalars(select(Comment)).one()
    url = f"/items/{item.id}/comments/{comment.id}/edit"
    assert 'value="First version"' in _text(client.get(url)) or "First version</textarea>" in _text(client.get(url))
    assert client.post(url, data={"body": ""}).status_code == 400
    response = client.post(url, data={"body": "Second version"}, follow_redirects=True)
    assert response.status_code == 200
    page = _text(response)
    assert "Comment saved" in page and "edited" in page
    assert "Edited comment" in page and "First version" in page and "Second version" in page


def test_only_the_author_may_open_or_post_the_comment_editor(client, login, people, item, db_session):
    login(people["risk"])
    client.post(f"/items/{item.id}/comments", data={"body": "Mine"})
    comment = db_session.scalars(select(Comment)).one()
    login(people["product"])
    url = f"/items/{item.id}/comments/{comment.id}/edit"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"body": "Hijack"}).status_code == 403
    assert client.get(f"/items/{item.id}/comments/{comment.id + 99}/edit").status_code == 404
    db_session.expire_all()
    assert db_session.get(Comment, comment.id).body == "Mine"
    assert f"/comments/{comment.id}/edit" not in _text(client.get(f"/items/{item.id}"))


def test_comments_are_paginated_newest_page_first(client, login, people, item, db_session):
    for n in range(comments.COMMENTS_PER_PAGE + 3):
        comments.add_comment(db_session, people["risk"], item, f"Comment number {n:02d}")
    db_session.commit()
    login(people["product"])
    page = _discussion(_text(client.get(f"/items/{item.id}")))
    assert "Comments page 2 of 2" in page
    assert f"Comment number {comments.COMMENTS_PER_PAGE + 2:02d}" in page and "Comment number 00" not in page
    # The last page holds the three newest, oldest first; a page past the end shows it too.
    per = comments.COMMENTS_PER_PAGE
    shown = re.findall(r"Comment number (\d\d)", page)
    assert shown == [f"{n:02d}" for n in range(per, per + 3)]
    assert _discussion(_text(client.get(f"/items/{item.id}?comments=99"))) == page
    first = _discussion(_text(client.get(f"/items/{item.id}?comments=1")))
    assert "Comments page 1 of 2" in first
    assert re.findall(r"Comment number (\d\d)", first) == [f"{n:02d}" for n in range(per)]


# --------------------------------------------------------------------------------- escalation
def test_escalating_through_the_page_needs_a_reason_and_lands_in_the_queue(
    client, login, people, item, db_session
):
    login(people["risk"])
    page = _text(client.get(f"/items/{item.id}"))
    assert "Escalate to the executives" in page
    assert "items.change_status" not in page and 'value="escalate"' not in page  # no bare status button
    before = event_count(db_session)
    response = client.post(f"/items/{item.id}/escalations", data={"reason": "", "version": str(item.version)})
    assert response.status_code == 400 and "Give the reason for the escalation." in _text(response)
    assert event_count(db_session) == before
    response = client.post(f"/items/{item.id}/escalations", data={"reason": "Board call.", "version": "99"})
    assert response.status_code == 409 and "Someone else changed this item" in _text(response)
    assert event_count(db_session) == before and _count(db_session, Escalation) == 0
    response = client.post(f"/items/{item.id}/escalations", data={"reason": "Board call.", "version": str(item.version)})
    assert response.status_code == 302
    assert event_count(db_session) == before + 1
    assert db_session.get(DecisionItem, item.id).status == "escalated"
    login(people["exec"])
    queue = _text(client.get("/escalations"))
    assert "Choose a support chatbot vendor" in queue
    assert "Escalated by Sasha Risk" in queue and "Board call." in queue


@pytest.mark.parametrize("who", ["auditor", "admin"])
def test_readers_cannot_escalate(client, login, people, item, db_session, who):
    login(people[who])
    response = client.post(f"/items/{item.id}/escalations", data={"reason": "Hm", "version": str(item.version)})
    assert response.status_code == 403
    assert db_session.get(DecisionItem, item.id).status == "open"


def test_escalating_an_escalated_item_is_a_conflict(client, login, people, make_item, db_session):
    escalated = make_item(people["procurement"], status="escalated")
    login(people["risk"])
    response = client.post(f"/items/{escalated.id}/escalations", data={"reason": "Again", "version": str(escalated.version)})
    assert response.status_code == 409
    assert "you can escalate it only while it is open" in _text(response)


# ---------------------------------------------------------------------- the queue and the list
@pytest.mark.parametrize("who", ["exec", "auditor", "admin", "product"])
def test_everyone_reads_the_queue_and_the_nav_links_to_it(client, login, people, who):
    login(people[who])
    response = client.get("/escalations")
    assert response.status_code == 200
    page = _text(response)
    assert '<a href="/escalations" aria-current="page">Escalations</a>' in page
    assert "The queue is empty" in page


def test_queue_filters_and_a_bad_filter(client, login, people, make_item, rate):
    strategic = make_item(people["procurement"], status="open", title="Strategic one")
    rate(people["risk"], strategic, 15)
    split = make_item(people["procurement"], status="open", title="Split one")
    rate(people["risk"], split, 6)
    rate(people["procurement"], split, 2)
    login(people["exec"])
    both = _text(client.get("/escalations"))
    assert both.index("Strategic one") < both.index("Split one")
    only = _text(client.get("/escalations?divergent=y"))
    assert "Split one" in only and "Strategic one" not in only
    only = _text(client.get("/escalations?tier=strategic"))
    assert "Strategic one" in only and "Split one" not in only
    assert "Split one" not in _text(client.get("/escalations?status=escalated"))
    response = client.get("/escalations?tier=legendary")
    assert response.status_code == 400 and "Filter ignored" in _text(response)


def test_the_item_list_filters_by_tier_divergence_and_function_still_to_weigh_in_and_flags_rows(
    client, login, people, make_item, rate, position
):
    rated = make_item(people["procurement"], status="open", title="Rated by all")
    for who, total in (("procurement", 5), ("product", 6), ("risk", 7)):
        rate(people[who], rated, total)
        position(people[who], rated, "support")
    unrated = make_item(people["procurement"], status="open", title="Nobody weighed")
    login(people["product"])
    listed = _text(client.get("/items"))
    row = listed[listed.index("Rated by all"):]
    row = row[:row.index("</li>")]
    assert "tier-operational" in row and "Weight divergence" in row and "Escalation recommended" in row
    other = listed[listed.index("Nobody weighed"):]
    assert "Not rated" in other[:other.index("</li>")]
    assert "Rated by all" not in _text(client.get("/items?awaiting=risk"))
    assert "Nobody weighed" in _text(client.get("/items?awaiting=risk"))
    assert "Nobody weighed" not in _text(client.get("/items?divergent=y"))
    assert "Rated by all" in _text(client.get("/items?tier=operational&divergent=y"))
    assert "Rated by all" not in _text(client.get("/items?tier=unrated"))
    assert unrated.title in _text(client.get("/items?tier=unrated"))
    assert client.get("/items?tier=mythic").status_code == 400


def test_the_home_page_rows_carry_the_flags(client, login, people, make_item, rate):
    item = make_item(people["procurement"], status="open", title="On the home page")
    rate(people["risk"], item, 16)
    login(people["procurement"])
    page = _text(client.get("/"))
    assert "tier-strategic" in page and "Escalation recommended" in page


# ------------------------------------------------------------------------------ query budgets
ITEM_BUDGET = BUDGETS["items.detail"]
LIST_BUDGET = BUDGETS["forum.item_list"]
QUEUE_BUDGET = BUDGETS["forum.queue"]


def test_item_page_list_and_queue_keep_their_query_budget_whatever_the_data_size(
    app, client, login, people, make_item, rate, position, db_session
):
    def weigh_in(target, n):
        for who in ("procurement", "product", "risk"):
            rate(people[who], target, (n * 5 + len(who)) % 19)
            position(people[who], target, "object" if n % 3 == 0 else "support")
        comments.add_comment(db_session, people["risk"], target, f"Comment {n}")
        db_session.commit()

    item = make_item(people["procurement"], status="open", exposure=300_000)
    weigh_in(item, 0)
    escalated = make_item(people["procurement"], status="open", exposure=300_000)
    queue.escalate(db_session, people["risk"], escalated, "First.", rules.ForumSettings())
    db_session.commit()
    login(people["product"])
    pages = {"item": f"/items/{item.id}", "list": "/items", "queue": "/escalations"}
    small = {name: cold_statements(app, lambda url=url: client.get(url)) for name, url in pages.items()}

    for n in range(1, 30):
        more = make_item(people["procurement"], status="open", exposure=300_000 + n)
        weigh_in(more, n)
        if n % 4 == 0:
            queue.escalate(db_session, people["risk"], more, f"Escalation {n}", rules.ForumSettings())
    for n in range(30):
        comments.add_comment(db_session, people[("risk", "product")[n % 2]], item, f"Reply {n}")
    db_session.commit()
    large = {name: cold_statements(app, lambda url=url: client.get(url)) for name, url in pages.items()}
    assert small == large
    assert large["item"] <= ITEM_BUDGET, large
    assert large["list"] <= LIST_BUDGET
    assert large["queue"] <= QUEUE_BUDGET


def test_forum_forms_carry_the_csrf_token_and_are_refused_without_it(app_config, people, make_item, db_session):
    from forum.app import create_app
    from forum.core import db
    from tests.conftest import PASSWORD, csrf_token_from

    item = make_item(people["procurement"], status="open")
    protected = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    try:
        client = protected.test_client()
        token = csrf_token_from(_text(client.get("/login")))
        client.post("/login", data={"email": people["risk"].email, "password": PASSWORD, "csrf_token": token})
        page = _text(client.get(f"/items/{item.id}"))
        for action in ("ratings", "positions", "comments", "escalations"):
            form = page[page.index(f'action="/items/{item.id}/{action}"'):]
            assert 'name="csrf_token"' in form[:form.index("</form>")], action
        assert client.post(f"/items/{item.id}/comments", data={"body": "No token"}).status_code == 400
        token = csrf_token_from(page)
        assert client.post(f"/items/{item.id}/comments", data={"body": "With token", "csrf_token": token}).status_code == 302
        assert [c.body for c in db_session.scalars(select(Comment))] == ["With token"]
    finally:
        db.get_engine(protected).dispose()
