"""the demo county's regions (普安县 522323): province, city, county, 14 townships, 96 villages

Revision ID: 7d1e2a9c4b10
Revises: 4685c86074cb
Create Date: 2026-11-23 20:00:00
"""
import csv
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from services.registry.domain.regions import parse_region_code

revision: str = '7d1e2a9c4b10'
down_revision: str | None = '4685c86074cb'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEMO = Path(__file__).resolve().parents[2] / "data" / "regions_522323.csv"
region = sa.table(
    "region", sa.column("code", sa.String), sa.column("name", sa.String),
    sa.column("level", sa.String), sa.column("parent_code", sa.String),
)


def demo_rows() -> list[dict[str, str | None]]:
    with DEMO.open(encoding="utf-8") as fh:
        codes = [(parse_region_code(row["code"]), row["name"]) for row in csv.DictReader(fh)]
    return [{"code": c.code, "name": n, "level": c.level.value, "parent_code": c.parent_code} for c, n in codes]


def upgrade() -> None:
    op.bulk_insert(region, demo_rows())


def downgrade() -> None:
    op.execute(region.delete().where(region.c.code.in_([r["code"] for r in demo_rows()])))
