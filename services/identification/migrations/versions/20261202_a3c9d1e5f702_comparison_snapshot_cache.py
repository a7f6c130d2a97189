"""comparison snapshot cache

Revision ID: a3c9d1e5f702
Revises: 919afb9745a8
Create Date: 2026-12-02 20:55:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import shared.db  # noqa: F401


revision: str = 'a3c9d1e5f702'
down_revision: str | None = '919afb9745a8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('snapshotcache',
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('watermark', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('region_code', name=op.f('pk_snapshotcache'))
    )
    with op.batch_alter_table('comparisonbatch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('full', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('snapshot', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('snapshot_rows', sa.BigInteger(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('comparisonbatch', schema=None) as batch_op:
        batch_op.drop_column('snapshot_rows')
        batch_op.drop_column('snapshot')
        batch_op.drop_column('full')
    op.drop_table('snapshotcache')
