"""Identification operations. Nothing here commits."""

from __future__ import annotations

from sqlmodel import Session

from services.identification.models import HouseholdFile
from shared.auth import Principal
from shared.errors import NotFound


def get_household_file(session: Session, household_id: str, principal: Principal) -> HouseholdFile:
    found = session.get(HouseholdFile, household_id)
    if found is None or not principal.covers(found.region_code):
        raise NotFound(f"household {household_id} is not known to identification")
    return found
