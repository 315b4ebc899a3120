"""Initial schema: functions, users, decision items and the append-only decision trail.

The events table refuses UPDATE and DELETE through triggers on SQLite and PostgreSQL alike
(PostgreSQL also refuses TRUNCATE), and trail_head starts at seq 0 with the genesis hash.

Revision ID: 78bf01d90f87
Revises:
Create Date: 2026-11-25 16:26:58.462923
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

GENESIS = "0" * 64
APPEND_ONLY = "events are append-only: UPDATE and DELETE are refused"

revision = '78bf01d90f87'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_events_hash'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_subject'), ['subject'], unique=False)

    op.create_table('org_functions',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_org_functions'))
    )
    op.create_table('trail_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_trail_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trail_head'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('function_key', sa.String(length=40), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', forum.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('staff', 'executive', 'auditor', 'admin')", name=op.f('ck_users_role_known')),
    sa.ForeignKeyConstraint(['function_key'], ['org_functions.key'], name=op.f('fk_users_function_key_org_functions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_function_key'), ['function_key'], unique=False)

    op.create_table('decision_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('function_key', sa.String(length=40), nullable=False),
    sa.Column('vendor', sa.String(length=120), nullable=False),
    sa.Column('model_name', sa.String(length=120), nullable=False),
    sa.Column('model_version', sa.String(length=80), nullable=False),
    sa.Column('exposure', sa.BigInteger(), nullable=True),
    sa.Column('needed_by', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('filer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', forum.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("category IN ('vendor_selection', 'model_deployment', 'model_update', 'use_case_approval', 'policy_exception', 'incident_follow_up')", name=op.f('ck_decision_items_category_known')),
    sa.CheckConstraint("status IN ('draft', 'open', 'escalated', 'scheduled', 'decided', 'closed')", name=op.f('ck_decision_items_status_known')),
    sa.CheckConstraint('exposure IS NULL OR exposure >= 0', name=op.f('ck_decision_items_exposure_not_negative')),
    sa.ForeignKeyConstraint(['filer_id'], ['users.id'], name=op.f('fk_decision_items_filer_id_users')),
    sa.ForeignKeyConstraint(['function_key'], ['org_functions.key'], name=op.f('fk_decision_items_function_key_org_functions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_items'))
    )
    with op.batch_alter_table('decision_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_items_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_items_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_items_filer_id'), ['filer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_items_function_key'), ['function_key'], unique=False)
        batch_op.create_index('ix_decision_items_status_created', ['status', 'created_at'], unique=False)

    op.execute(sa.text(f"INSERT INTO trail_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')"))
    _create_append_only_triggers()


def _create_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION forum_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'raise_exception';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION forum_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
            "FOR EACH STATEMENT EXECUTE FUNCTION forum_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_no_{verb.lower()} BEFORE {verb} ON events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_no_truncate ON events")
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
        op.execute("DROP FUNCTION IF EXISTS forum_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")



def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table('decision_items', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_items_status_created')
        batch_op.drop_index(batch_op.f('ix_decision_items_function_key'))
        batch_op.drop_index(batch_op.f('ix_decision_items_filer_id'))
        batch_op.drop_index(batch_op.f('ix_decision_items_created_at'))
        batch_op.drop_index(batch_op.f('ix_decision_items_category'))

    op.drop_table('decision_items')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_function_key'))

    op.drop_table('users')
    op.drop_table('trail_head')
    op.drop_table('org_functions')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_subject'))
        batch_op.drop_index(batch_op.f('ix_events_kind'))
        batch_op.drop_index(batch_op.f('ix_events_actor'))

    op.drop_table('events')
