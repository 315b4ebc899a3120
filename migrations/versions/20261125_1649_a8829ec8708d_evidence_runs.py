"""Evidence runs: model-test result files attached to decision items, with what was read from
them and the gate results computed at ingest.

Revision ID: a8829ec8708d
Revises: 78bf01d90f87
Create Date: 2026-11-25 16:49:33.503624
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = 'a8829ec8708d'
down_revision = '78bf01d90f87'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evidence_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('format', sa.String(length=30), nullable=False),
    sa.Column('suite', sa.String(length=200), nullable=False),
    sa.Column('model_id', sa.String(length=200), nullable=False),
    sa.Column('model_version', sa.String(length=80), nullable=False),
    sa.Column('run_at', forum.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('errored', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('pass_rate', sa.Float(), nullable=True),
    sa.Column('edge_total', sa.Integer(), nullable=False),
    sa.Column('edge_passed', sa.Integer(), nullable=False),
    sa.Column('edge_skipped', sa.Integer(), nullable=False),
    sa.Column('tag_counts', sa.JSON(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('failing_cases', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('gate_results', sa.JSON(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('edge_total >= edge_passed + edge_skipped AND edge_passed >= 0 AND edge_skipped >= 0', name=op.f('ck_evidence_runs_edge_counts_consistent')),
    sa.CheckConstraint('passed >= 0 AND failed >= 0 AND errored >= 0 AND skipped >= 0', name=op.f('ck_evidence_runs_counts_not_negative')),
    sa.CheckConstraint('size >= 0', name=op.f('ck_evidence_runs_size_not_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'], name=op.f('fk_evidence_runs_item_id_decision_items')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_evidence_runs_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_runs'))
    )
    with op.batch_alter_table('evidence_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_runs_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_evidence_runs_item_suite', ['item_id', 'suite', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_runs_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_runs_uploaded_by_id'), ['uploaded_by_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('evidence_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_runs_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_runs_sha256'))
        batch_op.drop_index('ix_evidence_runs_item_suite')
        batch_op.drop_index(batch_op.f('ix_evidence_runs_item_id'))

    op.drop_table('evidence_runs')
