"""The items a person takes part in, newest first, from their own rows: indexes on (person, item)
for ratings, positions and comments, and on (filer, id) for the items they filed. The home page
walks each newest first and stops at what it shows, instead of collecting all of them.

Revision ID: a1b2c3d4e5f6
Revises: f0a1b2c3d4e5
Create Date: 2026-12-06 06:10:00
"""

from alembic import op

revision = 'a1b2c3d4e5f6'
down_revision = 'f0a1b2c3d4e5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_weight_ratings_rater_item', 'weight_ratings', ['rater_id', 'item_id'], unique=False)
    op.create_index('ix_positions_author_item', 'positions', ['author_id', 'item_id'], unique=False)
    op.create_index('ix_comments_author_item', 'comments', ['author_id', 'item_id'], unique=False)
    op.create_index('ix_decision_items_filer_id', 'decision_items', ['filer_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_decision_items_filer_id', table_name='decision_items')
    op.drop_index('ix_comments_author_item', table_name='comments')
    op.drop_index('ix_positions_author_item', table_name='positions')
    op.drop_index('ix_weight_ratings_rater_item', table_name='weight_ratings')
