"""Full-text search index over items, comments, current decisions and evidence runs, filled from
the rows that exist.

SQLite: an FTS5 virtual table (porter stemming over unicode61, diacritics folded; rowid =
ref_id * 4 + kind code). PostgreSQL: a table with a stored generated tsvector (title weight A,
body weight B, English) and a GIN index on it. Neither is an ORM model: the index is derived
data that forum.search.index keeps current on every flush, so the models-versus-migrations
comparison leaves it out on purpose (forum.search.backends.is_index_table).

The DDL and the statements that fill the index are written out here as they stand today (a
migration must not change when the application code does later); forum.search.backends holds
the living copy that `forum search reindex` and the session hook use.

Revision ID: 3ba5316a7a64
Revises: 7fb043ae3598
Create Date: 2026-11-25 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '3ba5316a7a64'
down_revision = "c3e5a1d07b42"
branch_labels = None
depends_on = None

KINDS = ("item", "comment", "decision", "evidence")
MARKERS = {"open_marker": "\x02", "close_marker": "\x03"}


def _clean(expression: str) -> str:
    return f"replace(replace({expression}, :open_marker, ' '), :close_marker, ' ')"


def _joined(*columns: str) -> str:
    return " || ' ' || ".join(columns)


ITEM_BODY = _clean(_joined("i.summary", "i.vendor", "i.model_name", "i.model_version"))
DECISION_BODY = _clean(_joined("d.rationale", "d.conditions", "d.amendment_reason"))
EVIDENCE_BODY = _clean(_joined("r.model_id", "r.model_version", "r.filename"))

SOURCES = {
    "item": (
        "SELECT 'item' AS kind, i.id AS ref_id, i.id AS item_id, i.created_at AS at, "
        f"{_clean('i.title')} AS title, {ITEM_BODY} AS body FROM decision_items AS i"
    ),
    "comment": (
        "SELECT 'comment' AS kind, c.id AS ref_id, c.item_id AS item_id, c.created_at AS at, "
        f"'' AS title, {_clean('c.body')} AS body FROM comments AS c"
    ),
    "decision": (
        "SELECT 'decision' AS kind, d.id AS ref_id, e.item_id AS item_id, d.recorded_at AS at, "
        f"'' AS title, {DECISION_BODY} AS body "
        "FROM decisions AS d JOIN agenda_entries AS e ON e.id = d.entry_id "
        "WHERE NOT EXISTS (SELECT 1 FROM decisions AS n WHERE n.amends_id = d.id)"
    ),
    "evidence": (
        "SELECT 'evidence' AS kind, r.id AS ref_id, r.item_id AS item_id, "
        "COALESCE(r.run_at, r.uploaded_at) AS at, "
        f"{_clean('r.suite')} AS title, {EVIDENCE_BODY} AS body FROM evidence_runs AS r"
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE search_index ("
            "kind VARCHAR(10) NOT NULL, ref_id INTEGER NOT NULL, item_id INTEGER NOT NULL, "
            "at TIMESTAMP WITH TIME ZONE NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
            "document TSVECTOR GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english', title), 'A') || "
            "setweight(to_tsvector('english', body), 'B')) STORED, "
            "CONSTRAINT pk_search_index PRIMARY KEY (kind, ref_id))"
        )
        op.execute("CREATE INDEX ix_search_index_document ON search_index USING gin (document)")
        op.execute("CREATE INDEX ix_search_index_item_id ON search_index (item_id)")
        for kind in KINDS:
            op.execute(sa.text(
                f"INSERT INTO search_index (kind, ref_id, item_id, at, title, body) {SOURCES[kind]}"
            ).bindparams(**MARKERS))
    else:
        op.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "kind UNINDEXED, ref_id UNINDEXED, item_id UNINDEXED, at UNINDEXED, title, body, "
            "tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        for code, kind in enumerate(KINDS):
            op.execute(sa.text(
                "INSERT INTO search_index (rowid, kind, ref_id, item_id, at, title, body) "
                f"SELECT src.ref_id * {len(KINDS)} + {code}, src.* FROM ({SOURCES[kind]}) AS src"
            ).bindparams(**MARKERS))


def downgrade() -> None:
    # On SQLite, dropping the FTS5 table drops its shadow tables too.
    op.execute("DROP TABLE IF EXISTS search_index")
