"""Forum: each function's current weight rating and position per item, comments, escalations.

Ratings and positions are unique per (item, function): a later one replaces the row, and the
trail keeps every version.

Revision ID: f43cd3c182f7
Revises: a8829ec8708d
Create Date: 2026-11-25 16:53:54.069042
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = 'f43cd3c182f7'
down_revision = "a8829ec8708d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('function_key', sa.String(length=40), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('edited_at', forum.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users')),
    sa.ForeignKeyConstraint(['function_key'], ['org_functions.key'], name=op.f('fk_comments_function_key_org_functions')),
    sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'], name=op.f('fk_comments_item_id_decision_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_item_created'), ['item_id', 'created_at'], unique=False)

    op.create_table('escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('rule', sa.String(length=60), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recommended', sa.JSON(), nullable=False),
    sa.Column('escalated_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('actor_id IS NOT NULL OR rule IS NOT NULL', name=op.f('ck_escalations_person_or_rule')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_escalations_actor_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'], name=op.f('fk_escalations_item_id_decision_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations'))
    )
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalations_item_id'), ['item_id'], unique=False)

    op.create_table('positions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('function_key', sa.String(length=40), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('stance', sa.String(length=40), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('taken_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("stance IN ('support', 'support_with_conditions', 'concerns', 'object')", name=op.f('ck_positions_stance_known')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_positions_author_id_users')),
    sa.ForeignKeyConstraint(['function_key'], ['org_functions.key'], name=op.f('fk_positions_function_key_org_functions')),
    sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'], name=op.f('fk_positions_item_id_decision_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_positions')),
    sa.UniqueConstraint('item_id', 'function_key', name=op.f('uq_positions_item_function'))
    )
    op.create_table('weight_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('function_key', sa.String(length=40), nullable=False),
    sa.Column('rater_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('rated_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total >= 0', name=op.f('ck_weight_ratings_total_not_negative')),
    sa.ForeignKeyConstraint(['function_key'], ['org_functions.key'], name=op.f('fk_weight_ratings_function_key_org_functions')),
    sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'], name=op.f('fk_weight_ratings_item_id_decision_items')),
    sa.ForeignKeyConstraint(['rater_id'], ['users.id'], name=op.f('fk_weight_ratings_rater_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weight_ratings')),
    sa.UniqueConstraint('item_id', 'function_key', name=op.f('uq_weight_ratings_item_function'))
    )


def downgrade() -> None:
    op.drop_table('weight_ratings')
    op.drop_table('positions')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalations_item_id'))

    op.drop_table('escalations')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_item_created'))

    op.drop_table('comments')
