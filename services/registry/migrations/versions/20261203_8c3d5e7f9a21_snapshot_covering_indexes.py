"""snapshot covering indexes: the comparison's member snapshot reads every column it needs from two indexes

Revision ID: 8c3d5e7f9a21
Revises: 6b1e4f2a9c30
Create Date: 2026-12-03 06:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8c3d5e7f9a21"
down_revision: str | None = "6b1e4f2a9c30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.create_index("ix_household_snapshot", ["id", "region_code", "status", "registered_on"], unique=False)
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_snapshot", ["household_id", "id", "id_number", "active", "joined_on", "left_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index("ix_member_snapshot")
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_index("ix_household_snapshot")
