"""Funds tables."""

from __future__ import annotations

from sqlmodel import SQLModel

from shared.db import service_registry
from shared.events.tables import infra_tables


class FundsTable(SQLModel, registry=service_registry()):
    pass


INFRA = infra_tables(FundsTable.metadata)
