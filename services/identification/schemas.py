"""Request and response bodies of the identification API."""

from __future__ import annotations

from pydantic import BaseModel


class HouseholdFilePublic(BaseModel):
    household_id: str
    region_code: str
    head_member_id: str
    member_count: int
    registry_version: int
