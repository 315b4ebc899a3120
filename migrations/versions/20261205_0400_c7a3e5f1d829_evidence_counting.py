"""Evidence runs say where their counts come from: ``cases`` (one record per case, counted),
``stated`` (no per-case records; the file states exact counts) or ``none`` (nothing countable:
headline metrics only).

Runs stored before: an lm-evaluation-harness results file's counts were derived from its first
metric × its sample count, so those with any cases become ``stated`` (their counts may have been
derived from a metric that is not a pass rate: re-attach the file to have it read again); runs
with no case at all become ``none`` (they were shown as 0-case runs that fail nothing).

Items gain ``evidence_unknown`` (forum.weighing.standing): some gate of a current run cannot be
computed from its file; and the basis of their decision, ``decided_at`` and
``decided_model_version``, against which drift is measured (revalidation only for a change after
the decision). Items decided before this revision have no basis: every failing freshness or
regression gate still counts as drift for them, as before. Decisions gain ``evidence_snapshot``:
the state of the evidence they were taken on.

Revision ID: c7a3e5f1d829
Revises: b5e2d7c4a913
Create Date: 2026-12-05 04:00:00
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = 'c7a3e5f1d829'
down_revision = 'b5e2d7c4a913'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN (a batch would copy the tables on SQLite, which trips over the
    # foreign keys that point at them once rows exist).
    op.add_column("evidence_runs", sa.Column("counting", sa.String(length=10), server_default="cases",
                                             nullable=False))
    op.add_column("decision_items", sa.Column("evidence_unknown", sa.Boolean(), server_default=sa.false(),
                                              nullable=False))
    op.add_column("decision_items", sa.Column("decided_at", forum.core.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column("decision_items", sa.Column("decided_model_version", sa.String(length=80), nullable=True))
    op.add_column("decisions", sa.Column("evidence_snapshot", sa.JSON(), nullable=True))
    op.execute("UPDATE evidence_runs SET counting = 'none' WHERE passed + failed + errored + skipped = 0")
    op.execute("UPDATE evidence_runs SET counting = 'stated' "
               "WHERE format = 'lm-eval-results' AND passed + failed + errored + skipped > 0")
    # Every item's standing again: runs without a stated time no longer go stale by age, and
    # evidence_unknown is new (forum.weighing.standing keeps these columns; a later revision's
    # column missing, that revision rebuilds them).
    from forum.weighing import standing
    standing.rebuild_when_complete(op.get_bind())


def downgrade() -> None:
    op.drop_column("decisions", "evidence_snapshot")
    op.drop_column("decision_items", "decided_model_version")
    op.drop_column("decision_items", "decided_at")
    op.drop_column("decision_items", "evidence_unknown")
    op.drop_column("evidence_runs", "counting")
