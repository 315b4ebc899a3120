"""Changes confined to one AI system: a result file for a system's item moves that system's own
counter (``ai_systems.changed_seq``) instead of the trail head's new ``shared_seq``, so the pages
kept per system (and the items still to group) stay in place when another system's item gets a
result file.

Revision ID: e1f2a3b4c5d6
Revises: d0e1f2a3b4c5
Create Date: 2026-12-07 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e1f2a3b4c5d6'
down_revision = 'd0e1f2a3b4c5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('trail_head', sa.Column('shared_seq', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE trail_head SET shared_seq = items_seq")
    op.add_column('ai_systems', sa.Column('changed_seq', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    op.drop_column('ai_systems', 'changed_seq')  # ALTER TABLE … DROP COLUMN (SQLite 3.35+)
    op.drop_column('trail_head', 'shared_seq')
