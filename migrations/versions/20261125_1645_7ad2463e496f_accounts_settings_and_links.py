"""Accounts: session version, notification preferences, one-time set-password links.

users.session_version is part of the login session's id (a password change raises it and so ends
the user's other sessions); existing rows start at 1, so sessions made before this revision end
once. set_password_links keeps only the SHA-256 of each token.

Revision ID: 7ad2463e496f
Revises: f43cd3c182f7
Create Date: 2026-11-25 16:45:28.745341
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = '7ad2463e496f'
down_revision = "f43cd3c182f7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('set_password_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', forum.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_set_password_links_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_set_password_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_set_password_links_token_hash'))
    )
    with op.batch_alter_table('set_password_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_set_password_links_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('email_notifications', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('digest_frequency', sa.String(length=10), server_default='weekly', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('digest_frequency')
        batch_op.drop_column('email_notifications')
        batch_op.drop_column('session_version')

    with op.batch_alter_table('set_password_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_set_password_links_user_id'))

    op.drop_table('set_password_links')
