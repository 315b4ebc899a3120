"""The ``page`` query parameter: one reading for every list page (forum.core.paging.page_number)."""

from __future__ import annotations

import pytest

from forum.core.errors import ValidationError
from forum.core.paging import MAX_PAGE, page_number


@pytest.mark.parametrize("raw, expected", [
    ("1", 1), ("2", 2), ("17", 17), (" 3 ", 3), ("+4", 4), ("007", 7), (str(MAX_PAGE), MAX_PAGE),
])
def test_a_page_number_is_read_as_written(raw, expected):
    assert page_number(raw) == expected


@pytest.mark.parametrize("raw", [
    None, "", "   ", "abc", "2abc", "1.5", "1e3", "0x10", "-", "+", "²", "٣", "0", "000", "-1", "-0",
    "-99999999999999999999",
])
def test_missing_unreadable_zero_and_negative_page_numbers_are_page_one(raw):
    assert page_number(raw) == 1


@pytest.mark.parametrize("raw", [str(MAX_PAGE + 1), "99999999999999999999", "1" * 5000, "+" + "9" * 30])
def test_a_page_number_beyond_the_limit_is_refused_with_a_reason(raw):
    with pytest.raises(ValidationError) as caught:
        page_number(raw)
    assert caught.value.field == "page"
    assert caught.value.reason == "The page number must be between 1 and 1,000,000,000."


@pytest.fixture
def listed(make_user, make_item, login):
    """23 open items (two pages of the item list), seen by a logged-in staff member."""
    staff = make_user(name="Pat Procurement")
    for n in range(23):
        make_item(staff, status="open", title=f"Procurement item {n:02d}")
    login(staff)


@pytest.mark.parametrize("raw", ["abc", "0", "-3", "²", ""])
def test_the_item_list_shows_its_first_page_for_an_unreadable_page_number(client, listed, raw):
    response = client.get("/items", query_string={"page": raw})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Page 1 of 2" in html
    assert "Procurement item 22" in html and "Procurement item 00" not in html


def test_the_item_list_shows_its_last_page_for_a_page_past_the_end(client, listed):
    html = client.get("/items", query_string={"page": str(MAX_PAGE)}).get_data(as_text=True)
    assert "Page 2 of 2" in html
    assert "Procurement item 00" in html


@pytest.mark.parametrize("raw", ["99999999999999999999", "1" * 5000])
def test_the_item_list_refuses_a_page_number_beyond_the_limit_with_a_400(client, listed, raw):
    response = client.get("/items", query_string={"page": raw})
    assert response.status_code == 400
    assert "The page number must be between 1 and 1,000,000,000." in response.get_data(as_text=True)


def test_a_capped_count_stops_at_its_cap_and_the_pages_are_the_same(db_session, make_user, make_item):
    """paginate_rows(count_cap=N): the total is min(matches, N); the page's rows do not change, and
    a page past the end shows the last page the capped count allows."""
    from forum.core.paging import paginate_rows
    from forum.items.models import DecisionItem

    staff = make_user(name="Pat Procurement")
    made = [make_item(staff, status="open", title=f"Item {n}").id for n in range(7)]
    conditions, order = [DecisionItem.status == "open"], (DecisionItem.id.desc(),)

    def page(number, cap):
        result = paginate_rows(db_session, DecisionItem, conditions, order, number, 3, count_cap=cap)
        return result.total, result.page, [i.id for i in result.items]

    newest = sorted(made, reverse=True)
    assert page(1, None) == (7, 1, newest[:3])
    assert page(1, 5) == (5, 1, newest[:3])
    assert page(1, 7) == page(1, 100) == (7, 1, newest[:3])
    assert page(3, 5) == (5, 3, newest[6:])  # the rows of page 3 are there …
    assert page(99, 5) == (5, 2, newest[3:6])  # … past the end: the last page of 5 counted


# ---------------------------------------------------------------------------------- unindexed
def _divergent_newest(status):
    """The executive home page's newest items whose tiers diverge, on ``status``."""
    from sqlalchemy import select

    from forum.items.models import DecisionItem
    from forum.weighing.checks import WEIGHING_STATUSES
    from forum.weighing.queries import divergence_condition

    return (select(DecisionItem.id).where(status.in_(WEIGHING_STATUSES), divergence_condition())
            .order_by(DecisionItem.created_at.desc(), DecisionItem.id.desc()).limit(8))


def test_an_unindexed_column_is_written_with_a_unary_plus_on_sqlite_and_as_it_is_elsewhere():
    from sqlalchemy.dialects import postgresql, sqlite

    from forum.core.paging import unindexed
    from forum.items.models import DecisionItem

    statement = _divergent_newest(unindexed(DecisionItem.status))
    assert "WHERE +decision_items.status IN" in str(statement.compile(dialect=sqlite.dialect()))
    assert "WHERE decision_items.status IN" in str(statement.compile(dialect=postgresql.dialect()))


def test_an_unindexed_condition_finds_the_same_items_and_sqlite_walks_the_order_s_index(db_session):
    """The same items as the plain condition; on SQLite read in the order's index, with no sort
    of every match."""
    from sqlalchemy import text

    from forum.core.paging import unindexed
    from forum.items.models import DecisionItem
    from forum_seed import demo as seed

    seed.load_demo(db_session)
    db_session.flush()
    walked = _divergent_newest(unindexed(DecisionItem.status))
    found = db_session.scalars(walked).all()
    assert found and found == db_session.scalars(_divergent_newest(DecisionItem.status)).all()
    dialect = db_session.bind.dialect
    if dialect.name == "sqlite":  # PostgreSQL's plan is its own choice (the column is as it is)
        compiled = walked.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        plan = " ".join(row[3] for row in db_session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "TEMP B-TREE" not in plan and "ix_decision_items_created_at" in plan, plan


def test_sqlite_reads_a_filer_s_newest_items_in_index_order(db_session):
    """The staff home page's own items, newest filed first, read in an index's order (a prolific
    filer's thousands of items are not sorted to show eight)."""
    from sqlalchemy import select, text

    from forum.items.models import DecisionItem

    mine = (select(DecisionItem.id).where(DecisionItem.filer_id == 1, DecisionItem.status != "closed")
            .order_by(DecisionItem.created_at.desc(), DecisionItem.id.desc()).limit(8))
    dialect = db_session.bind.dialect
    compiled = mine.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    if dialect.name == "sqlite":
        plan = " ".join(row[3] for row in db_session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "TEMP B-TREE" not in plan and "ix_decision_items_filer_created" in plan, plan
    else:  # PostgreSQL plans by its statistics; the index is there to choose
        assert db_session.scalar(text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_decision_items_filer_created'"))


def test_the_escalation_queue_reads_each_status_in_its_index_order(db_session):
    """The queue's page merges its two statuses' first entries, each read in the order of
    ix_decision_items_escalation_queue: the queue is not sorted to show a page (SQLite's plan;
    PostgreSQL plans by its statistics). The merge returns the same ids as one sorted select."""
    from sqlalchemy import event, select

    from forum.core import clock
    from forum.items.models import DecisionItem
    from forum.weighing import queue
    from forum.weighing.rules import ForumSettings
    from forum_seed import demo as seed

    seed.load_demo(db_session)
    db_session.flush()
    settings, now = ForumSettings(), clock.now()
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", keep)
    try:
        ids = queue.queue_ids(db_session, queue.QueueFilters(), settings, page=1, per_page=3).ids
    finally:
        event.remove(connection, "before_cursor_execute", keep)
    sorted_ids = db_session.scalars(
        select(DecisionItem.id).where(queue.queue_condition("", settings, now))
        .order_by(DecisionItem.queue_order, DecisionItem.needed_by, DecisionItem.id).limit(3)).all()
    assert len(ids) == 3 and ids == sorted_ids
    (statement, parameters), = [(s, p) for s, p in statements if "UNION ALL" in s]
    if db_session.bind.dialect.name == "sqlite":
        plan = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
        assert sum("ix_decision_items_escalation_queue" in step for step in plan) == 2, plan
        assert sum("TEMP B-TREE" in step for step in plan) <= 1, plan  # the merge of 2 × 3 ids at most


@pytest.mark.parametrize("per_page", [3, 4, 7])
def test_with_a_known_count_the_second_half_is_read_from_the_end_and_every_page_is_the_same(db_session, per_page):
    """A count known already (a kept tally) lets paginate_rows read a page past the middle from
    the list's end, in the order reversed: every page, the last and short one included, and a
    page past the end, hold the same ids as when read from the start — for one select and for
    the merge of parts, with NULL dates in the order."""
    from sqlalchemy import and_, event, func, or_, select

    from forum.core.paging import paginate_rows
    from forum.items.models import DecisionItem
    from forum_seed import demo as seed

    seed.load_demo(db_session)
    db_session.flush()
    newest = (DecisionItem.created_at.desc(), DecisionItem.id.desc())
    queue_like = (DecisionItem.queue_order, DecisionItem.needed_by, DecisionItem.id)
    parts = ([DecisionItem.status == "open"], [DecisionItem.status.in_(("escalated", "decided"))])
    cases = [([], newest, ()), ([], queue_like, parts)]
    statements = []

    def keep(conn, cursor, statement, *_):
        statements.append(statement)

    for conditions, order, split in cases:
        matching = [*conditions, *([or_(*(and_(*part) for part in split))] if split else [])]
        every = db_session.scalar(select(func.count()).select_from(DecisionItem).where(*matching))
        assert every > 2 * per_page
        last = -(-every // per_page)
        for number in (*range(1, last + 1), last + 1):
            plain = paginate_rows(db_session, DecisionItem, conditions, order, number, per_page, parts=split,
                                  load_rows=False)
            event.listen(db_session.connection(), "before_cursor_execute", keep)
            try:
                known = paginate_rows(db_session, DecisionItem, conditions, order, number, per_page, parts=split,
                                      load_rows=False, count=every)
            finally:
                event.remove(db_session.connection(), "before_cursor_execute", keep)
            assert (known.ids, known.total, known.page) == (plain.ids, plain.total, plain.page), number
            assert plain.page == min(number, last) and plain.ids
    # The last page was read backwards (its ORDER BY reversed): the first column ascending.
    assert any("ORDER BY decision_items.created_at ASC" in s for s in statements)


def test_sqlite_reads_a_system_s_newest_items_and_its_runs_by_version_from_indexes(db_session):
    """A system's page (forum.register.queries): its newest items read and counted in the index
    of the system's items by date, and its runs counted per tested version in the runs' index —
    neither sorts nor reads the rows (an AI system can have thousands of items)."""
    from sqlalchemy import select

    from forum.core import clock
    from forum.register import queries
    from forum.systems.models import AISystem
    from forum_seed import demo as seed
    from tests.budgets import sqlite_plan, statements_of

    seed.load_demo(db_session)
    db_session.flush()
    system = db_session.scalars(select(AISystem).order_by(AISystem.id)).first()
    statements = statements_of(db_session.bind, lambda: (queries.system_items(db_session, system, clock.now()),
                                                         queries.version_history(db_session, system)))
    if db_session.bind.dialect.name != "sqlite":  # PostgreSQL plans by its statistics
        return
    plans = [sqlite_plan(db_session, statement, params) for statement, params in statements]
    newest, versions = plans[0], plans[-1]
    assert "COVERING INDEX ix_decision_items_system_newest" in newest and "TEMP B-TREE" not in newest, newest
    assert "COVERING INDEX ix_evidence_runs_item_version" in versions, versions


def test_sqlite_reads_an_owner_s_open_actions_earliest_due_first_in_index_order(db_session):
    """The home pages' "my open actions": an owner's open actions read in the index's order, not
    all of them sorted (an executive can own thousands)."""
    from sqlalchemy import select

    from forum.agenda import queries
    from forum.agenda.models import Action
    from forum.auth.models import User
    from forum_seed import demo as seed
    from tests.budgets import sqlite_plan, statements_of

    seed.load_demo(db_session)
    db_session.flush()
    owner = db_session.get(User, db_session.scalar(select(Action.owner_id).where(Action.done.is_(False)).limit(1)))
    pages = []
    statements = statements_of(db_session.bind, lambda: pages.append(
        queries.open_actions(db_session, owner=owner, per_page=5, load_rows=False)))
    assert pages[0].ids and pages[0].total >= len(pages[0].ids)
    if db_session.bind.dialect.name != "sqlite":  # PostgreSQL plans by its statistics
        return
    plan = sqlite_plan(db_session, *statements[-1])
    assert "ix_decision_actions_owner_open_due" in plan and "TEMP B-TREE" not in plan, plan
