"""The trail browser: filters, keyset pagination, validation, permissions; the raw event page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from forum.audit.browse import distinct_kinds
from forum.core import clock
from forum.trail.models import Event
from forum.trail.service import record
from tests.audit.conftest import count_statements

PER_PAGE = 50


def seqs_on(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'class="trail-seq" href="/trail/(\d+)"', page)]


def link(page: str, rel: str) -> str | None:
    match = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return match.group(1).replace("&amp;", "&") if match else None


def event_total(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Event))


@pytest.fixture
def reader(client, login, auditor):
    login(auditor)
    return auditor


def test_pages_walk_the_whole_trail_newest_first_and_back_without_gaps(client, reader, notes, db_session):
    notes(120)
    total = event_total(db_session)  # plus the users' and functions' events

    seen, url = [], "/trail"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen.extend(seqs_on(page))
        url = link(page, "next")
        assert url is None or "before=" in url
    assert seen == list(range(total, 0, -1))

    # and back again with the "newer" links, from the oldest page
    back, url = [], "/trail?before=" + str(seen[-PER_PAGE] + 1)
    while url:
        page = client.get(url).get_data(as_text=True)
        back = seqs_on(page) + back
        url = link(page, "prev")
        assert url is None or "after=" in url
    assert back == seen


def test_the_first_page_has_no_newer_link_and_a_deep_page_offers_the_newest(client, reader, notes):
    notes(60)
    first = client.get("/trail").get_data(as_text=True)
    assert link(first, "prev") is None and link(first, "next")
    deep = client.get("/trail?before=10").get_data(as_text=True)
    assert seqs_on(deep) == list(range(9, 0, -1))
    assert link(deep, "next") is None
    assert link(deep, "prev") == "/trail?after=9"
    assert 'href="/trail">Newest</a>' in deep


def test_pages_use_keyset_conditions_never_offset(app, client, reader, notes):
    notes(120)
    _, statements = count_statements(app, lambda: client.get("/trail?before=40"))
    pages = [(sql, params) for sql, params in statements if "FROM events" in sql and "seq <" in sql]
    assert pages, "no keyset query on events"
    for sql, params in statements:
        if "OFFSET" in sql:  # SQLite writes LIMIT ? OFFSET ? with 0 for every LIMIT
            assert engine_is_sqlite(app) and params[-1] == 0, sql


def engine_is_sqlite(app) -> bool:
    from forum.core import db

    return db.get_engine(app).dialect.name == "sqlite"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("kind=test.other", {"test.other"}),
        ("subject=item:7", {"item:7"}),
        ("actor=ADA.AUDITOR@example.com", {"ada.auditor@example.com"}),
    ],
)
def test_filters_by_kind_subject_and_actor(client, reader, db_session, query, expected):
    record(db_session, None, "test.other", "item:7", {"x": 1})
    record(db_session, reader, "test.note", "item:8", {"x": 2})
    db_session.commit()

    page = client.get(f"/trail?{query}").get_data(as_text=True)

    rows = db_session.scalars(select(Event).where(Event.seq.in_(seqs_on(page)))).all()
    assert rows
    values = {getattr(e, query.split("=")[0]) for e in rows}
    assert values == expected


def test_free_text_searches_the_data_with_wildcards_taken_literally(client, reader, db_session):
    record(db_session, None, "test.note", "t:1", {"text": "ratio 100% sure"})
    record(db_session, None, "test.note", "t:2", {"text": "ratio 1000 sure"})
    record(db_session, None, "test.note", "t:3", {"text": "snake_case"})
    record(db_session, None, "test.note", "t:4", {"text": "snakeXcase"})
    record(db_session, None, "test.note", "t:5", {"text": "Zürich"})
    db_session.commit()

    def subjects(text: str) -> set[str]:
        page = client.get("/trail", query_string={"text": text}).get_data(as_text=True)
        return set(re.findall(r"<span>(t:\d)</span>", page))

    assert subjects("100%") == {"t:1"}
    assert subjects("snake_case") == {"t:3"}
    assert subjects("zürich") | subjects("Zürich") == {"t:5"}
    assert subjects("nothing like this") == set()


def test_date_range_includes_both_days(client, reader, db_session):
    for day in (1, 2, 3, 4):
        with clock.override(lambda day=day: datetime(2030, 3, day, 12, tzinfo=UTC)):
            record(db_session, None, "test.dated", f"day:{day}", {"day": day})
    db_session.commit()

    page = client.get("/trail?kind=test.dated&date_from=2030-03-02&date_to=2030-03-03").get_data(as_text=True)

    assert set(re.findall(r"<span>(day:\d)</span>", page)) == {"day:2", "day:3"}


@pytest.mark.parametrize(
    "query, message",
    [
        ("date_from=2030-02-31", "From: Not a valid date value."),
        ("date_to=yesterday", "To: Not a valid date value."),
        ("date_from=2030-03-05&date_to=2030-03-01", "The &#39;to&#39; date lies before the &#39;from&#39; date."),
        ("before=-3", "Older than seq: Give a whole number from 1 to 2,147,483,647 (digits only)."),
        ("before=abc", "Older than seq: Give a whole number from 1 to 2,147,483,647 (digits only)."),
        ("kind=no.such.kind", "Kind: Not a valid choice."),
        ("before=5&after=2", "Give either before or after, not both."),
    ],
)
def test_bad_filters_are_refused_with_a_message(client, reader, notes, query, message):
    notes(3)
    response = client.get(f"/trail?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert seqs_on(page) == []


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_may_not_browse_the_trail(client, login, make_user, role):
    user = make_user(role)
    login(user)
    assert client.get("/trail").status_code == 403
    assert client.get("/trail/1").status_code == 403
    assert 'href="/trail"' not in client.get("/").get_data(as_text=True)


def test_executives_browse_and_see_the_nav_link(client, login, executive):
    login(executive)
    assert client.get("/trail").status_code == 200
    assert 'href="/trail"' in client.get("/").get_data(as_text=True)


def test_kinds_list_is_every_distinct_kind_sorted(db_session, notes):
    notes(3, kind="zeta.kind")
    notes(2, kind="alpha.kind")

    kinds = distinct_kinds(db_session)

    assert kinds == sorted(set(kinds))
    assert kinds == ["alpha.kind", "zeta.kind"]


@pytest.mark.usefixtures("steady_minute")
def test_a_repeated_page_comes_rendered_from_the_cache_and_a_new_event_or_name_shows_at_once(
        app, client, reader, notes, db_session):
    from forum.auth.service import update_profile

    notes(3, actor=reader)
    client.get("/trail")
    pages = []
    warm = count_statements(app, lambda: pages.append(client.get("/trail").get_data(as_text=True)))[0]
    assert warm == 2  # the user and the trail head: the page's seqs kept, the rows rendered, the kinds kept
    assert seqs_on(pages[0])[0] == event_total(db_session)
    update_profile(db_session, reader, "Renamed Reader")  # an event of its own: the head moves
    db_session.commit()
    page = client.get("/trail").get_data(as_text=True)
    assert seqs_on(page)[0] == event_total(db_session)
    assert page.count("Renamed Reader") >= 4  # the new event and the three notes by the reader


@pytest.mark.usefixtures("steady_minute")
def test_the_kept_filter_form_shows_each_set_of_filters_its_own_values_and_a_new_kind_at_once(
        app, client, reader, notes, db_session):
    from forum.core import derived

    notes(2, kind="alpha.kind")
    plain = client.get("/trail").get_data(as_text=True)
    assert '<option value="alpha.kind">alpha.kind</option>' in plain and 'id="actor" name="actor" type="text" value=""' in plain
    kept = len(app.extensions[derived.EXTENSION].entries)
    filtered = client.get("/trail?kind=alpha.kind&actor=system").get_data(as_text=True)
    assert '<option selected value="alpha.kind">alpha.kind</option>' in filtered
    assert 'id="actor" name="actor" type="text" value="system"' in filtered
    again = client.get("/trail").get_data(as_text=True)  # the plain form, again
    assert 'value="system"' not in again and '<option value="alpha.kind">alpha.kind</option>' in again
    assert len(app.extensions[derived.EXTENSION].entries) > kept  # each set of filters kept apart
    # A cursor is no filter: the deep page shows the plain form.
    assert 'id="actor" name="actor" type="text" value=""' in client.get("/trail?before=2").get_data(as_text=True)
    notes(1, kind="beta.kind")  # the trail moves: the kinds offered follow at once
    assert '<option value="beta.kind">beta.kind</option>' in client.get("/trail").get_data(as_text=True)
    # A refused set is shown with its error, never from what was kept.
    refused = client.get("/trail?kind=alpha.kind&date_from=2030-02-31")
    assert refused.status_code == 400 and "Not a valid date value." in refused.get_data(as_text=True)


BROWSER_BUDGET = 6


def test_browser_keeps_its_query_budget_on_the_first_and_a_deep_page(app, client, reader, notes, db_session):
    notes(5, actor=reader)
    small = count_statements(app, lambda: client.get("/trail"))[0]
    notes(300, actor=reader)
    large = count_statements(app, lambda: client.get("/trail"))[0]
    deep = count_statements(app, lambda: client.get("/trail?before=60"))[0]
    assert small == large <= BROWSER_BUDGET
    assert deep <= BROWSER_BUDGET


# ------------------------------------------------------------------------------- raw events
def test_raw_event_page_shows_every_field_and_links_its_neighbours(client, reader, db_session):
    import html

    first = record(db_session, None, "test.note", "item:3", {"b": "Zürich ✓", "a": [1, 2]})
    db_session.commit()
    record(db_session, None, "test.note", "item:3", {})
    db_session.commit()

    page = client.get(f"/trail/{first.seq}").get_data(as_text=True)

    for value in (str(first.seq), first.actor, first.kind, first.prev_hash, first.hash):
        assert value in page
    assert first.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") in page
    assert '"a": [\n    1,\n    2\n  ],\n  "b": "Zürich ✓"' in html.unescape(page)  # pretty, sorted
    assert f'href="/trail/{first.seq - 1}"' in page and f'href="/trail/{first.seq + 1}"' in page
    assert 'href="/items/3/timeline"' in page
    assert "hash recomputes" in page and "linked" in page


def test_raw_event_page_of_an_unknown_seq_is_not_found(client, reader):
    assert client.get("/trail/99999").status_code == 404


def test_raw_event_page_flags_an_altered_event(client, reader, notes, tamper):
    notes(3)
    tamper(("UPDATE events SET data = :d WHERE seq = 2", {"d": '{"n":99}'}))

    page = client.get("/trail/2").get_data(as_text=True)

    assert "hash differs" in page

