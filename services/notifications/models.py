"""Notification tables."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.db import AwareDateTime, service_registry
from shared.events.tables import infra_tables


class NotificationsTable(SQLModel, registry=service_registry()):
    pass


INFRA = infra_tables(NotificationsTable.metadata)


class HouseholdRecipient(NotificationsTable, table=True):
    """A household that may receive messages, learnt from the registry's events."""

    household_id: str = Field(primary_key=True, max_length=36)
    region_code: str = Field(max_length=12, index=True)
    head_member_id: str = Field(max_length=36)
    registered_event_id: str = Field(max_length=36)
    known_since: datetime = Field(sa_type=AwareDateTime)  # type: ignore[call-overload]
