"""The escalation queue's order kept on each item (``queue_order``, part of its standing:
forum.weighing.rules.Scale.order_of) with an index in the queue's order per status, so that a
page of the queue is read from the index instead of sorting every item in the queue. Every item's
standing is computed again to fill it (forum.weighing.standing).

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'b8c9d0e1f2a3'
down_revision = 'a7b8c9d0e1f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN (a batch would copy the table on SQLite, which trips over the
    # foreign keys that point at it once rows exist).
    op.add_column('decision_items', sa.Column('queue_order', sa.SmallInteger(), server_default='0', nullable=False))
    from forum.weighing import standing
    standing.rebuild_when_complete(op.get_bind())
    op.create_index('ix_decision_items_escalation_queue', 'decision_items',
                    ['status', 'queue_order', 'needed_by', 'id'])


def downgrade() -> None:
    op.drop_index('ix_decision_items_escalation_queue', table_name='decision_items')
    op.drop_column('decision_items', 'queue_order')
