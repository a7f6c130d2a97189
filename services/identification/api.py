"""Identification routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.identification import service
from services.identification.schemas import HouseholdFilePublic
from shared.auth import Principal, Role, require
from shared.deps import ReadSessionDep

router = APIRouter(tags=["households"])
Reader = Annotated[Principal, Depends(require(*Role))]


@router.get("/households/{household_id}", response_model=HouseholdFilePublic)
def get_household_file(household_id: str, session: ReadSessionDep, principal: Reader) -> HouseholdFilePublic:
    """What identification knows of a registered household."""
    return HouseholdFilePublic.model_validate(
        service.get_household_file(session, household_id, principal), from_attributes=True
    )
