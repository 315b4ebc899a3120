"""Single sign-on (forum.auth.oidc): each account's identity at the provider, how each login was
made (and when a provider's login ends), the access requests of people the provider vouched for
but the forum did not let in, and the sign-in states already used.

Revision ID: f1b2c3d4e5a6
Revises: e6a1c9d3f2b7
Create Date: 2026-12-05 19:00:00
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = 'f1b2c3d4e5a6'
down_revision = 'e6a1c9d3f2b7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("identity_issuer", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("identity_subject", sa.String(length=255), nullable=True))
    op.create_index("uq_users_identity", "users", ["identity_issuer", "identity_subject"], unique=True)
    op.add_column("login_sessions", sa.Column("method", sa.String(length=20), server_default="password",
                                              nullable=False))
    op.add_column("login_sessions", sa.Column("expires_at", forum.core.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column("login_sessions", sa.Column("id_token", sa.Text(), nullable=True))
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", forum.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_how", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
        sa.UniqueConstraint("issuer", "subject", name="uq_access_requests_identity"),
    )
    op.create_index(op.f("ix_access_requests_closed_at"), "access_requests", ["closed_at"], unique=False)
    op.create_table(
        "used_sign_in_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_used_sign_in_states")),
    )
    op.create_index(op.f("ix_used_sign_in_states_used_at"), "used_sign_in_states", ["used_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_used_sign_in_states_used_at"), table_name="used_sign_in_states")
    op.drop_table("used_sign_in_states")
    op.drop_index(op.f("ix_access_requests_closed_at"), table_name="access_requests")
    op.drop_table("access_requests")
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: recreating users would break
    # the foreign keys that point at it.
    op.drop_column("login_sessions", "id_token")
    op.drop_column("login_sessions", "expires_at")
    op.drop_column("login_sessions", "method")
    op.drop_index("uq_users_identity", table_name="users")
    op.drop_column("users", "identity_subject")
    op.drop_column("users", "identity_issuer")
