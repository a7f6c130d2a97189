"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class HouseholdRecipientPublic(BaseModel):
    household_id: str
    region_code: str
    head_member_id: str
    known_since: datetime
