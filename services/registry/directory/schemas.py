"""Response bodies of the phone directory: one row per helper, one per household head."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class HelperPhone(BaseModel):
    """A helper (帮扶责任人) and the number to text; ``active`` is false once the helper has ended."""

    id: str
    region_code: str
    name: str
    unit_id: str | None
    phone: str | None
    active: bool
    changed_at: datetime


class HouseholdHeadPhone(BaseModel):
    """A household's head (户主) and the head's number (null when the registry has none)."""

    household_id: str
    member_id: str
    region_code: str
    name: str
    phone: str | None
    active: bool
    changed_at: datetime
