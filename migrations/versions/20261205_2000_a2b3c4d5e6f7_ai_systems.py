"""The register of AI systems (forum.systems): systems, their versions, and the system each item
is about.

Revision ID: a2b3c4d5e6f7
Revises: f1b2c3d4e5a6
Create Date: 2026-12-05 20:00:00
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = 'a2b3c4d5e6f7'
down_revision = 'f1b2c3d4e5a6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_systems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("vendor", sa.String(length=120), nullable=False),
        sa.Column("model_name", sa.String(length=120), nullable=False),
        sa.Column("version_in_use", sa.String(length=80), nullable=False),
        sa.Column("owner_function_key", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("intended_use", sa.Text(), nullable=False),
        sa.Column("personal_data", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("special_categories", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('evaluating', 'pilot', 'production', 'retired')",
                           name=op.f("ck_ai_systems_status_known")),
        sa.ForeignKeyConstraint(["owner_function_key"], ["org_functions.key"],
                                name=op.f("fk_ai_systems_owner_function_key_org_functions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_systems")),
        sa.UniqueConstraint("name", name=op.f("uq_ai_systems_name")),
    )
    op.create_index(op.f("ix_ai_systems_owner_function_key"), "ai_systems", ["owner_function_key"], unique=False)
    op.create_table(
        "system_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=254), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["system_id"], ["ai_systems.id"], name=op.f("fk_system_versions_system_id_ai_systems")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_versions")),
    )
    op.create_index(op.f("ix_system_versions_system_id"), "system_versions", ["system_id"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes a foreign key on a new nullable column in ALTER TABLE … ADD COLUMN (Alembic
        # would copy the whole table instead); the statement is a constant.
        op.execute("ALTER TABLE decision_items ADD COLUMN system_id INTEGER "
                   "CONSTRAINT fk_decision_items_system_id_ai_systems REFERENCES ai_systems (id)")
    else:
        op.add_column("decision_items", sa.Column(
            "system_id", sa.Integer(),
            sa.ForeignKey("ai_systems.id", name=op.f("fk_decision_items_system_id_ai_systems")), nullable=True))
    op.create_index(op.f("ix_decision_items_system_id"), "decision_items", ["system_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_decision_items_system_id"), table_name="decision_items")
    if op.get_bind().dialect.name != "sqlite":  # SQLite drops the column with its constraint
        op.drop_constraint(op.f("fk_decision_items_system_id_ai_systems"), "decision_items", type_="foreignkey")
    op.drop_column("decision_items", "system_id")  # ALTER TABLE … DROP COLUMN (SQLite 3.35+)
    op.drop_index(op.f("ix_system_versions_system_id"), table_name="system_versions")
    op.drop_table("system_versions")
    op.drop_index(op.f("ix_ai_systems_owner_function_key"), table_name="ai_systems")
    op.drop_table("ai_systems")
