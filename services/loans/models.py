"""Loans tables."""

from __future__ import annotations

from sqlmodel import SQLModel

from shared.db import service_registry
from shared.events.tables import infra_tables


class LoansTable(SQLModel, registry=service_registry()):
    pass


INFRA = infra_tables(LoansTable.metadata)
