"""Request and response bodies of the registry API."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

Relation = Literal["head", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "other"]


class MemberCreate(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    id_number: str = Field(min_length=15, max_length=18, description="18-digit resident ID (居民身份证号)")
    relation: Relation
    sex: Literal["male", "female"] | None = None
    birth_date: date | None = None


class HouseholdCreate(BaseModel):
    hukou_number: str = Field(min_length=1, max_length=40, description="户口簿编号")
    region_code: str = Field(pattern=r"^\d{12}$", description="12-digit village division code")
    group_no: int | None = Field(default=None, ge=1, le=99, description="villager group (村民小组)")
    address: str = Field(min_length=1, max_length=200)
    members: list[MemberCreate] = Field(min_length=1)


class MemberPublic(BaseModel):
    id: str
    name: str
    id_number: str
    relation: str
    sex: str
    birth_date: date
    active: bool


class HouseholdPublic(BaseModel):
    id: str
    hukou_number: str
    region_code: str
    group_no: int | None
    address: str
    head_member_id: str
    version: int
    members: list[MemberPublic]
