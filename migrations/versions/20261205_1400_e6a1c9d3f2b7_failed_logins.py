"""Failed log-ins per e-mail address (forum.auth.throttle): consecutive failures make the next
attempt on that address wait, and the account's owner sees them on the settings page.

Revision ID: e6a1c9d3f2b7
Revises: d4f8b2a6c1e3
Create Date: 2026-12-05 14:00:00
"""

import sqlalchemy as sa
from alembic import op

import forum.core.db

revision = 'e6a1c9d3f2b7'
down_revision = 'd4f8b2a6c1e3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failed_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_logins")),
    )
    op.create_index("ix_failed_logins_email_at", "failed_logins", ["email", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_failed_logins_email_at", table_name="failed_logins")
    op.drop_table("failed_logins")
