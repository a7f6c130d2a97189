"""Notification routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.notifications import service
from services.notifications.schemas import HouseholdRecipientPublic
from shared.auth import Principal, Role, require
from shared.deps import ReadSessionDep

router = APIRouter(tags=["recipients"])
Reader = Annotated[Principal, Depends(require(Role.county_office, Role.township_reviewer, Role.system))]


@router.get("/recipients", response_model=list[HouseholdRecipientPublic])
def list_recipients(
    session: ReadSessionDep,
    principal: Reader,
    region: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[HouseholdRecipientPublic]:
    """Households that can be messaged, inside the caller's region."""
    rows = service.list_recipients(session, principal, region=region, limit=limit)
    return [HouseholdRecipientPublic.model_validate(r, from_attributes=True) for r in rows]
