"""Login sessions kept on the server (forum.auth.sessions): each login has a row, its cookies a
random key whose hash the row holds; logging out ends the row, so a copied cookie opens nothing.

Existing sessions (whose cookies held "<user id>:<session version>") no longer load: everyone
logs in once more after the upgrade. users.session_version, which those ids carried, goes.

Revision ID: d4f8b2a6c1e3
Revises: c7a3e5f1d829
Create Date: 2026-12-05 05:00:00
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = 'd4f8b2a6c1e3'
down_revision = 'c7a3e5f1d829'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", forum.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=30), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_login_sessions_key_hash")),
    )
    op.create_index(op.f("ix_login_sessions_user_id"), "login_sessions", ["user_id"], unique=False)
    op.drop_column("users", "session_version")  # ALTER TABLE … DROP COLUMN (SQLite 3.35+)


def downgrade() -> None:
    op.add_column("users", sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))
    op.drop_index(op.f("ix_login_sessions_user_id"), table_name="login_sessions")
    op.drop_table("login_sessions")
