"""PostgreSQL: the search index partitioned by kind (item, comment, decision, evidence run).

A search takes each kind's newest hits up to a cap. Whether to walk a kind's rows newest first
and test the words on each, or to find the words' rows by the GIN index and keep the newest,
depends on how common the words are *in that kind*; PostgreSQL keeps word statistics per table,
so one table for all kinds made it walk 300,000 comments for a word found only in items. A
partition per kind has its own statistics. SQLite's FTS5 table is unchanged.

Revision ID: b2c3d4e5f6a7
Revises: a1b2c3d4e5f6
Create Date: 2026-12-06 08:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'b2c3d4e5f6a7'
down_revision = 'a1b2c3d4e5f6'
branch_labels = None
depends_on = None

KINDS = ("item", "comment", "decision", "evidence")
COLUMNS = "kind, ref_id, item_id, at, title, body"


def _create(name: str, partitioned: bool) -> None:
    op.execute(
        f"CREATE TABLE {name} ("
        "kind VARCHAR(10) NOT NULL, ref_id INTEGER NOT NULL, item_id INTEGER NOT NULL, "
        "at TIMESTAMP WITH TIME ZONE NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
        "document TSVECTOR GENERATED ALWAYS AS ("
        "setweight(to_tsvector('english', title), 'A') || "
        "setweight(to_tsvector('english', body), 'B')) STORED, "
        f"CONSTRAINT pk_{name} PRIMARY KEY (kind, ref_id))"
        + (" PARTITION BY LIST (kind)" if partitioned else "")
    )


def _swap(partitioned: bool) -> None:
    # Writers of the index (every change) wait for the copy; nothing is lost or doubled.
    op.execute("LOCK TABLE search_index IN SHARE ROW EXCLUSIVE MODE")
    _create("search_index_next", partitioned)
    if partitioned:
        for kind in KINDS:
            op.execute(f"CREATE TABLE search_index_{kind} PARTITION OF search_index_next FOR VALUES IN ('{kind}')")
    op.execute(f"INSERT INTO search_index_next ({COLUMNS}) SELECT {COLUMNS} FROM search_index")
    op.execute("DROP TABLE search_index")
    op.execute("ALTER TABLE search_index_next RENAME TO search_index")
    op.execute("ALTER INDEX pk_search_index_next RENAME TO pk_search_index")
    op.execute("CREATE INDEX ix_search_index_document ON search_index USING gin (document)")
    op.execute("CREATE INDEX ix_search_index_item_id ON search_index (item_id)")
    # The planner's word statistics, per partition, before the first search.
    op.execute("ANALYZE search_index")


def _partitioned() -> bool:
    kind = op.get_bind().execute(sa.text(
        "SELECT relkind FROM pg_class WHERE relname = 'search_index' AND relnamespace = current_schema()::regnamespace"
    )).scalar()
    return kind == "p"


def upgrade() -> None:
    # Already partitioned (a database stamped past this revision): nothing to do.
    if op.get_bind().dialect.name == "postgresql" and not _partitioned():
        _swap(partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql" and _partitioned():
        _swap(partitioned=False)
