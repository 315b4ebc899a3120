"""Notifications and reminders: item follows, notifications (the inbox), the e-mail outbox
(delivered after commit, retried with backoff), per-kind e-mail opt-outs, and the reminders
already sent (unique per user and key, so `forum reminders run` never sends one twice).

Existing installs: everyone who filed, rated, took a position on or commented on an item follows
it, as they would have had these tables existed then.

Revision ID: 15811decc013
Revises: 7fb043ae3598
Create Date: 2026-11-25 19:30:12.852526
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = '15811decc013'
down_revision = '3ba5316a7a64'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_email_optouts',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_email_optouts_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_email_optouts'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', forum.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('item_state', 'position_requested', 'action_assigned', 'meeting_published', 'evidence_gate_failed', 'action_due', 'positions_missing')", name=op.f('ck_notifications_kind_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_created', ['user_id', 'created_at'], unique=False)
        batch_op.create_index('ix_notifications_user_read', ['user_id', 'read_at'], unique=False)

    op.create_table('item_follows',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'], name=op.f('fk_item_follows_item_id_decision_items')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_item_follows_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'item_id', name=op.f('pk_item_follows'))
    )
    with op.batch_alter_table('item_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_follows_item_id'), ['item_id'], unique=False)
    op.execute(
        "INSERT INTO item_follows (user_id, item_id, created_at) "
        "SELECT user_id, item_id, CURRENT_TIMESTAMP FROM ("
        " SELECT filer_id AS user_id, id AS item_id FROM decision_items"
        " UNION SELECT rater_id, item_id FROM weight_ratings"
        " UNION SELECT author_id, item_id FROM positions"
        " UNION SELECT author_id, item_id FROM comments"
        ") AS involved"
    )

    op.create_table('notification_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('sent_at', forum.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_notification_outbox_status_known')),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_notification_outbox_notification_id_notifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_outbox')),
    sa.UniqueConstraint('notification_id', name=op.f('uq_notification_outbox_notification_id'))
    )
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_notification_outbox_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('reminders_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_reminders_sent_notification_id_notifications')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminders_sent_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_sent')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_reminders_sent_user_id'))
    )


def downgrade() -> None:
    op.drop_table('reminders_sent')
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_outbox_status_next')

    op.drop_table('notification_outbox')
    with op.batch_alter_table('item_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_follows_item_id'))

    op.drop_table('item_follows')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_read')
        batch_op.drop_index('ix_notifications_user_created')

    op.drop_table('notifications')
    op.drop_table('notification_email_optouts')
