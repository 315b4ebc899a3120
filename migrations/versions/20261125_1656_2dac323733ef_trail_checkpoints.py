"""Trail checkpoints (the head seq and hash recorded by an auditor) and an index on event times
(the trail browser's date filter).

The events index is created with plain op.create_index, not in a batch: a batch could rebuild
the events table on SQLite and lose its append-only triggers.

Revision ID: 2dac323733ef
Revises: 00267877fe51
Create Date: 2026-11-25 16:56:34.726434
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = '2dac323733ef'
down_revision = "00267877fe51"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('trail_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trail_checkpoints'))
    )
    op.create_index(op.f('ix_trail_checkpoints_seq'), 'trail_checkpoints', ['seq'], unique=False)
    op.create_index(op.f('ix_events_at'), 'events', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_events_at'), table_name='events')
    op.drop_index(op.f('ix_trail_checkpoints_seq'), table_name='trail_checkpoints')
    op.drop_table('trail_checkpoints')
