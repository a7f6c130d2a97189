"""first tables

Revision ID: 4c7f81888e0b
Revises: 
Create Date: 2026-11-23 19:25:44.839784
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import shared.db  # noqa: F401
from shared.events.tables import infra_v1_downgrade, infra_v1_upgrade


revision: str = '4c7f81888e0b'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    infra_v1_upgrade(op.get_bind())
    op.create_table('householdfile',
    sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('head_member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('registry_version', sa.Integer(), nullable=False),
    sa.Column('source_event_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('received_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('household_id', name=op.f('pk_householdfile'))
    )
    with op.batch_alter_table('householdfile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_householdfile_region_code'), ['region_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('householdfile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_householdfile_region_code'))

    op.drop_table('householdfile')
    infra_v1_downgrade(op.get_bind())
