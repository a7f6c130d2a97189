"""Registry routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.registry import service
from services.registry.models import Household, Member
from services.registry.schemas import HouseholdCreate, HouseholdPublic, MemberPublic
from shared.auth import Principal, Role, require
from shared.deps import ReadSessionDep, SessionDep
from shared.idempotency import IdempotencyDep
from shared.masking import mask_resident_id

router = APIRouter(tags=["households"])
Registrar = Annotated[Principal, Depends(require(Role.village_cadre, Role.county_office, Role.system))]
Reader = Annotated[Principal, Depends(require(*Role))]
SEES_IDS = (Role.county_office, Role.township_reviewer, Role.system)


def to_public(household: Household, members: list[Member], principal: Principal) -> HouseholdPublic:
    show = principal.has(*SEES_IDS)
    return HouseholdPublic(
        **household.model_dump(exclude={"created_at"}),
        members=[
            MemberPublic(
                **m.model_dump(exclude={"household_id"})
                | {"id_number": m.id_number if show else mask_resident_id(m.id_number)}
            )
            for m in members
        ],
    )


@router.post("/households", status_code=201, response_model=HouseholdPublic)
def register_household(
    body: HouseholdCreate, session: SessionDep, principal: Registrar, idempotency: IdempotencyDep
) -> HouseholdPublic:
    def act() -> HouseholdPublic:
        household = service.register_household(session, body, principal)
        return to_public(*service.get_household(session, household.id, principal), principal)

    return idempotency.run(session, act)


@router.get("/households/{household_id}", response_model=HouseholdPublic)
def get_household(household_id: str, session: ReadSessionDep, principal: Reader) -> HouseholdPublic:
    return to_public(*service.get_household(session, household_id, principal), principal)
