"""Executive agenda: meetings, agenda entries, declared conflicts (recusals), decisions with
their deciders, and follow-up actions.

A decision is never edited: a correction is a new row (the next revision) that references the
one it amends. The unique (entry_id, revision) constraint makes two concurrent recorders of one
entry store exactly one decision; the unique amends_id keeps the amendments a single line.

Revision ID: 7fb043ae3598
Revises: 2dac323733ef
Create Date: 2026-11-25 16:52:56.831022
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = '7fb043ae3598'
down_revision = "2dac323733ef"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('starts_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'published', 'in_session', 'closed')", name=op.f('ck_meetings_status_known')),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_meetings_duration_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_meetings_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_starts_at'), ['starts_at'], unique=False)

    op.create_table('agenda_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('time_box_minutes', sa.Integer(), nullable=False),
    sa.Column('presenter_id', sa.Integer(), nullable=True),
    sa.Column('carried_from_id', sa.Integer(), nullable=True),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('position > 0', name=op.f('ck_agenda_entries_position_positive')),
    sa.CheckConstraint('time_box_minutes > 0', name=op.f('ck_agenda_entries_time_box_positive')),
    sa.ForeignKeyConstraint(['carried_from_id'], ['agenda_entries.id'], name=op.f('fk_agenda_entries_carried_from_id_agenda_entries')),
    sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'], name=op.f('fk_agenda_entries_item_id_decision_items')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_agenda_entries_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['presenter_id'], ['users.id'], name=op.f('fk_agenda_entries_presenter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_entries')),
    sa.UniqueConstraint('meeting_id', 'item_id', name=op.f('uq_agenda_entries_meeting_id'))
    )
    with op.batch_alter_table('agenda_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_entries_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agenda_entries_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('agenda_recusals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('declared_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['agenda_entries.id'], name=op.f('fk_agenda_recusals_entry_id_agenda_entries')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agenda_recusals_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_recusals')),
    sa.UniqueConstraint('entry_id', 'user_id', name=op.f('uq_agenda_recusals_entry_id'))
    )
    with op.batch_alter_table('agenda_recusals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_recusals_entry_id'), ['entry_id'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('amends_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('amendment_reason', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('approved', 'approved_with_conditions', 'rejected', 'deferred', 'more_evidence_needed')", name=op.f('ck_decisions_outcome_known')),
    sa.CheckConstraint('revision > 0', name=op.f('ck_decisions_revision_positive')),
    sa.ForeignKeyConstraint(['amends_id'], ['decisions.id'], name=op.f('fk_decisions_amends_id_decisions')),
    sa.ForeignKeyConstraint(['entry_id'], ['agenda_entries.id'], name=op.f('fk_decisions_entry_id_agenda_entries')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_decisions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions')),
    sa.UniqueConstraint('amends_id', name=op.f('uq_decisions_amends_id')),
    sa.UniqueConstraint('entry_id', 'revision', name=op.f('uq_decisions_entry_id'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_expires_on'), ['expires_on'], unique=False)
        batch_op.create_index('ix_decisions_outcome_recorded', ['outcome', 'recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_recorded_at'), ['recorded_at'], unique=False)

    op.create_table('decision_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('done_at', forum.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('done_note', sa.Text(), nullable=False),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_decision_actions_decision_id_decisions')),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_decision_actions_done_by_id_users')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_decision_actions_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_actions'))
    )
    with op.batch_alter_table('decision_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_actions_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index('ix_decision_actions_open_due', ['done', 'due_on'], unique=False)
        batch_op.create_index('ix_decision_actions_owner_open', ['owner_id', 'done'], unique=False)

    op.create_table('decision_deciders',
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_decision_deciders_decision_id_decisions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_decision_deciders_user_id_users')),
    sa.PrimaryKeyConstraint('decision_id', 'user_id', name=op.f('pk_decision_deciders'))
    )


def downgrade() -> None:
    op.drop_table('decision_deciders')
    with op.batch_alter_table('decision_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_actions_owner_open')
        batch_op.drop_index('ix_decision_actions_open_due')
        batch_op.drop_index(batch_op.f('ix_decision_actions_decision_id'))

    op.drop_table('decision_actions')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_recorded_at'))
        batch_op.drop_index('ix_decisions_outcome_recorded')
        batch_op.drop_index(batch_op.f('ix_decisions_expires_on'))

    op.drop_table('decisions')
    with op.batch_alter_table('agenda_recusals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_recusals_entry_id'))

    op.drop_table('agenda_recusals')
    with op.batch_alter_table('agenda_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_entries_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_agenda_entries_item_id'))

    op.drop_table('agenda_entries')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_starts_at'))

    op.drop_table('meetings')
