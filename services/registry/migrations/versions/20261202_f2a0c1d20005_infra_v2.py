"""infra v2: partial index on unsent outbox rows, periodic job runs

Revision ID: f2a0c1d20005
Revises: a95b61309575
Create Date: 2026-12-02 04:00:00
"""
from collections.abc import Sequence

from alembic import op

from shared.events.tables import infra_v2_downgrade, infra_v2_upgrade

revision: str = 'f2a0c1d20005'
down_revision: str | None = 'a95b61309575'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    infra_v2_upgrade(op.get_bind())


def downgrade() -> None:
    infra_v2_downgrade(op.get_bind())
