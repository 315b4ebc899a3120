"""Query budgets: the number of SQL statements each page may issue, whatever the data size.

One table for every test that measures the same page. When a feature adds a section to a page,
raise its budget here in the same commit and say what the new statements are for.
"""

from __future__ import annotations

from sqlalchemy import event

from forum.core import db

BUDGETS = {
    # user (1), the trail head for the derived cache (1; forum.core.derived), the page's ids with
    # the count (1), their rows (1), functions for the filter (1), forum weighing of the page's
    # items: ratings, positions (2), evidence escalation rule: latest runs (1; the tiers come from
    # the items' standing columns, forum.weighing.standing). From the cache: all but the user and
    # the trail head (the rows are kept rendered, forum.weighing.rows).
    # + 2: the counts kept by status (forum.health.tallies: their sums and the items going stale
    # today, kept for the minute), which give the count of an unfiltered or status-filtered list
    # where counting read every item (the ids' statement then counts nothing, or the viewer's own
    # drafts).
    "forum.item_list": 10,
    # user (1), item (1), the latest history events + the names of their people and functions (3;
    # kept rendered in the derived cache until the trail moves: 0 warm),
    # forum panel (5: ratings, positions,
    # a page of comments with their count, escalations, functions), evidence escalation rule inside the forum
    # panel (1: latest runs), evidence panel (2: runs, suites; kept rendered with its flags in
    # the derived cache until the trail moves: 0 warm); the tier is the item's own
    # standing column. The latest runs are read twice (forum rule and evidence panel).
    # The agenda panel (1: entries with their meetings and recusals; 2 more once the item has an
    # agenda entry: decisions with their actions, deciders; kept rendered in the derived cache
    # until the trail moves: 0 warm), and the count of the item's events for the timeline link that trail
    # readers see (1) (tests/scale/test_scale_seed.py: an executive on a decided item).
    # + 1 (proximity panel): the newest proposed cases with their proposers and their count
    # + 1 (notify panel): does the viewer follow the item, for the Follow / Unfollow button
    # + 1 who has commented on the item (the key of the forum panel, which is kept rendered with
    # the evidence and proposed-case panels for viewers of the same role and function).
    # + 1: the item is read alone, and its filer, function and system once more with them when
    # the parts of the page that show them are rendered afresh (kept until the trail moves).
    # Warm, the page reads the user, the trail head and the item only: the follow is kept per
    # viewer. Cold on the scale test: 20 (19 before the item was read alone).
    "items.detail": 20,
    # user, items by status, my items (count + page), latest items (count + page) and the
    # weighing of both lists with the evidence rule
    # The role home pages (tests/home/test_pages.py). Staff (also the items tests' home): user,
    # my items by status (1), my items (count + page), items waiting for my function (count +
    # page), my open actions (count + page), drifted evidence on items I take part in (ids with
    # count, those items, their current runs; warm, only the items), the weighing of both item lists with the evidence
    # rule (3); the item lists are ids with count + rows (both lists' rows in one statement,
    # forum.weighing.rows), and the trail head is read once for the derived cache
    # (forum.core.derived). My function's label comes with the user. Warm, every list's ids and
    # rendered rows come from the cache: the user, the trail head and my items by status remain.
    "core.home": 15,
    # user, the trail head for the derived cache (1), weight-divergence items (ids with their
    # kept count, rows), the kept counts (2: the tallies' sums, the items going stale today —
    # forum.health.tallies.open_counts: the queue by tier, the divergence and revalidation
    # counts), the weighing of the divergence items
    # (3), the next meeting (1), overdue actions (count + page), revalidation required (ids with
    # kept count, those items, their current runs), my open actions (2), the AI systems of the items
    # needing revalidation (1, only when there are any). From the cache: the counts by tier, each
    # list's ids with its count, and every list's rendered rows — the divergence items with their
    # weighing, the drifted items with what drifted, the actions — (15 → 3 statements on the
    # benchmark's 100,000 items: the user, the trail head, the next meeting).
    "core.home.executive": 17,
    # user, trail head (1), last verification + its actor's name (2), last checkpoint (1),
    # recent decisions (1), latest amendments + their count (2)
    "core.home.auditor": 8,
    # user, accounts by role and state (1), functions (1), accounts waiting for their password
    # and their count (2), the latest account changes and the people they name (2), deactivated
    # accounts' open actions, open items and the accounts (3), open access requests (1), whether
    # items wait to be grouped into the register (1)
    "core.home.admin": 12,
    # user, the system, its items with their standing (the page's ids with the count, then those
    # items: 2), the latest run of each suite
    # (1), its versions with when each was tested and decided on (1), its decisions (the page's
    # ids with the count, then those with their open actions: 2), its confirmed obligations (1).
    # Confirming an obligation is a page of its own, with the runs and decisions to choose from.
    # The page's content is kept rendered per role while the trail stays put (the trail head, 1,
    # is what it reads for that): warm, the user, the system and the trail head only.
    "register.detail": 10,
    # user, the owner filter's functions, the trail head for the derived cache (1), the page's ids
    # with the count (1; from the cache: 0), its systems (1), the confirmed obligations of the
    # page's systems (1); warm, the user and the trail head only (the rows are kept rendered)
    "register.index": 6,
    # user, the system, its confirmed obligations (1), the evidence runs and the decisions they
    # name (2)
    "register.obligations_report": 5,
    # user, functions (1), the trail head for the derived cache (1), the page of groups with
    # their count (1; from the cache: 0), their newest and oldest items (1), the systems with
    # their models (1)
    "register.grouping_page": 6,
    # user, the system, its endpoints (1), the newest saved probes with their runners (1) and
    # answers (1)
    "probes.try_it": 5,
    # user, the probe with its runner (1) and answers (1), the system, the items an unacceptable
    # answer can be proposed on (1)
    "probes.probe": 6,
    # user, functions for the filter, the trail head for the derived cache, the kept counts by
    # tier (2: forum.health.tallies.open_counts; where a filter they do not tell is set, the page's
    # count comes with its ids instead), the queue selected in SQL on the items' standing (the
    # page's ids, their rows), the page's weighing
    # (ratings, positions, latest runs), their latest escalations, the systems with decisions to
    # revalidate (1; forum.weighing.drift). From the cache: all but the user and the trail head
    # (the page's rows are kept rendered, forum.weighing.queue.queue_rows).
    "forum.queue": 12,
    # user (1); cycle time (1: first settling decisions with filing times and top ratings);
    # escalations per month (1); freshness of decided items (3: count, current runs with their
    # items, tiers); evidence age (1: current runs with their items). The charts add none.
    # The proximity area's habit figures section (6: decisions with snapshots, latest runs,
    # reviews, proposed cases, hands-on probes per quarter and per person).
    "health.index": 13,
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
    # meetings: the user, then a count and a page of rows for the upcoming and the closed ones
    "agenda.meetings": 5,
    # + 2 in session (proximity): the latest runs of the entries' items and the reviews of them,
    # for the review board on each decision form; the "add an item" picker is one page of the
    # queue (the trail head for the derived cache, the page's ids with the count — from the cache:
    # 1 fewer — its rows, their latest earlier entries and their decisions: 5)
    # + 1: who may be recused from its items (the key of the kept content: warm, the page reads
    # the user and the trail head only)
    "agenda.meeting": 20,
    # The minutes (a closed meeting's page): + 2 for its kept content, the trail head and who may
    # be recused from its items (warm: the user and the trail head only)
    "agenda.minutes": 12,
    # user, the entry, its item with the filer, its meeting, recusals with their people, its
    # decisions (6), the people to choose a presenter from (1)
    "agenda.entry": 7,
    # user, meeting, entries, escalation reasons with who escalated by name (5); the forum's section (6: weighing with the
    # evidence rule, ratings and positions with their people); the evidence section (2)
    # + 3 (proximity): latest runs, their reviewers, proposed cases with proposers and their counts
    # (the evidence rule's and sections' tiers come from the items' standing columns: 2 fewer);
    # the trail head for the derived cache that keeps the evidence rule's failing gates (from
    # the cache: 1 fewer)
    "agenda.pack": 15,
    # with the tier column the forum registers (1), and the trail head for the derived cache (1)
    # that keeps the page's ids with their count and the rendered table (warm: the user and the
    # trail head only)
    "agenda.decisions": 7,
    # user, trail head, my open actions and everyone's (ids, then the rows: 2 each) with their
    # counts kept as actions change (forum.health.tallies.open_counts: 2 statements, a few rows,
    # where counting read every open action of the organisation)
    "agenda.actions": 7,
    # technical proximity: user, run (+ item, uploader), earlier reviews with their reviewers
    "proximity.review": 3,
    # user, decisions' snapshots, hands-on probes per quarter, reviews per reviewer, proposals
    # per proposer, probes per person, executives
    "health.proximity_figures": 7,
    # user, item, proposed cases with their proposers
    "proximity.export": 3,
    # the load benchmark's baseline (tests/scale/test_baseline.py): the user, one item by its key
    "core.bench_baseline": 2,
    # user, functions for the filter, hits per kind (1), the ranked page with every hit's
    # details (1: item, function, comment author and page, decision and meeting, evidence run),
    # the trail head for the derived cache (1; the same search again: the two hit statements fewer)
    "search.index": 5,
    # user with the header's unread count (1), notifications: count + page (2)
    "notify.inbox": 3,
}


def cold_statements(app, fn) -> int:
    """count_statements for a request that finds nothing in the derived-result cache, as the
    first after a change does: the most a page issues, whatever an earlier page left there."""
    from forum.core import derived

    store = app.extensions.get(derived.EXTENSION)
    if store is not None:
        store.entries.clear()
    return count_statements(app, fn)


def count_statements(app, fn) -> int:
    """How many SQL statements ``fn`` makes the app's engine execute."""
    return len(statements_of(db.get_engine(app), fn))


def statements_of(bind, fn) -> list[tuple[str, object]]:
    """The SQL statements, with their parameters, that ``fn`` makes ``bind`` (an engine) execute."""
    statements = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(bind, "before_cursor_execute", on_execute)
    try:
        fn()
    finally:
        event.remove(bind, "before_cursor_execute", on_execute)
    return statements


def sqlite_plan(session, statement: str, parameters) -> str:
    """SQLite's query plan of one executed statement, its steps joined in one line."""
    return " ".join(row[3] for row in session.connection().exec_driver_sql(
        f"EXPLAIN QUERY PLAN {statement}", parameters))
