"""The items' standing with their status in one index, so that the counts and orders over all open
and escalated items (the escalation queue, the home pages) read the index, not the wide rows.

Revision ID: d8e9f0a1b2c3
Revises: c7d8e9f0a1b2
Create Date: 2026-12-06 04:00:00
"""

from alembic import op

revision = 'd8e9f0a1b2c3'
down_revision = 'c7d8e9f0a1b2'
branch_labels = None
depends_on = None

COLUMNS = ['status', 'weight_max', 'weight_min', 'objection', 'evidence_fail', 'evidence_drift',
           'evidence_stale_at', 'exposure', 'needed_by', 'system_id', 'id']


def upgrade() -> None:
    op.create_index('ix_decision_items_standing', 'decision_items', COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index('ix_decision_items_standing', table_name='decision_items')
