"""Items say whether the last meeting that took them up sent them back (deferred, more evidence
needed): ``carried_forward``, kept by the lifecycle from now on. An index on (status, carried
forward first, updated_at, id) gives the meeting page's picker of escalated items a page at a time
in order, instead of asking every escalated item for its latest entry's decision.

Existing items are marked from their history: the latest entry with a decision, and that
decision's outcome (an amendment keeps an outcome on the same side, so any revision tells).

Revision ID: d4e5f6a7b8c9
Revises: c3d4e5f6a7b8
Create Date: 2026-12-06 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'd4e5f6a7b8c9'
down_revision = 'c3d4e5f6a7b8'
branch_labels = None
depends_on = None

RETURNING = ("deferred", "more_evidence_needed")


def upgrade() -> None:
    op.add_column("decision_items", sa.Column("carried_forward", sa.Boolean(), server_default=sa.false(),
                                              nullable=False))
    items = sa.table("decision_items", sa.column("id"), sa.column("carried_forward"))
    entries = sa.table("agenda_entries", sa.column("id"), sa.column("item_id"))
    decisions = sa.table("decisions", sa.column("entry_id"), sa.column("outcome"))
    taken_up = decisions.alias("taken_up")
    decided = sa.select(sa.func.max(entries.c.id)).join(taken_up, taken_up.c.entry_id == entries.c.id) \
        .where(entries.c.item_id == items.c.id).correlate(items).scalar_subquery()
    returned = sa.select(decisions.c.entry_id).where(decisions.c.entry_id == decided,
                                                     decisions.c.outcome.in_(RETURNING)).exists()
    op.execute(items.update().where(returned).values(carried_forward=sa.true()))
    op.create_index("ix_decision_items_queue", "decision_items",
                    ["status", sa.text("carried_forward DESC"), "updated_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_decision_items_queue", table_name="decision_items")
    op.drop_column("decision_items", "carried_forward")
