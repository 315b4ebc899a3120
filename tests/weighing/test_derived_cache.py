"""The derived cache (forum.core.derived): the escalation queue's and the lists' counts and ids are
reused until the trail moves or the minute turns, and never outlive a change."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from forum.core import clock, derived
from forum.weighing import comments
from tests.budgets import count_statements
from tests.evidence.conftest import csv_bytes

WRITE = re.compile(r'\s*(?:INSERT(?: OR \w+)? INTO|UPDATE|DELETE FROM)\s+"?(\w+)', re.IGNORECASE)

# Results from the derived cache are asserted here: the minute must not turn mid-test.
pytestmark = pytest.mark.usefixtures("steady_minute")


def _queue_titles(client) -> str:
    response = client.get("/escalations")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_repeated_queue_page_is_served_from_the_cache_with_fewer_statements(
    app, client, login, people, make_item, position
):
    item = make_item(people["procurement"], status="open", title="Objected chatbot")
    position(people["risk"], item, "object")
    login(people["exec"])
    cold = count_statements(app, lambda: client.get("/escalations"))
    warm_html = []
    warm = count_statements(app, lambda: warm_html.append(_queue_titles(client)))
    # All but the user and the trail head came from the cache: the page's ids with their count,
    # the drifted systems, the filter's functions and the rendered rows (the items, their
    # weighing and their escalations).
    assert warm == 2 < cold
    assert "Objected chatbot" in warm_html[0]
    assert app.extensions[derived.EXTENSION].hits >= 1


def test_the_queue_rows_kept_for_an_executive_are_not_shown_to_staff_who_may_not_schedule(
    client, login, people, make_item, position
):
    item = make_item(people["procurement"], status="open", title="Objected chatbot")
    position(people["risk"], item, "object")
    login(people["exec"])
    schedule = f'href="/escalations/{item.id}/schedule"'
    assert schedule in _queue_titles(client)
    login(people["procurement"])
    staff_page = _queue_titles(client)
    assert "Objected chatbot" in staff_page and schedule not in staff_page


def test_a_change_shows_at_once_although_the_page_was_cached(
    app, client, login, people, make_item, position
):
    first = make_item(people["procurement"], status="open", title="First objected")
    position(people["risk"], first, "object")
    login(people["exec"])
    assert "First objected" in _queue_titles(client)
    assert "Second objected" not in _queue_titles(client)  # served from the cache
    second = make_item(people["procurement"], status="open", title="Second objected")
    position(people["risk"], second, "object")  # a trail event: the head moves
    assert "Second objected" in _queue_titles(client)


def _statements_around_a_comment(app, client, db_session, url, author, item, text):
    """The statements of ``url`` cold, warm, and right after ``author`` commented ``text`` on
    ``item``, with that last page."""
    cold = count_statements(app, lambda: client.get(url))
    warm = count_statements(app, lambda: client.get(url))
    comments.add_comment(db_session, author, item, text)
    db_session.commit()
    pages = []
    after_comment = count_statements(app, lambda: pages.append(client.get(url).get_data(as_text=True)))
    return cold, warm, after_comment, pages[0]


@pytest.mark.parametrize("url", ["/escalations", "/", "/items"])
def test_a_comment_leaves_the_queues_and_the_executives_kept_results_in_place_and_a_position_does_not(
    app, client, login, people, make_item, position, db_session, url
):
    """The queue's and the item list's counts, ids and rows, and the executives' lists, read
    nothing a comment writes: they are kept across one (forum.core.derived ``items_only``), and
    not across anything else."""
    item = make_item(people["procurement"], status="open", title="First objected")
    position(people["risk"], item, "object")
    login(people["exec"])
    cold, warm, after_comment, page = _statements_around_a_comment(
        app, client, db_session, url, people["product"], item, "A thought on the vendor.")
    if url == "/":
        assert after_comment == warm < cold  # the executives' page reads nothing of the discussion
    else:  # only the filter form (kept until the trail moves) again
        assert after_comment == warm + 1 < cold
    assert ("First objected" in page) == (url != "/")  # the home page counts, not lists
    second = make_item(people["procurement"], status="open", title="Second objected")
    position(people["risk"], second, "object")
    after_position = count_statements(app, lambda: client.get(url))
    assert after_position > after_comment  # computed again
    assert "Second objected" in client.get("/escalations" if url == "/" else url).get_data(as_text=True)


def test_the_item_pages_evidence_cases_and_agenda_panels_outlive_a_comment_and_its_discussion_does_not(
    app, client, login, people, make_item, db_session
):
    item = make_item(people["procurement"], status="open", title="Panelled")
    login(people["exec"])
    url = f"/items/{item.id}"
    cold, warm, after_comment, page = _statements_around_a_comment(
        app, client, db_session, url, people["product"], item, "A fresh remark on the vendor.")
    # The discussion and the item's history again; the evidence, proposed-case and agenda panels'
    # statements not (without them kept across the comment, only one statement fewer than cold).
    assert warm < after_comment <= cold - 4
    assert "A fresh remark on the vendor." in page


def test_the_changes_that_leave_the_items_in_place_write_only_the_discussions_rows(
    app, db_session, people, make_item
):
    """What the changes recorded with ``leaves_items`` write: results kept with ``items_only``
    read none of these tables (forum.core.derived), so were a comment to write an item, this
    fails before a page shows a stale count."""
    from sqlalchemy import event

    from forum.core import db
    from forum.notify import service as notify
    from forum.trail.models import TrailHead

    item = make_item(people["procurement"], status="open", title="Discussed")
    db_session.commit()
    discussion = {"comments", "item_follows", "notifications", "notification_outbox", "search_index", "events",
                  "trail_head", "health_tallies"}
    written: list[str] = []

    def on_execute(conn, cursor, statement, *_):
        found = WRITE.match(statement)
        if found:
            written.append(found.group(1))

    engine = db.get_engine(app)
    items_seq = db_session.get(TrailHead, 1).items_seq
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        said = comments.add_comment(db_session, people["product"], item, "First thought.")
        db_session.commit()
        comments.edit_comment(db_session, people["product"], item, said, "Second thought.")
        db_session.commit()
        assert notify.unfollow(db_session, people["product"], item)
        db_session.commit()
        assert notify.follow(db_session, people["product"], item)
        db_session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert written and set(written) <= discussion
    db_session.expire_all()
    assert db_session.get(TrailHead, 1).items_seq == items_seq


def test_a_failing_run_shows_on_the_list_at_once_although_its_gates_were_cached(
    app, client, login, people, make_item, db_session
):
    from forum.evidence import service as evidence

    owner = people["procurement"]
    item = make_item(owner, status="open", title="Gated bot", model_name="bot", model_version="1.0")
    evidence.attach_evidence(db_session, owner, item, "good.csv", csv_bytes(10, 0, edge_passed=5))
    db_session.commit()
    login(people["exec"])
    assert "Evidence gate failing" not in client.get("/items").get_data(as_text=True)
    assert "Evidence gate failing" not in client.get("/items").get_data(as_text=True)  # from the cache
    assert app.extensions[derived.EXTENSION].hits >= 1
    evidence.attach_evidence(db_session, owner, item, "bad.csv", csv_bytes(2, 8, edge_passed=1, edge_failed=4))
    db_session.commit()
    assert "Evidence gate failing" in client.get("/items").get_data(as_text=True)


def test_the_item_lists_rows_are_kept_rendered_and_a_rating_shows_at_once(
    app, client, login, people, make_item, rate
):
    item = make_item(people["procurement"], status="open", title="Rendered once")
    login(people["exec"])
    cold = count_statements(app, lambda: client.get("/items"))
    pages = []
    warm = count_statements(app, lambda: pages.append(client.get("/items").get_data(as_text=True)))
    # Warm: the user and the trail head only. The page's ids and count, the functions of the
    # filter and the rendered rows (the items, their ratings, positions and runs) were kept.
    assert warm == 2 < cold
    assert "Rendered once" in pages[0] and "tier-none" in pages[0]
    rate(people["risk"], item, 12)  # strategic: a trail event, the head moves
    after = client.get("/items").get_data(as_text=True)
    assert "tier-strategic" in after and "tier-none" not in after


def test_ageing_evidence_enters_the_queue_when_the_minute_turns(
    app, client, login, people, make_item, db_session
):
    from forum.evidence import service as evidence

    owner = people["procurement"]
    item = make_item(owner, status="open", title="Ageing evidence", model_name="bot", model_version="1.0")
    tested = datetime(2026, 1, 1, tzinfo=UTC)
    evidence.attach_evidence(db_session, owner, item, "r.csv",
                             csv_bytes(5, 0, edge_passed=5, run_at=tested.isoformat()))
    db_session.commit()
    limit = tested + timedelta(days=90)  # unrated: the operational tier's 90 days
    login(people["exec"])
    with clock.override(lambda: limit):
        assert "Ageing evidence" not in _queue_titles(client)
    # Stale a second later; the cached page is at most a minute behind the clock.
    with clock.override(lambda: limit + timedelta(minutes=1)):
        assert "Ageing evidence" in _queue_titles(client)


def test_a_transaction_that_wrote_is_never_cached(app, db_session, people, make_item):
    item = make_item(people["procurement"], status="open")
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    with app.app_context():
        assert derived.cached(db_session, "k", compute) == 1
        assert derived.cached(db_session, "k", compute) == 1  # reused
        db_session.commit()
        comments.add_comment(db_session, people["risk"], item, "Written, not committed")  # flushes
        assert derived.cached(db_session, "k", compute) == 2
        assert derived.cached(db_session, "k", compute) == 3  # neither read nor stored
        db_session.rollback()
        # The rolled-back comment left the head where it was: the first value is still right.
        assert derived.cached(db_session, "k", compute) == 1


def test_the_store_keeps_the_most_recently_used_and_size_zero_turns_it_off(app, db_session):
    store = derived.Store(2)
    store.put("a", 1)
    store.put("b", 2)
    assert store.get("a") == (True, 1)
    store.put("c", 3)  # "b" was used least recently
    assert store.get("b") == (False, None)
    assert store.get("a") == (True, 1) and store.get("c") == (True, 3)

    app.config["DERIVED_CACHE_SIZE"] = 0
    app.extensions.pop(derived.EXTENSION, None)
    calls = []
    with app.app_context():
        for _ in range(2):
            derived.cached(db_session, "k", lambda: calls.append(1))
    assert len(calls) == 2
    assert derived.EXTENSION not in app.extensions


def test_a_request_reads_one_minute_throughout_though_the_clock_turns_during_it(
    app, client, login, people, make_item, rate
):
    # A page that asks the cache for one result twice gets it computed once, whatever the clock
    # does meanwhile: the minute is read once per transaction, like the trail head (a minute
    # turning mid-request once cost the item page a statement and showed parts of it at two
    # minutes).
    from tests.budgets import cold_statements

    item = make_item(people["procurement"], status="open", title="Rated")
    rate(people["risk"], item, 5)
    login(people["product"])
    steady = cold_statements(app, lambda: client.get(f"/items/{item.id}"))
    ticks = [clock.now()]

    def turning_at_every_read():
        ticks[0] += timedelta(minutes=1)
        return ticks[0]

    with clock.override(turning_at_every_read):
        turning = cold_statements(app, lambda: client.get(f"/items/{item.id}"))
    assert turning == steady


@pytest.mark.parametrize("path", ["/items", "/escalations"])
def test_the_kept_filters_show_each_set_of_filters_its_own_values_and_a_new_function_at_once(
        client, login, people, db_session, path):
    from forum.auth.service import create_function

    login(people["exec"])
    plain = client.get(path).get_data(as_text=True)
    unchecked = '<input id="divergent" name="divergent" type="checkbox" value="y">'
    assert '<select id="tier" name="tier"><option value="">Any tier</option>' in plain and unchecked in plain
    strategic = client.get(path, query_string={"tier": "strategic", "divergent": "y"}).get_data(as_text=True)
    assert '<option selected value="strategic">' in strategic and 'checked id="divergent"' in strategic
    assert ">Clear</a>" in strategic
    again = client.get(path).get_data(as_text=True)
    assert '<select id="tier" name="tier"><option value="">Any tier</option>' in again and unchecked in again
    assert ">Clear</a>" not in again
    create_function(db_session, None, "legal", "Legal")  # an event: the trail moves
    db_session.commit()
    assert '<option value="legal">Legal</option>' in client.get(path).get_data(as_text=True)
    refused = client.get(path, query_string={"tier": "no-such-tier"})
    assert refused.status_code == 400 and "Filter ignored" in refused.get_data(as_text=True)
    assert "&lt;" not in refused.get_data(as_text=True)
