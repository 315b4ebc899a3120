"""The register's groups of items still to bring into it, counted as items change
(``register_groups``: forum.register.grouping), and an index on the grouped vendor and model of
the items outside the register: the grouping page read every item still to group (28,938 of
100,026 items: 77 ms on SQLite, 62 ms on PostgreSQL, each time an item changed); it now reads
one page of counts and finds each shown group's newest and oldest item in the index. The counts
are filled from the items here.

The index is on expressions (lower(trim(vendor)), lower(trim(model_name)), id) and partial
(system_id IS NULL): it is built here only, the models' comparison leaves it out by name
(forum.migrate.include_name).

Revision ID: a3b4c5d6e7f8
Revises: f2a3b4c5d6e7
Create Date: 2026-12-07 19:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'a3b4c5d6e7f8'
down_revision = 'f2a3b4c5d6e7'
branch_labels = None
depends_on = None

INDEX = "ix_decision_items_to_group"


def upgrade() -> None:
    op.create_table(
        'register_groups',
        sa.Column('model_key', sa.String(length=120), nullable=False),
        sa.Column('vendor_key', sa.String(length=120), nullable=False),
        sa.Column('items', sa.Integer(), nullable=False),
        sa.Column('decided', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('model_key', 'vendor_key', name=op.f('pk_register_groups')),
    )
    op.execute(
        "INSERT INTO register_groups (vendor_key, model_key, items, decided) "
        "SELECT lower(trim(vendor)), lower(trim(model_name)), count(*), "
        "sum(CASE WHEN status = 'decided' THEN 1 ELSE 0 END) FROM decision_items "
        "WHERE system_id IS NULL AND status NOT IN ('draft', 'closed') AND trim(model_name) != '' "
        "GROUP BY lower(trim(vendor)), lower(trim(model_name))"
    )
    op.execute(f"CREATE INDEX {INDEX} ON decision_items "
               "(lower(trim(vendor)), lower(trim(model_name)), id) WHERE system_id IS NULL")


def downgrade() -> None:
    op.execute(f"DROP INDEX {INDEX}")
    op.drop_table('register_groups')
