"""The two search backends behind the one search service: SQLite FTS5 and PostgreSQL tsvector.

Both keep one table, ``search_index``, with one row per searchable thing (an item, a comment, the
current decision of an agenda entry, an evidence run):

    kind     'item' | 'comment' | 'decision' | 'evidence'
    ref_id   the id of that row in its own table
    item_id  the decision item it belongs to (permissions and the item filters join on it)
    at       when it was filed / written / recorded / run (the date filter)
    title    text that ranks highest (item title, evidence suite)
    body     the rest (summary and model, comment, rationale and conditions, model id/version)

SQLite: an FTS5 virtual table (porter stemming over unicode61, diacritics folded) whose rowid is
``(kind code + 1) * 2**40 + ref_id`` (``sqlite_rowid``): a row is found without scanning, and each
kind's rows are one range of rowids, which FTS5 seeks to, so that a search of one kind never walks
the postings of another; bm25 ranks, snippet() and highlight() mark the hits. PostgreSQL: an
ordinary table whose ``document`` column is a stored generated tsvector (title weight A, body
weight B, English stemming) with a GIN index; ts_rank ranks and ts_headline marks the hits.

The index is derived data, not an ORM model: forum.search.index keeps it current in the same
transaction as every change; the migration 3ba5316a7a64 (search_index) holds the DDL, and builds
and fills the index.
All SQL here is fixed text with bound parameters; what a person typed only ever reaches the
database as a parameter value (see forum.search.query).
"""

from __future__ import annotations

from collections.abc import Iterator, Set
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.orm import aliased

from forum.items.models import DecisionItem
from forum.items.service import visible_to
from forum.search.query import ParsedQuery

TABLE = "search_index"
KINDS = ("item", "comment", "decision", "evidence")
KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}
#: SQLite: the rowids of one kind's rows span this many (migration b4c5d6e7f8a9).
ROWID_SPAN = 2 ** 40


def sqlite_rowid(kind: str, ref_id: int = 0) -> int:
    """The SQLite index's rowid of the row ``ref_id`` of ``kind`` (with 0: where its kind's range
    starts)."""
    return (KIND_CODES[kind] + 1) * ROWID_SPAN + ref_id

#: Hit markers put around matches by the database; forum.search.service escapes everything else
#: and turns these into <mark>. Control characters, removed from the text when it is indexed.
OPEN, CLOSE = "\x02", "\x03"


def _known(kind: str) -> None:
    if kind not in KIND_CODES:
        raise ValueError(f"unknown kind of search result {kind!r}")


def is_index_table(name: str) -> bool:
    """True for the search index and, on SQLite, FTS5's shadow tables (search_index_data …):
    tables the migrations build that are deliberately not ORM models, so the models-versus-
    migrations comparison (tests/test_migrations.py, autogenerate) leaves them out."""
    return name == TABLE or name.startswith(TABLE + "_")


# ------------------------------------------------------------------------------------ sources
# What is indexed for each kind, as one SELECT over the forum's own tables, so that indexing a
# few rows after a flush and rebuilding everything are the same statement with another WHERE.
# {where} is "TRUE" or "<key> IN :ids". The marker characters are stripped from the text.
def _clean(expression: str) -> str:
    return f"replace(replace({expression}, :open_marker, ' '), :close_marker, ' ')"


def _joined(*columns: str) -> str:
    """Text columns (all NOT NULL) one after another, separated by a space."""
    return " || ' ' || ".join(columns)


_SOURCES = {
    "item": (
        "i.id",
        "SELECT 'item' AS kind, i.id AS ref_id, i.id AS item_id, i.created_at AS at, "
        f"{_clean('i.title')} AS title, "
        f"{_clean(_joined('i.summary', 'i.vendor', 'i.model_name', 'i.model_version'))} AS body "
        "FROM decision_items AS i WHERE {where}",
    ),
    "comment": (
        "c.id",
        "SELECT 'comment' AS kind, c.id AS ref_id, c.item_id AS item_id, c.created_at AS at, "
        f"'' AS title, {_clean('c.body')} AS body "
        "FROM comments AS c WHERE {where}",
    ),
    # Only a decision's current revision is searchable: an amendment replaces the row it amends
    # (the register shows decisions "as they stand after any amendment").
    "decision": (
        "d.id",
        "SELECT 'decision' AS kind, d.id AS ref_id, e.item_id AS item_id, d.recorded_at AS at, "
        f"'' AS title, {_clean(_joined('d.rationale', 'd.conditions', 'd.amendment_reason'))} AS body "
        "FROM decisions AS d JOIN agenda_entries AS e ON e.id = d.entry_id "
        "WHERE NOT EXISTS (SELECT 1 FROM decisions AS n WHERE n.amends_id = d.id) AND {where}",
    ),
    "evidence": (
        "r.id",
        "SELECT 'evidence' AS kind, r.id AS ref_id, r.item_id AS item_id, "
        "COALESCE(r.run_at, r.uploaded_at) AS at, "
        f"{_clean('r.suite')} AS title, "
        f"{_clean(_joined('r.model_id', 'r.model_version', 'r.filename'))} AS body "
        "FROM evidence_runs AS r WHERE {where}",
    ),
}


def _source(kind: str, ids: bool) -> str:
    key, sql = _SOURCES[kind]
    return sql.replace("{where}", f"{key} IN :ids" if ids else "1 = 1")


_MARKERS = {"open_marker": OPEN, "close_marker": CLOSE}


# ------------------------------------------------------------------------------------ filters
@dataclass
class Filters:
    """The filters of one search, checked by the service. The viewer (id and role) decides which
    items' hits are shown, by the items' own visibility rule (forum.items.service.visible_to):
    another person's draft items and all that belongs to them are left out, but for auditors."""

    viewer_id: int
    viewer_role: str
    kind: str = ""
    status: str = ""
    category: str = ""
    function: str = ""
    date_from: date | None = None
    date_to: date | None = None


_ITEM = aliased(DecisionItem, name="i")


#: Renders the conditions this module takes from the items area as plain SQL with named
#: parameters, which both databases read and which sit beside this module's own.
_NAMED = DefaultDialect(paramstyle="named")


def _visibility(filters: Filters) -> tuple[list[str], dict]:
    """The items' visibility rule as SQL text on ``i``, with its bound parameters."""
    named = _NAMED
    viewer = SimpleNamespace(id=filters.viewer_id, role=filters.viewer_role, active=True)  # logged in
    conditions, params = [], {}
    for condition in visible_to(viewer, _ITEM):
        compiled = condition.compile(dialect=named)
        conditions.append(f"({compiled})")
        params.update(compiled.params)
    return conditions, params


@dataclass
class Row:
    """One ranked hit as the database returns it (the service turns it into a Hit)."""

    kind: str
    ref_id: int
    item_id: int
    at: datetime
    title_marked: str
    snippet_marked: str
    item_title: str
    item_status: str
    item_category: str
    function_label: str
    comment_author: str | None
    comment_position: int | None
    outcome: str | None
    revision: int | None
    entry_id: int | None
    meeting_id: int | None
    meeting_title: str | None
    model_id: str | None
    model_version: str | None


# The details every hit shows, read for the page's rows only (h = the ranked page).
_DETAILS = """
SELECT h.kind, h.ref_id, h.item_id, h.at, {title_marked} AS title_marked, {snippet_marked} AS snippet_marked,
       i.title, i.status, i.category, f.label,
       cu.display_name,
       (SELECT count(*) FROM comments AS c2 WHERE c2.item_id = c.item_id
          AND (c2.created_at < c.created_at OR (c2.created_at = c.created_at AND c2.id <= c.id))),
       d.outcome, d.revision, e.id, m.id, m.title,
       r.model_id, r.model_version
FROM h {extra_from}
JOIN decision_items AS i ON i.id = h.item_id
JOIN org_functions AS f ON f.key = i.function_key
LEFT JOIN comments AS c ON h.kind = 'comment' AND c.id = h.ref_id
LEFT JOIN users AS cu ON cu.id = c.author_id
LEFT JOIN decisions AS d ON h.kind = 'decision' AND d.id = h.ref_id
LEFT JOIN agenda_entries AS e ON e.id = d.entry_id
LEFT JOIN meetings AS m ON m.id = e.meeting_id
LEFT JOIN evidence_runs AS r ON h.kind = 'evidence' AND r.id = h.ref_id
ORDER BY h.rank, h.at DESC, h.kind, h.ref_id DESC
"""


class Backend:
    """What differs between the databases: the table, how rows are found, ranked and marked."""

    name = ""

    # ------------------------------------------------------------------ keeping it current
    def remove(self, connection: Connection, kind: str, ids: set[int]) -> None:
        raise NotImplementedError

    def remove_items(self, connection: Connection, item_ids: set[int]) -> None:
        """Remove every row that belongs to these items (items are never deleted by the forum;
        this keeps the index right if one ever is)."""
        connection.execute(
            text(f"DELETE FROM {TABLE} WHERE item_id IN :ids").bindparams(bindparam("ids", expanding=True)),
            {"ids": sorted(item_ids)},
        )

    def _insert(self, kind: str, ids: bool) -> str:
        raise NotImplementedError

    def _replace(self, kind: str) -> str:
        """``_insert`` of given ids that replaces a row already in the index for one of them."""
        raise NotImplementedError

    def refresh(self, connection: Connection, kind: str, ids: set[int], new: Set[int] = frozenset()) -> None:
        """Re-read these rows of ``kind`` from their tables into the index (rows that no longer
        qualify, e.g. an amended decision, simply leave it). ``new``: those of ``ids`` that were
        just inserted, which have nothing in the index to take out first (a statement saved on
        every new item, comment, decision and run; were a row left over under the same id, the
        insert replaces it)."""
        if not ids:
            return
        self.remove(connection, kind, ids - new)
        connection.execute(
            text(self._replace(kind)).bindparams(bindparam("ids", expanding=True)),
            {"ids": sorted(ids), **_MARKERS},
        )

    def _lock(self, connection: Connection) -> None:
        """Keep other writers' index rows out while rebuilding (SQLite has one writer anyway)."""

    def rebuild(self, connection: Connection) -> dict[str, int]:
        """Empty the index and fill it from every table; returns the rows indexed per kind."""
        self._lock(connection)
        connection.execute(text(f"DELETE FROM {TABLE}"))
        for kind in KINDS:
            connection.execute(text(self._insert(kind, ids=False)), _MARKERS)
        counts = dict(connection.execute(text(f"SELECT kind, count(*) FROM {TABLE} GROUP BY kind")).all())
        return {kind: int(counts.get(kind, 0)) for kind in KINDS}

    # ------------------------------------------------------------------ searching
    def _conditions(self, filters: Filters, index: str) -> tuple[list[str], dict]:
        """The filters as SQL conditions on ``i`` (the item) and ``index`` (the index table's
        name or alias), with their parameters."""
        conditions, params = _visibility(filters)
        for name, column in (("status", "i.status"), ("category", "i.category"), ("function", "i.function_key")):
            value = getattr(filters, name)
            if value:
                conditions.append(f"{column} = :{name}")
                params[name] = value
        if filters.date_from:
            conditions.append(f"{index}.at >= :date_from")
            params["date_from"] = self._moment(filters.date_from)
        if filters.date_to:
            conditions.append(f"{index}.at < :date_to")
            params["date_to"] = self._moment(filters.date_to + timedelta(days=1))
        return conditions, params

    def _moment(self, day: date):
        return datetime.combine(day, time(), tzinfo=UTC)

    def counts(self, connection: Connection, query: ParsedQuery, filters: Filters, cap: int) -> dict[str, int]:
        """How many hits of each kind, up to ``cap + 1`` (more than ``cap`` says "more than"),
        the kind filter left out so that the page can offer them: one statement."""
        raise NotImplementedError

    def page(self, connection: Connection, query: ParsedQuery, filters: Filters,
             limit: int, offset: int, cap: int) -> list[Row]:
        """One page of hits, best first among the newest ``cap`` of each kind (the kind filter's
        only), with their details: one statement."""
        raise NotImplementedError

    def item_ids(self, connection: Connection, query: ParsedQuery, filters: Filters, cap: int) -> list[int]:
        """The ids of the newest ``cap`` items whose own text (title, summary, vendor, model)
        matches, under the filters: one statement, the same bounded walk as ``counts``."""
        raise NotImplementedError

    @staticmethod
    def _rows(result) -> list[Row]:
        rows = []
        for values in result:
            row = Row(*values)
            if isinstance(row.at, str):  # SQLite keeps naive UTC text
                row.at = datetime.fromisoformat(row.at).replace(tzinfo=UTC)
            rows.append(row)
        return rows


class SqliteBackend(Backend):
    name = "sqlite"

    def remove(self, connection: Connection, kind: str, ids: set[int]) -> None:
        if ids:
            connection.execute(
                text(f"DELETE FROM {TABLE} WHERE rowid IN :rowids").bindparams(bindparam("rowids", expanding=True)),
                {"rowids": sorted(sqlite_rowid(kind, i) for i in ids)},
            )

    def _insert(self, kind: str, ids: bool) -> str:
        return (
            f"INSERT INTO {TABLE} (rowid, kind, ref_id, item_id, at, title, body) "
            f"SELECT src.ref_id + {sqlite_rowid(kind)}, src.* FROM ({_source(kind, ids)}) AS src"
        )

    def _replace(self, kind: str) -> str:
        return "INSERT OR REPLACE" + self._insert(kind, ids=True).removeprefix("INSERT")

    def _moment(self, day: date):
        # UTCDateTime keeps naive UTC text on SQLite ("YYYY-MM-DD HH:MM:SS.ffffff"): compare as text.
        return f"{day.isoformat()} 00:00:00"

    # The FTS5 table is named, never aliased: MATCH and its auxiliary functions need its name.
    def _newest(self, filters: Filters, kind: str, columns: str) -> tuple[str, dict]:
        """The newest hits of one kind, up to :cap: FTS5 walks the word's postings in the kind's
        range of rowids (``sqlite_rowid``) from the top and stops at the cap; the items'
        conditions are a primary-key probe per hit walked. (When the kind was read from the
        rowid's remainder instead, a word found in 78,000 items but in no comment walked all
        78,000 postings for the comments: 4–7 ms per kind at 100,026 items, 0.1 ms now.)"""
        _known(kind)  # written into the statement: one of the fixed kinds, never what was asked
        conditions, params = self._conditions(filters, TABLE)
        start = sqlite_rowid(kind)
        where = " AND ".join([f"{TABLE} MATCH :match",
                              f"{TABLE}.rowid BETWEEN {start} AND {start + ROWID_SPAN - 1}", *conditions])
        return (f"SELECT * FROM (SELECT {columns} FROM {TABLE} JOIN decision_items AS i ON i.id = {TABLE}.item_id "
                f"WHERE {where} ORDER BY {TABLE}.rowid DESC LIMIT :cap)", params)

    def counts(self, connection, query, filters, cap):
        arms, params = [], {}
        for kind in KINDS:
            arm, params = self._newest(filters, kind, f"'{kind}' AS kind")
            arms.append(arm)
        rows = connection.execute(
            text(f"SELECT kind, count(*) FROM ({' UNION ALL '.join(arms)}) GROUP BY kind"),
            {**params, "match": query.fts5(), "cap": cap + 1},
        ).all()
        return {kind: int(n) for kind, n in rows}

    def item_ids(self, connection, query, filters, cap):
        statement, params = self._newest(filters, "item", f"{TABLE}.item_id AS item_id")
        return list(connection.execute(text(statement), {**params, "match": query.fts5(), "cap": cap}).scalars())

    def page(self, connection, query, filters, limit, offset, cap):
        # Ranked first, marked after: highlight() and snippet() cost most of the statement, and
        # in the ranking query SQLite would compute them for every candidate before sorting;
        # here they run on the page's rows only, found again by rowid under the same MATCH (the
        # auxiliary functions need it).
        # Columns: kind, ref_id, item_id, at (unindexed), title, body. A title hit weighs ten
        # body hits; bm25 is lower for better matches.
        columns = (f"{TABLE}.rowid AS hit, {TABLE}.kind AS kind, {TABLE}.ref_id AS ref_id, "
                   f"{TABLE}.item_id AS item_id, {TABLE}.at AS at, bm25({TABLE}, 0, 0, 0, 0, 10.0, 1.0) AS rank")
        arms, params = [], {}
        for kind in (filters.kind,) if filters.kind else KINDS:
            arm, params = self._newest(filters, kind, columns)
            arms.append(arm)
        ranked = (f"SELECT * FROM ({' UNION ALL '.join(arms)}) "
                  "ORDER BY rank, at DESC, kind, ref_id DESC LIMIT :limit OFFSET :offset")
        marked = (
            "SELECT r.kind AS kind, r.ref_id AS ref_id, r.item_id AS item_id, r.at AS at, r.rank AS rank, "
            f"highlight({TABLE}, 4, :open_marker, :close_marker) AS title_marked, "
            f"snippet({TABLE}, 5, :open_marker, :close_marker, '…', 24) AS snippet_marked "
            f"FROM r JOIN {TABLE} ON {TABLE}.rowid = r.hit WHERE {TABLE} MATCH :match"
        )
        statement = f"WITH r AS ({ranked}), h AS ({marked})" + _DETAILS.format(
            title_marked="h.title_marked", snippet_marked="h.snippet_marked", extra_from="")
        result = connection.execute(text(statement), {
            **params, **_MARKERS, "match": query.fts5(), "cap": cap, "limit": limit, "offset": offset,
        })
        return self._rows(result)


class PostgresBackend(Backend):
    name = "postgresql"
    # Rank weights for D, C, B (body), A (title).
    _WEIGHTS = "'{0.05, 0.1, 0.2, 1.0}'"
    _HEADLINE = "MaxFragments=2, MaxWords=20, MinWords=8, FragmentDelimiter=\" … \""

    def remove(self, connection: Connection, kind: str, ids: set[int]) -> None:
        if ids:
            connection.execute(
                text(f"DELETE FROM {TABLE} WHERE kind = :kind AND ref_id IN :ids")
                .bindparams(bindparam("ids", expanding=True)),
                {"kind": kind, "ids": sorted(ids)},
            )

    def _insert(self, kind: str, ids: bool) -> str:
        return f"INSERT INTO {TABLE} (kind, ref_id, item_id, at, title, body) {_source(kind, ids)}"

    def _replace(self, kind: str) -> str:
        return (self._insert(kind, ids=True) + " ON CONFLICT (kind, ref_id) DO UPDATE SET "
                "item_id = EXCLUDED.item_id, at = EXCLUDED.at, title = EXCLUDED.title, body = EXCLUDED.body")

    def _lock(self, connection: Connection) -> None:
        # A change committed between the rebuild's DELETE and its INSERT … SELECT would be
        # inserted twice (a key conflict): writers wait for the rebuild instead; readers do not.
        connection.execute(text(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE"))

    @staticmethod
    def _tsquery(query: ParsedQuery) -> tuple[str, dict]:
        """The tsquery as SQL over bound parameters: phraseto_tsquery reads any text as plain
        words (it has no syntax to break), combined with the tsquery operators || && !!."""
        params, parts = {}, []

        def phrase(term) -> str:
            name = f"term{len(params)}"
            params[name] = term.text
            return f"phraseto_tsquery('english', :{name})"

        for group in query.groups:
            parts.append("(" + " || ".join(phrase(t) for t in group) + ")")
        for term in query.excluded:
            parts.append(f"!!{phrase(term)}")
        return " && ".join(parts), params

    def _newest(self, query: ParsedQuery, filters: Filters, kinds) -> tuple[str, str, dict]:
        """The newest hits of each of ``kinds``, up to :cap each, as the CTE ``c`` (kind,
        ref_id), after the CTE ``q`` (the query, for ranking and marking): each arm walks its
        kind's partition newest first by the primary key and tests the words on each row (a
        common word), or finds the words' rows by the GIN index and keeps the newest (a rare
        one). The planner judges which from the partition's word statistics: the query is
        written out in the condition, where it can see the words, not read from ``q``."""
        tsquery, params = self._tsquery(query)
        conditions, filter_params = self._conditions(filters, "k")
        arms = []
        for kind in kinds:
            _known(kind)  # written into the statement: one of the fixed kinds, never what was asked
            where = " AND ".join([f"k.kind = '{kind}'", f"k.document @@ ({tsquery})", *conditions])
            arms.append(f"(SELECT k.kind, k.ref_id FROM {TABLE} AS k "
                        f"JOIN decision_items AS i ON i.id = k.item_id WHERE {where} ORDER BY k.ref_id DESC LIMIT :cap)")
        cte = f"WITH q AS (SELECT {tsquery} AS query), c AS ({' UNION ALL '.join(arms)})"
        return cte, "FROM c", {**params, **filter_params}

    @staticmethod
    @contextmanager
    def _planned_for_the_words(connection: Connection) -> Iterator[None]:
        """Run the search's statements unprepared, so that each is planned for its words: psycopg
        prepares a statement run five times on a connection, and after five more PostgreSQL may
        keep a generic plan that cannot see the words, which decide between walking a partition
        newest first and looking the words up in its GIN index (a search for a common word took
        27 ms for ten requests, then 180 ms for every one after). A setting of the connection's
        driver, restored after: no statement of its own."""
        driver = connection.connection.driver_connection
        threshold = driver.prepare_threshold
        driver.prepare_threshold = None
        try:
            yield
        finally:
            driver.prepare_threshold = threshold

    def counts(self, connection, query, filters, cap):
        cte, body, params = self._newest(query, filters, KINDS)
        with self._planned_for_the_words(connection):
            rows = connection.execute(text(f"{cte} SELECT c.kind, count(*) {body} GROUP BY c.kind"),
                                      {**params, "cap": cap + 1}).all()
        return {kind: int(n) for kind, n in rows}

    def item_ids(self, connection, query, filters, cap):
        cte, body, params = self._newest(query, filters, ("item",))
        with self._planned_for_the_words(connection):
            return list(connection.execute(text(f"{cte} SELECT c.ref_id {body}"), {**params, "cap": cap}).scalars())

    def page(self, connection, query, filters, limit, offset, cap):
        cte, body, params = self._newest(query, filters, (filters.kind,) if filters.kind else KINDS)
        # ts_rank reads each candidate's document: it runs on the candidates only.
        ranked = (
            "SELECT k.kind AS kind, k.ref_id AS ref_id, k.item_id AS item_id, k.at AS at, "
            f"k.title AS title, k.body AS body, -ts_rank({self._WEIGHTS}, k.document, q.query) AS rank "
            f"{body} JOIN {TABLE} AS k ON k.kind = c.kind AND k.ref_id = c.ref_id CROSS JOIN q "
            "ORDER BY rank, k.at DESC, k.kind, k.ref_id DESC LIMIT :limit OFFSET :offset"
        )
        # ts_headline is costly: it runs on the page's rows only, after ranking and limiting.
        title_marked = "ts_headline('english', h.title, q.query, :title_options)"
        snippet_marked = "ts_headline('english', h.body, q.query, :snippet_options)"
        statement = f"{cte}, h AS ({ranked})" + _DETAILS.format(
            title_marked=title_marked, snippet_marked=snippet_marked, extra_from="CROSS JOIN q")
        markers = f"StartSel={OPEN}, StopSel={CLOSE}"
        with self._planned_for_the_words(connection):
            result = connection.execute(text(statement), {
                **params, "cap": cap, "limit": limit, "offset": offset,
                "title_options": f"{markers}, HighlightAll=true",
                "snippet_options": f"{markers}, {self._HEADLINE}",
            })
            return self._rows(result)


BACKENDS: dict[str, Backend] = {b.name: b for b in (SqliteBackend(), PostgresBackend())}


def for_dialect(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise RuntimeError(f"full-text search supports SQLite and PostgreSQL, not {name}") from None
