"""The items' standing index carries their creation time: the home pages' lists of the newest
items meeting a standing condition (weights that diverge, items awaiting a function) sort what
the index finds without reading 20,000 rows for their date.

Revision ID: c3d4e5f6a7b8
Revises: b2c3d4e5f6a7
Create Date: 2026-12-06 09:05:00
"""

from alembic import op

revision = 'c3d4e5f6a7b8'
down_revision = 'b2c3d4e5f6a7'
branch_labels = None
depends_on = None

BEFORE = ['status', 'weight_max', 'weight_min', 'objection', 'evidence_fail', 'evidence_drift',
          'evidence_stale_at', 'exposure', 'needed_by', 'system_id', 'id']
AFTER = [*BEFORE[:-1], 'created_at', 'id']


def upgrade() -> None:
    op.drop_index('ix_decision_items_standing', table_name='decision_items')
    op.create_index('ix_decision_items_standing', 'decision_items', AFTER, unique=False)


def downgrade() -> None:
    op.drop_index('ix_decision_items_standing', table_name='decision_items')
    op.create_index('ix_decision_items_standing', 'decision_items', BEFORE, unique=False)
