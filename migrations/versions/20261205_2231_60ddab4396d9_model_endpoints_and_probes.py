"""Hands-on probes: the OpenAI-compatible endpoints that serve each version of an AI system,
and the probes run against them with each version's answer and verdict.

Revision ID: 60ddab4396d9
Revises: b3c4d5e6f7a8
Create Date: 2026-12-05 22:31:57.321539
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = '60ddab4396d9'
down_revision = 'b3c4d5e6f7a8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('model_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=80), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('key_variable', sa.String(length=100), nullable=False),
    sa.Column('timeout_seconds', sa.Integer(), nullable=False),
    sa.Column('per_user_per_hour', sa.Integer(), nullable=False),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['system_id'], ['ai_systems.id'], name=op.f('fk_model_endpoints_system_id_ai_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_endpoints')),
    sa.UniqueConstraint('system_id', 'version', name='uq_model_endpoints_version')
    )
    with op.batch_alter_table('model_endpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_endpoints_system_id'), ['system_id'], unique=False)

    op.create_table('probes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('run_by_id', sa.Integer(), nullable=False),
    sa.Column('run_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('saved_at', forum.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['decision_items.id'], name=op.f('fk_probes_item_id_decision_items')),
    sa.ForeignKeyConstraint(['run_by_id'], ['users.id'], name=op.f('fk_probes_run_by_id_users')),
    sa.ForeignKeyConstraint(['system_id'], ['ai_systems.id'], name=op.f('fk_probes_system_id_ai_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_probes'))
    )
    with op.batch_alter_table('probes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_probes_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_probes_run_by_id'), ['run_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_probes_saved_at'), ['saved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_probes_system_id'), ['system_id'], unique=False)

    op.create_table('probe_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('probe_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.String(length=80), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('prompt_tokens', sa.Integer(), nullable=True),
    sa.Column('completion_tokens', sa.Integer(), nullable=True),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['model_endpoints.id'], name=op.f('fk_probe_answers_endpoint_id_model_endpoints')),
    sa.ForeignKeyConstraint(['probe_id'], ['probes.id'], name=op.f('fk_probe_answers_probe_id_probes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_probe_answers'))
    )
    with op.batch_alter_table('probe_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_probe_answers_probe_id'), ['probe_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('probe_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_probe_answers_probe_id'))

    op.drop_table('probe_answers')
    with op.batch_alter_table('probes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_probes_system_id'))
        batch_op.drop_index(batch_op.f('ix_probes_saved_at'))
        batch_op.drop_index(batch_op.f('ix_probes_run_by_id'))
        batch_op.drop_index(batch_op.f('ix_probes_item_id'))

    op.drop_table('probes')
    with op.batch_alter_table('model_endpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_endpoints_system_id'))

    op.drop_table('model_endpoints')
