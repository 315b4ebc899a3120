"""The evidence figures of the health page as tallies too: what each item adds to them now (its
current runs by day and version match, its freshness when decided). A database with a history is
counted again (its mark is removed: `forum db upgrade` counts it, in Python, outside the
migration); one without events stays counted.

Revision ID: f0a1b2c3d4e5
Revises: e9f0a1b2c3d4
Create Date: 2026-12-06 05:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'f0a1b2c3d4e5'
down_revision = 'e9f0a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'health_item_parts',
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('metric', sa.String(length=40), nullable=False),
        sa.Column('period', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'],
                                name=op.f('fk_health_item_parts_item_id_decision_items'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('item_id', 'metric', 'period', 'key', name=op.f('pk_health_item_parts')),
    )
    op.execute("DELETE FROM health_tallies WHERE metric = 'counted' AND EXISTS (SELECT 1 FROM events)")


def downgrade() -> None:
    op.drop_table('health_item_parts')
    op.execute("DELETE FROM health_tallies WHERE metric IN ('evidence_age', 'freshness')")
