"""The items' (status, created_at) index carries the id: the item list filtered by status reads a
page, however deep, from the index alone on PostgreSQL too (its index entries do not carry the
row's id as SQLite's do).

Revision ID: e5f6a7b8c9d0
Revises: d4e5f6a7b8c9
Create Date: 2026-12-06 12:20:00
"""

from alembic import op

revision = 'e5f6a7b8c9d0'
down_revision = 'd4e5f6a7b8c9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_decision_items_status_created', table_name='decision_items')
    op.create_index('ix_decision_items_status_created', 'decision_items', ['status', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_decision_items_status_created', table_name='decision_items')
    op.create_index('ix_decision_items_status_created', 'decision_items', ['status', 'created_at'], unique=False)
