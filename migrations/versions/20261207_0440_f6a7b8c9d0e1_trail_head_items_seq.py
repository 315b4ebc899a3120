"""The trail head keeps, beside its seq, the seq of the last change that may have written items or
AI systems (``items_seq``): results derived from those rows alone (the escalation queue's counts,
the executives' lists) are then kept across the discussion's changes — a comment, a follow —
which write neither.

Revision ID: f6a7b8c9d0e1
Revises: e5f6a7b8c9d0
Create Date: 2026-12-07 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'f6a7b8c9d0e1'
down_revision = 'e5f6a7b8c9d0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('trail_head', sa.Column('items_seq', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE trail_head SET items_seq = seq")


def downgrade() -> None:
    with op.batch_alter_table('trail_head') as batch:
        batch.drop_column('items_seq')
