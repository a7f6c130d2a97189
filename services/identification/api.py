"""Identification's read copy of registered households (what a case is opened against)."""

from __future__ import annotations

from fastapi import APIRouter

from services.identification.deps import Reader
from services.identification.models import HouseholdFile
from services.identification.schemas import HouseholdFilePublic
from shared.deps import ReadSessionDep
from shared.scope import get_in_scope

router = APIRouter(tags=["households"])


@router.get("/households/{household_id}", response_model=HouseholdFilePublic)
def get_household_file(household_id: str, session: ReadSessionDep, principal: Reader) -> HouseholdFilePublic:
    """What identification knows of a registered household."""
    found = get_in_scope(session, HouseholdFile, household_id, principal, what="household")
    return HouseholdFilePublic.model_validate(found, from_attributes=True)
