"""Technical proximity: executives' reviews of evidence runs' failing cases, edge cases proposed
by the forum, and the snapshot of reviews a decision keeps from the moment it was recorded.

Revision ID: c3e5a1d07b42
Revises: 7fb043ae3598
Create Date: 2026-11-25 19:30:00
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = 'c3e5a1d07b42'
down_revision = "7fb043ae3598"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evidence_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('cases_shown', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reviewed_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cases_shown >= 0', name=op.f('ck_evidence_reviews_cases_shown_not_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'], name=op.f('fk_evidence_reviews_item_id_decision_items')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_evidence_reviews_reviewer_id_users')),
    sa.ForeignKeyConstraint(['run_id'], ['evidence_runs.id'], name=op.f('fk_evidence_reviews_run_id_evidence_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_reviews'))
    )
    with op.batch_alter_table('evidence_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_reviews_item_reviewer', ['item_id', 'reviewer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_reviews_reviewer_id'), ['reviewer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_reviews_run_id'), ['run_id'], unique=False)

    op.create_table('proposed_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('example_input', sa.Text(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'], name=op.f('fk_proposed_cases_item_id_decision_items')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_proposed_cases_proposed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposed_cases'))
    )
    with op.batch_alter_table('proposed_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposed_cases_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposed_cases_proposed_by_id'), ['proposed_by_id'], unique=False)

    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_snapshot', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_column('review_snapshot')

    with op.batch_alter_table('proposed_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposed_cases_proposed_by_id'))
        batch_op.drop_index(batch_op.f('ix_proposed_cases_item_id'))
    op.drop_table('proposed_cases')

    with op.batch_alter_table('evidence_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_reviews_run_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_reviews_reviewer_id'))
        batch_op.drop_index('ix_evidence_reviews_item_reviewer')
    op.drop_table('evidence_reviews')
