"""An item's standing on its row (forum.weighing.standing): the highest and lowest current weight
total, whether a function objects, whether a current evidence run fails a gate for good or has
drifted, and when the first current run goes stale. The escalation queue, the executives' home
page and the tier / divergence filters read these in SQL instead of weighing every item in Python.

Existing installs: every item's standing is computed from its ratings, positions and runs.

Revision ID: 9d2c4e7a1b05
Revises: 15811decc013
Create Date: 2026-11-26 01:40:00
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = '9d2c4e7a1b05'
down_revision = '15811decc013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN (not a batch, which on SQLite copies the table and trips over
    # the foreign keys that point at it once items exist).
    op.add_column('decision_items', sa.Column('weight_max', sa.Integer(), nullable=True))
    op.add_column('decision_items', sa.Column('weight_min', sa.Integer(), nullable=True))
    op.add_column('decision_items', sa.Column('objection', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('decision_items', sa.Column('evidence_fail', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('decision_items', sa.Column('evidence_drift', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('decision_items', sa.Column('evidence_stale_at', forum.core.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_decision_items_weight_max'), 'decision_items', ['weight_max'], unique=False)
    # The rules live in one place: the module that keeps the columns current (it reads and writes
    # these columns by name with SQLAlchemy Core, not through the ORM classes).
    # The module reads and writes the schema of the latest revision: on a database being brought
    # up from before this revision, the later columns are not there yet, and the revision that
    # adds the last of them rebuilds every item's standing instead.
    from forum.weighing import standing

    standing.rebuild_when_complete(op.get_bind())


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), for the same reason as above.
    op.drop_index(op.f('ix_decision_items_weight_max'), table_name='decision_items')
    for column in ('evidence_stale_at', 'evidence_drift', 'evidence_fail', 'objection', 'weight_min', 'weight_max'):
        op.drop_column('decision_items', column)
