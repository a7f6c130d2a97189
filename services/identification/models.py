"""Identification tables."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.db import AwareDateTime, service_registry
from shared.events.tables import infra_tables


class IdentificationTable(SQLModel, registry=service_registry()):
    pass


INFRA = infra_tables(IdentificationTable.metadata)


class HouseholdFile(IdentificationTable, table=True):
    """Identification's read copy of a registered household: what a case is opened against."""

    household_id: str = Field(primary_key=True, max_length=36)
    region_code: str = Field(max_length=12, index=True)
    head_member_id: str = Field(max_length=36)
    member_count: int
    registry_version: int
    source_event_id: str = Field(max_length=36)
    received_at: datetime = Field(sa_type=AwareDateTime)  # type: ignore[call-overload]
