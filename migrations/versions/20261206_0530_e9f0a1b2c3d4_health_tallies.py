"""The health figures' tallies, kept current as changes happen: counts per metric, period and key,
and each decided item's cycle time as tallied. Both start empty. A database without events is
marked counted at once; one with a history is counted once by `forum db upgrade` (or by the
health page's first read), in Python, outside the migration.

Revision ID: e9f0a1b2c3d4
Revises: d8e9f0a1b2c3
Create Date: 2026-12-06 05:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e9f0a1b2c3d4'
down_revision = 'd8e9f0a1b2c3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'health_tallies',
        sa.Column('metric', sa.String(length=40), nullable=False),
        sa.Column('period', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('metric', 'period', 'key', name=op.f('pk_health_tallies')),
    )
    op.create_table(
        'health_cycles',
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=10), nullable=False),
        sa.Column('tier', sa.String(length=40), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'], name=op.f('fk_health_cycles_item_id_decision_items'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('item_id', name=op.f('pk_health_cycles')),
    )
    # A database without history has nothing to count: its (empty) tallies are complete.
    op.execute("INSERT INTO health_tallies (metric, period, key, n) "
               "SELECT 'counted', '', '', 1 WHERE NOT EXISTS (SELECT 1 FROM events)")


def downgrade() -> None:
    op.drop_table('health_cycles')
    op.drop_table('health_tallies')
