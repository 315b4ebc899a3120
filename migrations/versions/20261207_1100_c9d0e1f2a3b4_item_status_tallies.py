"""Every item's status kept as a tally too (forum.health.tallies: each item's part), so that the
item list counts its items from a few small rows instead of every item. A database with a history
is counted again (its mark is removed: `forum db upgrade` counts it, in Python, outside the
migration); one without events has no items to count.

Revision ID: c9d0e1f2a3b4
Revises: b8c9d0e1f2a3
Create Date: 2026-12-07 11:00:00
"""

from alembic import op

revision = 'c9d0e1f2a3b4'
down_revision = 'b8c9d0e1f2a3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM health_tallies WHERE metric = 'counted' AND EXISTS (SELECT 1 FROM events)")


def downgrade() -> None:
    op.execute("DELETE FROM health_tallies WHERE metric = 'items'")
    op.execute("DELETE FROM health_item_parts WHERE metric = 'items'")
