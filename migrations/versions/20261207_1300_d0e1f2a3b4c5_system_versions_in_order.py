"""A system's versions indexed in the order they were recorded (system, recorded_at, id), in place
of the index on the system alone: its page finds which version was in use when each decision
about its items was recorded with one probe of that index per decision.

Revision ID: d0e1f2a3b4c5
Revises: c9d0e1f2a3b4
Create Date: 2026-12-07 13:00:00
"""

from alembic import op

revision = 'd0e1f2a3b4c5'
down_revision = 'c9d0e1f2a3b4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_system_versions_system_recorded', 'system_versions', ['system_id', 'recorded_at', 'id'])
    op.drop_index('ix_system_versions_system_id', table_name='system_versions')


def downgrade() -> None:
    op.create_index('ix_system_versions_system_id', 'system_versions', ['system_id'])
    op.drop_index('ix_system_versions_system_recorded', table_name='system_versions')
