"""The follow-up actions not done yet, counted as they change (the health tallies' "open
actions" per owner and "actions due" by the day due: forum.health.tallies), so that the home
pages and the actions page read how many actions a person owns, and how many are overdue, from
a few rows instead of counting every open action (12,818 at 100,026 items). Filled here from
the actions, kept under their decision's item as the item's other parts are. No schema change.

Revision ID: e7f8a9b0c1d2
Revises: d6e7f8a9b0c1
Create Date: 2026-12-07 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e7f8a9b0c1d2'
down_revision = 'd6e7f8a9b0c1'
branch_labels = None
depends_on = None

METRICS = ("open actions", "actions due")
_OPEN = ("FROM decision_actions a JOIN decisions d ON d.id = a.decision_id "
         "JOIN agenda_entries e ON e.id = d.entry_id WHERE a.done = :no")


def upgrade() -> None:
    # SQLite keeps a date as its ISO text; PostgreSQL's is a date.
    day = ("a.due_on" if op.get_bind().dialect.name == "sqlite" else "to_char(a.due_on, 'YYYY-MM-DD')")
    insert = 'INSERT INTO health_item_parts (item_id, metric, period, "key", n) '
    op.execute(sa.text(
        insert + f"SELECT e.item_id, 'open actions', '', CAST(a.owner_id AS VARCHAR(40)), count(*) {_OPEN} "
        "GROUP BY e.item_id, a.owner_id").bindparams(no=False))
    op.execute(sa.text(
        insert + f"SELECT e.item_id, 'actions due', {day}, '', count(*) {_OPEN} GROUP BY e.item_id, {day}"
    ).bindparams(no=False))
    op.execute(sa.text(
        'INSERT INTO health_tallies (metric, period, "key", n) '
        'SELECT metric, period, "key", sum(n) FROM health_item_parts WHERE metric IN :metrics '
        'GROUP BY metric, period, "key"'
    ).bindparams(sa.bindparam("metrics", METRICS, expanding=True)))


def downgrade() -> None:
    for table in ("health_tallies", "health_item_parts"):
        op.execute(sa.text(f"DELETE FROM {table} WHERE metric IN :metrics").bindparams(
            sa.bindparam("metrics", METRICS, expanding=True)))
