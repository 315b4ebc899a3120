"""An index on events (subject, kind): an item's events of one kind without reading every event
of that kind (the pre-read pack's status history took 158 ms at 1.1 M events on SQLite).

Revision ID: 4b7e1c9d2a36
Revises: 9d2c4e7a1b05
Create Date: 2026-11-26 02:15:00
"""

from alembic import op

revision = '4b7e1c9d2a36'
down_revision = '9d2c4e7a1b05'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_events_subject_kind', 'events', ['subject', 'kind'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_events_subject_kind', table_name='events')
