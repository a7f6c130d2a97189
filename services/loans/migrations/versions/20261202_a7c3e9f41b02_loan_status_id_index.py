"""loan (status, id) index: the nightly job walks active loans in id order, a batch at a time

Revision ID: a7c3e9f41b02
Revises: e1ccd140b673
Create Date: 2026-12-02 20:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'a7c3e9f41b02'
down_revision: str | None = 'e1ccd140b673'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.create_index('ix_loan_status_id', ['status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_status_id')
