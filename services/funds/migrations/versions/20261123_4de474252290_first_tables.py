"""first tables

Revision ID: 4de474252290
Revises: 
Create Date: 2026-11-23 19:25:47.563816
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import shared.db  # noqa: F401
from shared.events.tables import infra_v1_downgrade, infra_v1_upgrade


revision: str = '4de474252290'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    infra_v1_upgrade(op.get_bind())


def downgrade() -> None:
    infra_v1_downgrade(op.get_bind())
