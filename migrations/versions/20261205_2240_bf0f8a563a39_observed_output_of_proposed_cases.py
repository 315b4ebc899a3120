"""A proposed edge case keeps the answer a model gave when someone tried it (observed_output),
and a probe's answer the edge case it was turned into.

Revision ID: bf0f8a563a39
Revises: 60ddab4396d9
Create Date: 2026-12-05 22:40:05.333702
"""

import sqlalchemy as sa
from alembic import op

revision = 'bf0f8a563a39'
down_revision = '60ddab4396d9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('probe_answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_case_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_probe_answers_proposed_case_id_proposed_cases'), 'proposed_cases', ['proposed_case_id'], ['id'])

    with op.batch_alter_table('proposed_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('observed_output', sa.Text(), server_default='', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('proposed_cases', schema=None) as batch_op:
        batch_op.drop_column('observed_output')

    with op.batch_alter_table('probe_answers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_probe_answers_proposed_case_id_proposed_cases'), type_='foreignkey')
        batch_op.drop_column('proposed_case_id')

