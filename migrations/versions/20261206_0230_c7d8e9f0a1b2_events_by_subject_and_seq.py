"""Events are found by subject in trail order: an index on (subject, seq) replaces the one on the
subject alone (its prefix), so that "the newest events of one subject" reads only those; and an
item's latest agenda entry: (item_id, id) replaces the index on item_id alone.

Plain index operations, never a batch (the events table keeps its append-only triggers).

Revision ID: c7d8e9f0a1b2
Revises: bf0f8a563a39
Create Date: 2026-12-06 02:30:00
"""

from alembic import op

revision = 'c7d8e9f0a1b2'
down_revision = 'bf0f8a563a39'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_events_subject_seq', 'events', ['subject', 'seq'], unique=False)
    op.drop_index('ix_events_subject', table_name='events')
    op.create_index('ix_agenda_entries_item_id_id', 'agenda_entries', ['item_id', 'id'], unique=False)
    op.drop_index('ix_agenda_entries_item_id', table_name='agenda_entries')


def downgrade() -> None:
    op.create_index('ix_events_subject', 'events', ['subject'], unique=False)
    op.drop_index('ix_events_subject_seq', table_name='events')
    op.create_index('ix_agenda_entries_item_id', 'agenda_entries', ['item_id'], unique=False)
    op.drop_index('ix_agenda_entries_item_id_id', table_name='agenda_entries')
