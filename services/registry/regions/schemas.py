"""Request and response bodies of the region routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.text import Name


class RegionPublic(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None


class RegionDetail(RegionPublic):
    path: list[RegionPublic]
    children: list[RegionPublic] = Field(description="the first page of its children; GET /regions?parent= for all")


class RegionLoadResult(BaseModel):
    created: int
    updated: int


class VillagerGroupPublic(BaseModel):
    village_code: str
    number: int
    name: str


class GroupName(BaseModel):
    name: Name = Field(min_length=1, max_length=60)
