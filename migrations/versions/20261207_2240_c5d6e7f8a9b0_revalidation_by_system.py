"""The decided items needing revalidation counted per AI system as they change (the health
tallies' "revalidation by system": forum.health.tallies), so that the executives' home page and
the escalation queue list the systems whose decisions drifted from a row per system instead of
counting every decided item whose evidence drifted (6.6 ms at 100,026 items on SQLite, growing
with the items). Filled here from the items' kept standing as forum.health.tallies.open_parts
counts them: an item whose evidence drifted under period "", one that goes stale by age under
the day it does (UTC). No schema change.

From here the open counts by day are also folded once a day (the days gone by added into period
""); going back, the queue's and the revalidation's counts are summed again by day from the
items' parts, as the earlier code keeps them.

Revision ID: c5d6e7f8a9b0
Revises: b4c5d6e7f8a9
Create Date: 2026-12-07 22:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c5d6e7f8a9b0'
down_revision = 'b4c5d6e7f8a9'
branch_labels = None
depends_on = None

METRIC = "revalidation by system"


def upgrade() -> None:
    # SQLite keeps the timestamps as naive UTC text; PostgreSQL's are timestamptz.
    day = ("substr(evidence_stale_at, 1, 10)" if op.get_bind().dialect.name == "sqlite"
           else "to_char(evidence_stale_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
    op.execute(sa.text(
        'INSERT INTO health_item_parts (item_id, metric, period, "key", n) '
        f"SELECT id, :metric, CASE WHEN evidence_drift THEN '' ELSE {day} END, "
        "CAST(system_id AS VARCHAR(40)), 1 FROM decision_items "
        "WHERE status IN ('decided', 'closed') AND system_id IS NOT NULL "
        "AND (evidence_drift OR evidence_stale_at IS NOT NULL)"
    ).bindparams(metric=METRIC))
    _sum_parts((METRIC,))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM health_tallies WHERE metric IN (:metric, 'open folded')").bindparams(metric=METRIC))
    op.execute(sa.text("DELETE FROM health_item_parts WHERE metric = :metric").bindparams(metric=METRIC))
    # the queue's and the revalidation's counts by day again, unfolded, from the items' parts
    op.execute("DELETE FROM health_tallies WHERE metric IN ('queue', 'revalidation')")
    _sum_parts(("queue", "revalidation"))


def _sum_parts(metrics: tuple[str, ...]) -> None:
    """The tallies of ``metrics`` as the sums of the items' parts."""
    op.execute(sa.text(
        'INSERT INTO health_tallies (metric, period, "key", n) '
        'SELECT metric, period, "key", sum(n) FROM health_item_parts WHERE metric IN :metrics '
        'GROUP BY metric, period, "key"'
    ).bindparams(sa.bindparam("metrics", metrics, expanding=True)))
