"""The executive home page's counts of open items (the escalation queue by tier, the items whose
tiers diverge, the decided items whose evidence drifted) kept as tallies too, from each item's
part (forum.health.tallies.open_parts), with an index on ``evidence_stale_at`` for the items whose
evidence goes stale today; and an index on a filer's items newest first (their home page's list).
A database with a history is counted again (its mark is removed:
`forum db upgrade` counts it, in Python, outside the migration); one without events is marked
counted under the default escalation threshold (250,000; another threshold is counted again by
`forum db upgrade` or the health page's first read).

Revision ID: a7b8c9d0e1f2
Revises: f6a7b8c9d0e1
Create Date: 2026-12-07 08:00:00
"""

from alembic import op

revision = 'a7b8c9d0e1f2'
down_revision = 'f6a7b8c9d0e1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_decision_items_evidence_stale_at', 'decision_items', ['evidence_stale_at'])
    op.create_index('ix_decision_items_filer_created', 'decision_items', ['filer_id', 'created_at', 'id', 'status'])
    op.execute("DELETE FROM health_tallies WHERE metric = 'counted' AND EXISTS (SELECT 1 FROM events)")
    op.execute("INSERT INTO health_tallies (metric, period, key, n) "
               "SELECT 'open counted', '', '250000', 1 WHERE NOT EXISTS (SELECT 1 FROM events)")


def downgrade() -> None:
    op.execute("DELETE FROM health_tallies WHERE metric IN ('queue', 'divergent', 'revalidation', 'open counted')")
    op.execute("DELETE FROM health_item_parts WHERE metric IN ('queue', 'divergent', 'revalidation')")
    op.drop_index('ix_decision_items_filer_created', table_name='decision_items')
    op.drop_index('ix_decision_items_evidence_stale_at', table_name='decision_items')
