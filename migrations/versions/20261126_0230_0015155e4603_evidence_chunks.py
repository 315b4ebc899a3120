"""Evidence files in pieces: evidence_chunks (run_id, n, data) of 1 MiB each replaces the
evidence_runs.data blob, so that storing or serving a file never holds it whole (nor the
database driver a copy of it) — see docs/BENCHMARKS.md, "Evidence parsing (issue 4)".

Existing runs: each blob is cut into pieces, one run at a time, then the column is dropped
(SQLite 3.35+ drops a column in place: the table is not rebuilt). Downgrade puts the pieces back
together into the column (NOT NULL; on SQLite with an empty default, which SQLite requires to
add a NOT NULL column) and drops the pieces.

Revision ID: 0015155e4603
Revises: 4b7e1c9d2a36
Create Date: 2026-11-26 01:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015155e4603'
down_revision = '4b7e1c9d2a36'
branch_labels = None
depends_on = None

CHUNK_BYTES = 1024 * 1024  # forum.evidence.models.CHUNK_BYTES when this revision was written

runs = sa.table('evidence_runs', sa.column('id', sa.Integer), sa.column('data', sa.LargeBinary))
chunks = sa.table('evidence_chunks', sa.column('run_id', sa.Integer), sa.column('n', sa.Integer),
                  sa.column('data', sa.LargeBinary))


def upgrade() -> None:
    op.create_table('evidence_chunks',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['evidence_runs.id'], name=op.f('fk_evidence_chunks_run_id_evidence_runs')),
    sa.PrimaryKeyConstraint('run_id', 'n', name=op.f('pk_evidence_chunks'))
    )
    conn = op.get_bind()
    for run_id in conn.execute(sa.select(runs.c.id).order_by(runs.c.id)).scalars().all():
        data = conn.execute(sa.select(runs.c.data).where(runs.c.id == run_id)).scalar_one()
        for n, offset in enumerate(range(0, len(data), CHUNK_BYTES)):
            conn.execute(chunks.insert().values(run_id=run_id, n=n, data=data[offset:offset + CHUNK_BYTES]))
    op.drop_column('evidence_runs', 'data')


def downgrade() -> None:
    conn = op.get_bind()
    empty = sa.text("X''") if conn.dialect.name == 'sqlite' else sa.text("'\\x'::bytea")
    op.add_column('evidence_runs', sa.Column('data', sa.LargeBinary(), nullable=False, server_default=empty))
    if conn.dialect.name != 'sqlite':
        op.alter_column('evidence_runs', 'data', server_default=None)
    for run_id in conn.execute(sa.select(runs.c.id).order_by(runs.c.id)).scalars().all():
        pieces = conn.execute(sa.select(chunks.c.data).where(chunks.c.run_id == run_id)
                              .order_by(chunks.c.n)).scalars().all()
        conn.execute(runs.update().where(runs.c.id == run_id).values(data=b''.join(pieces)))
    op.drop_table('evidence_chunks')
