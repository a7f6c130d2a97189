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
from shared.events.tables import create_infra_tables, drop_infra_tables


revision: str = '4de474252290'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_infra_tables(op.get_bind())


def downgrade() -> None:
    drop_infra_tables(op.get_bind())
