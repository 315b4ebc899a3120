"""Query budgets: the number of SQL statements each page may issue, whatever the data size.

One table for every test that measures the same page. When a feature adds a section to a page,
raise its budget here in the same commit and say what the new statements are for.
"""

from __future__ import annotations

from sqlalchemy import event

from forum import db

BUDGETS = {
    # user (1), count + page of items (2), functions for the filter (1), forum weighing of the
    # page's items: ratings, positions (2), evidence escalation rule: latest runs, tiers (2)
    "items.index": 8,
    # user (1), item (1), history events + actor names (2), forum panel (6: ratings, positions,
    # comment count + page, escalations, functions), evidence escalation rule inside the forum
    # panel (2: latest runs, tier), evidence panel (3: runs, tier, suites). The tier and the
    # latest runs are read twice (forum rule and evidence panel): a per-request cache could save 2.
    # The agenda panel (4: entries, decisions, deciders, actions).
    "items.detail": 19,
    # user, items by status, my items (count + page), latest items (count + page) and the
    # weighing of both lists with the evidence rule
    "core.home": 14,
    "forum.queue": 8,
    # user, item, runs page (count + rows), tier (1), the compare picker's runs (1; measured 6),
    # and 1 spare for the run's uploader
    "evidence.index": 8,
    # user, run, item, tier, previous run of the suite (for regression), uploader
    "evidence.detail": 8,
    # user, item, the picker's runs, the two runs, tier (measured 6)
    "evidence.compare": 9,
    # token (+ user), items page (+ filer, function joined), then per page, never per item:
    # the forum's weighing (ratings, positions), the evidence escalation rule (latest runs,
    # tiers), positions with authors, ratings, latest evidence runs
    "api.list_items": 9,
    # the agenda (tests/agenda/test_pages.py); the pack grows by the sections other areas register
    "agenda.meetings": 4,
    "agenda.meeting": 15,
    "agenda.minutes": 10,
    # user, meeting, entries, escalation reasons (4); the forum's section (6: weighing with the
    # evidence rule, ratings and positions with their people); the evidence section (2)
    "agenda.pack": 12,
    "agenda.decisions": 6,  # with the tier column the forum registers (1)
    "agenda.actions": 5,
}


def count_statements(app, fn) -> int:
    """How many SQL statements ``fn`` makes the app's engine execute."""
    engine = db.get_engine(app)
    statements = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return len(statements)
