"""Risk classification of AI systems (EU AI Act category and high-risk area, general-purpose
model role, internal tier) and the obligations confirmed as met for them.

Revision ID: b3c4d5e6f7a8
Revises: a2b3c4d5e6f7
Create Date: 2026-12-05 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = 'b3c4d5e6f7a8'
down_revision = 'a2b3c4d5e6f7'
branch_labels = None
depends_on = None

COLUMNS = (("eu_ai_act", 20), ("high_risk_area", 40), ("gpai_role", 20), ("risk_tier", 10))


def upgrade() -> None:
    for name, length in COLUMNS:
        op.add_column("ai_systems", sa.Column(name, sa.String(length=length), server_default="", nullable=False))
    op.create_table(
        "obligation_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("framework", sa.String(length=40), nullable=False),
        sa.Column("obligation", sa.String(length=60), nullable=False),
        sa.Column("confirmed_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(length=254), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("document_url", sa.String(length=500), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"], name=op.f("fk_obligation_records_decision_id_decisions")),
        sa.ForeignKeyConstraint(["run_id"], ["evidence_runs.id"], name=op.f("fk_obligation_records_run_id_evidence_runs")),
        sa.ForeignKeyConstraint(["system_id"], ["ai_systems.id"], name=op.f("fk_obligation_records_system_id_ai_systems")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligation_records")),
        sa.UniqueConstraint("system_id", "framework", "obligation", name="uq_obligation_records_once"),
    )
    op.create_index(op.f("ix_obligation_records_system_id"), "obligation_records", ["system_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_obligation_records_system_id"), table_name="obligation_records")
    op.drop_table("obligation_records")
    for name, _length in reversed(COLUMNS):
        op.drop_column("ai_systems", name)  # ALTER TABLE … DROP COLUMN (SQLite 3.35+)
