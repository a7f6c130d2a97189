"""Registry tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Field, SQLModel

from shared.db import AwareDateTime, service_registry
from shared.events.tables import infra_tables


class RegistryTable(SQLModel, registry=service_registry()):
    pass


INFRA = infra_tables(RegistryTable.metadata)


def new_id() -> str:
    return str(uuid.uuid4())


class Household(RegistryTable, table=True):
    """A registered household (户), the unit of identification and help."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    hukou_number: str = Field(max_length=40, unique=True)
    region_code: str = Field(max_length=12, index=True)
    group_no: int | None = None
    address: str = Field(max_length=200)
    head_member_id: str = Field(max_length=36)
    version: int = 1
    created_at: datetime = Field(sa_type=AwareDateTime)  # type: ignore[call-overload]


class Member(RegistryTable, table=True):
    """A member of a household (家庭成员)."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    household_id: str = Field(foreign_key="household.id", index=True, max_length=36)
    name: str = Field(max_length=60)
    id_number: str = Field(max_length=18, index=True)
    relation: str = Field(max_length=20)
    sex: str = Field(max_length=6)
    birth_date: date
    active: bool = True
