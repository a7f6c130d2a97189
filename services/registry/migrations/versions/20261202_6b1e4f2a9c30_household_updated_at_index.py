"""household updated_at index: the comparison's delta snapshot reads the households changed since a time

Revision ID: 6b1e4f2a9c30
Revises: 5052d5d698fd
Create Date: 2026-12-02 21:15:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '6b1e4f2a9c30'
down_revision: str | None = '5052d5d698fd'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_updated_at'))
