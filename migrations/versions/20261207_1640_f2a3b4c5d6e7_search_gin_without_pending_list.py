"""PostgreSQL: the search index's GIN indexes write each new row into the index at once
(``fastupdate = off``) instead of into a pending list that every search then reads in full until
a vacuum or a full list merges it. A CI pipeline's result files are indexed as they arrive (one
row each): 2,235 of them pending made every search of the evidence partition read them all
(65 → 48 ms per search once merged, 100,026 items). The list already pending is merged here.
SQLite's full-text index has no such list: nothing to do there.

Revision ID: f2a3b4c5d6e7
Revises: e1f2a3b4c5d6
Create Date: 2026-12-07 16:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'f2a3b4c5d6e7'
down_revision = 'e1f2a3b4c5d6'
branch_labels = None
depends_on = None

# The GIN indexes of the search index and of its partitions (one per kind of hit); the
# partitioned parent's own index holds no rows and takes no storage parameters.
GIN_INDEXES = sa.text(
    "SELECT i.relname FROM pg_index x "
    "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
    "JOIN pg_am a ON a.oid = i.relam "
    "WHERE a.amname = 'gin' AND i.relkind = 'i' AND t.relnamespace = current_schema()::regnamespace "
    "AND (t.relname = 'search_index' OR (t.relispartition AND t.relname LIKE 'search\\_index\\_%'))"
)


def _set(fastupdate: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in op.get_bind().execute(GIN_INDEXES).scalars().all():
        op.execute(f'ALTER INDEX "{name}" SET (fastupdate = {fastupdate})')
        if fastupdate == "off":
            op.execute(sa.text("SELECT gin_clean_pending_list(CAST(:name AS regclass))").bindparams(name=name))


def upgrade() -> None:
    _set("off")


def downgrade() -> None:
    _set("on")
