"""The events table takes an insert only at the head of the chain, and checkpoints can carry an
Ed25519 signature.

An insert must add the next seq after the last event, with that event's hash as its prev_hash
(64 zeros for the first), and a hash no event has yet. That closes SQLite's INSERT OR REPLACE /
REPLACE INTO, which deletes a conflicting row without firing DELETE triggers (unless
recursive_triggers is on) and so rewrote events past the UPDATE and DELETE triggers; on
PostgreSQL it refuses INSERT ... ON CONFLICT DO UPDATE before the conflict is looked at.

trail_checkpoints gains the signature (base64) and the signing key's id, both empty for the
unsigned checkpoints recorded before.

Revision ID: b5e2d7c4a913
Revises: 6a1f3e8b9c27
Create Date: 2026-12-05 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'b5e2d7c4a913'
down_revision = '6a1f3e8b9c27'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
AT_HEAD_ONLY = ("events are append-only: an insert must add the next seq after the last event, "
                "linked to its hash, with a new hash")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION forum_events_insert_at_head() RETURNS trigger AS $$
            DECLARE
                head_seq integer := 0;
                head_hash text := '{GENESIS}';
            BEGIN
                SELECT seq, hash INTO head_seq, head_hash FROM events ORDER BY seq DESC LIMIT 1;
                IF NOT FOUND THEN
                    head_seq := 0;
                    head_hash := '{GENESIS}';
                END IF;
                IF NEW.seq IS DISTINCT FROM head_seq + 1 OR NEW.prev_hash IS DISTINCT FROM head_hash THEN
                    RAISE EXCEPTION '{AT_HEAD_ONLY}' USING ERRCODE = 'raise_exception';
                END IF;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER events_insert_at_head BEFORE INSERT ON events "
            "FOR EACH ROW EXECUTE FUNCTION forum_events_insert_at_head()"
        )
    else:
        # A BEFORE INSERT trigger fires for REPLACE too, before its implicit delete.
        op.execute(
            f"""
            CREATE TRIGGER events_insert_at_head BEFORE INSERT ON events
            WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM events)
              OR NEW.prev_hash IS NOT COALESCE(
                     (SELECT hash FROM events ORDER BY seq DESC LIMIT 1), '{GENESIS}')
              OR EXISTS (SELECT 1 FROM events WHERE hash = NEW.hash)
            BEGIN SELECT RAISE(ABORT, '{AT_HEAD_ONLY}'); END
            """
        )
    op.add_column('trail_checkpoints', sa.Column('signature', sa.String(length=100), nullable=True))
    op.add_column('trail_checkpoints', sa.Column('key_id', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('trail_checkpoints', schema=None) as batch_op:
        batch_op.drop_column('key_id')
        batch_op.drop_column('signature')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_insert_at_head ON events")
        op.execute("DROP FUNCTION IF EXISTS forum_events_insert_at_head()")
    else:
        op.execute("DROP TRIGGER IF EXISTS events_insert_at_head")
