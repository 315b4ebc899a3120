"""Two indexes for an AI system's page (forum.register.queries): its items newest first
(system_id, created_at, id), which replaces the index on system_id alone, so the page reads its
newest few and counts them without reading every item row of the system; and the runs' tested
version and times beside their item (item_id, model_version, run_at, uploaded_at), so the
version history counts the system's runs per version from the index.

A SQLite database with table statistics (``ANALYZE`` run on it: sqlite_stat1) gets them for the
new indexes too: without them SQLite took the first for "system_id IS NULL" and the register's
grouping page walked every item outside the register once per group (5 → 716 ms at 100,026
items).

Revision ID: d6e7f8a9b0c1
Revises: c5d6e7f8a9b0
Create Date: 2026-12-07 22:50:00
"""

from alembic import op

revision = 'd6e7f8a9b0c1'
down_revision = 'c5d6e7f8a9b0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_decision_items_system_newest', 'decision_items', ['system_id', 'created_at', 'id'])
    op.drop_index('ix_decision_items_system_id', table_name='decision_items')
    op.create_index('ix_evidence_runs_item_version', 'evidence_runs',
                    ['item_id', 'model_version', 'run_at', 'uploaded_at'])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
        op.execute("ANALYZE ix_decision_items_system_newest")
        op.execute("ANALYZE ix_evidence_runs_item_version")


def downgrade() -> None:
    op.drop_index('ix_evidence_runs_item_version', table_name='evidence_runs')
    op.create_index('ix_decision_items_system_id', 'decision_items', ['system_id'])
    op.drop_index('ix_decision_items_system_newest', table_name='decision_items')
