"""notice board lines, exit plans, stuck days (reports); sample seeds as big integers

Existing rows get defaults: notices published before keep empty board lines, rule sets a 30-day stuck limit.

Revision ID: 878a7497e602
Revises: 6556b5acd652
Create Date: 2026-12-02 03:36:16.598278
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import shared.db  # noqa: F401
import shared.events.tables  # noqa: F401


revision: str = '878a7497e602'
down_revision: str | None = '6556b5acd652'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('exitplan',
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('set_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('region_code', 'year', name=op.f('pk_exitplan'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))

    with op.batch_alter_table('noticeentry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('group_no', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('head_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('head_id_masked', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('member_count', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('sample', schema=None) as batch_op:
        batch_op.alter_column('seed', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)

    with op.batch_alter_table('ruleset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stuck_after_days', sa.Integer(), nullable=False, server_default='30'))



def downgrade() -> None:
    with op.batch_alter_table('ruleset', schema=None) as batch_op:
        batch_op.drop_column('stuck_after_days')

    with op.batch_alter_table('sample', schema=None) as batch_op:
        batch_op.alter_column('seed', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)

    with op.batch_alter_table('noticeentry', schema=None) as batch_op:
        batch_op.drop_column('member_count')
        batch_op.drop_column('head_id_masked')
        batch_op.drop_column('head_name')
        batch_op.drop_column('group_no')
        batch_op.drop_column('region_code')

    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('place')

    op.drop_table('exitplan')
