"""SQLite: the full-text search index's rows of each kind in a range of rowids of their own
(``(kind code + 1) * 2**40 + ref_id``, forum.search.backends.sqlite_rowid) instead of mixed
(``ref_id * 4 + kind code``): a search of one kind seeks to its range, where it walked every
posting of the word and kept those of its kind — for a word found in 78,000 items and in no
comment, all 78,000 for the comments, again for the decisions (4–7 ms each at 100,026 items).
The rows keep their content; only their rowids change (17 s for 436,745 rows), and the index is
then merged into one segment ('optimize', 1 s): each moved row left a deletion behind, and
searches read through them (the page's statement took 55 ms instead of 17 until merged).
PostgreSQL keeps each kind in a partition of its own already: nothing to do.

Revision ID: b4c5d6e7f8a9
Revises: a3b4c5d6e7f8
Create Date: 2026-12-07 20:00:00
"""

from alembic import op

revision = 'b4c5d6e7f8a9'
down_revision = 'a3b4c5d6e7f8'
branch_labels = None
depends_on = None

SPAN = 2 ** 40
KINDS = 4
# The kind codes are 0 item, 1 comment, 2 decision, 3 evidence (forum.search.backends.KINDS). Old
# rowids are all below SPAN and new ones all at or above it, so no row takes another's rowid.


def _move(rowid: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"UPDATE search_index SET rowid = {rowid}")
        op.execute("INSERT INTO search_index (search_index) VALUES ('optimize')")


def upgrade() -> None:
    _move(f"(rowid % {KINDS} + 1) * {SPAN} + rowid / {KINDS}")


def downgrade() -> None:
    _move(f"(rowid % {SPAN}) * {KINDS} + (rowid / {SPAN} - 1)")
