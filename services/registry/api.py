"""Registry routes: parse, call one service function, return."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.registry import changes, helpers, incomes, service
from services.registry.disclosure import DisclosureDep, helper_public, household_public
from services.registry.domain.codes import Category, Cause, Rank, Status
from services.registry.schemas import (
    ChangeCreate,
    ChangePublic,
    ContactCreate,
    ContactPublic,
    CoverageReport,
    HelperCreate,
    HelperLoadPublic,
    HelperLoadSet,
    HelperPublic,
    HelpingUnitCreate,
    HelpingUnitPublic,
    HouseholdCreate,
    HouseholdPublic,
    HouseholdSummary,
    HouseholdUpdate,
    IncomeCreate,
    IncomePublic,
    PairingCreate,
    PairingPublic,
    PairingRelease,
    WorkTeamCreate,
    WorkTeamPublic,
)
from shared.auth import Principal, Role, require
from shared.deps import ClockDep, ReadSessionDep, SessionDep
from shared.idempotency import IdempotencyDep
from shared.pagination import MAX_LIMIT, Page

router = APIRouter(tags=["households"])
helper_router = APIRouter(tags=["helpers"])
Registrar = Annotated[Principal, Depends(require(Role.village_cadre, Role.county_office, Role.system))]
Manager = Annotated[Principal, Depends(require(Role.county_office, Role.township_reviewer, Role.system))]
Contactor = Annotated[
    Principal,
    Depends(require(Role.helper, Role.village_cadre, Role.township_reviewer, Role.county_office, Role.system)),
]
Reader = Annotated[Principal, Depends(require(*Role))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post("/households", status_code=201, response_model=HouseholdPublic)
def register_household(
    body: HouseholdCreate, session: SessionDep, principal: Registrar, idempotency: IdempotencyDep, show: DisclosureDep
) -> HouseholdPublic:
    """Register a household (建档立卡) with its members; 409 names a household that already holds an ID."""

    def act() -> HouseholdPublic:
        household = service.register_household(session, body, principal)
        return household_public(service.read_household(session, household.id, principal, as_of=None), show)

    return idempotency.run(session, act)


@router.get("/households", response_model=Page[HouseholdSummary])
def search_households(
    session: ReadSessionDep,
    principal: Reader,
    region: Annotated[str | None, Query(pattern=r"^\d{2,12}$", description="region code prefix")] = None,
    status: Status | None = None,
    cause: Annotated[Cause | None, Query(description="primary or secondary cause of poverty")] = None,
    category: Category | None = None,
    helper_id: str | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=60, description="part of a member's name")] = None,
    include_dissolved: bool = False,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[HouseholdSummary]:
    """Households in your region scope, masked, in village and hukou-number order."""
    filters = service.HouseholdFilters(region, status, cause, category, helper_id, q, include_dissolved)
    items, next_cursor = service.search_households(session, principal, filters, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/households/{household_id}", response_model=HouseholdPublic)
def get_household(
    household_id: str,
    session: ReadSessionDep,
    principal: Reader,
    show: DisclosureDep,
    as_of: Annotated[date | None, Query(description="what was true on this day")] = None,
) -> HouseholdPublic:
    """One household with its members; ``as_of`` gives the household as it stood on that day."""
    view = service.read_household(session, household_id, principal, as_of=as_of)
    show.audit(f"household/{household_id}", as_of=str(as_of) if as_of else None)
    return household_public(view, show)


@router.patch("/households/{household_id}", response_model=HouseholdPublic)
def update_household(
    household_id: str, body: HouseholdUpdate, session: SessionDep, principal: Registrar, show: DisclosureDep
) -> HouseholdPublic:
    """A versioned edit of household facts with its reason; membership changes go to ``/changes``."""
    service.update_household(session, household_id, body, principal)
    return household_public(service.read_household(session, household_id, principal, as_of=None), show)


@router.post("/households/{household_id}/changes", status_code=201, response_model=list[ChangePublic])
def record_change(
    household_id: str, body: ChangeCreate, session: SessionDep, principal: Registrar, idempotency: IdempotencyDep
) -> list[ChangePublic]:
    """A member change (birth, death, marriage, move, imprisonment, emigration, split, merge) with evidence."""

    def act() -> list[ChangePublic]:
        rows = changes.record_change(session, household_id, body, principal)
        return [ChangePublic.model_validate(r.model_dump()) for r in rows]

    return idempotency.run(session, act)


@router.get("/households/{household_id}/changes", response_model=list[ChangePublic])
def list_changes(household_id: str, session: ReadSessionDep, principal: Reader) -> list[ChangePublic]:
    return [ChangePublic.model_validate(r.model_dump()) for r in changes.list_changes(session, household_id, principal)]


@router.post("/households/{household_id}/incomes", status_code=201, response_model=IncomePublic)
def declare_income(household_id: str, body: IncomeCreate, session: SessionDep, principal: Registrar) -> IncomePublic:
    """One year's income by category; the per-capita net income (年人均纯收入) is computed."""
    return IncomePublic.model_validate(incomes.declare_income(session, household_id, body, principal).model_dump())


@router.get("/households/{household_id}/incomes", response_model=list[IncomePublic])
def list_incomes(household_id: str, session: ReadSessionDep, principal: Reader) -> list[IncomePublic]:
    return [IncomePublic.model_validate(r.model_dump()) for r in incomes.list_incomes(session, household_id, principal)]


@router.get("/households/{household_id}/pairings", response_model=list[PairingPublic])
def household_pairings(household_id: str, session: ReadSessionDep, principal: Reader) -> list[PairingPublic]:
    rows = helpers.household_pairings(session, household_id, principal)
    return [PairingPublic.model_validate(r.model_dump()) for r in rows]


@router.post("/households/{household_id}/contacts", status_code=201, response_model=ContactPublic)
def log_contact(household_id: str, body: ContactCreate, session: SessionDep, principal: Contactor) -> ContactPublic:
    """A helper's visit, call or SMS (走访 / 电话 / 短信)."""
    return ContactPublic.model_validate(helpers.log_contact(session, household_id, body, principal).model_dump())


@router.get("/households/{household_id}/contacts", response_model=list[ContactPublic])
def list_contacts(household_id: str, session: ReadSessionDep, principal: Reader) -> list[ContactPublic]:
    return [
        ContactPublic.model_validate(r.model_dump()) for r in helpers.list_contacts(session, household_id, principal)
    ]


@helper_router.post("/units", status_code=201, response_model=HelpingUnitPublic)
def create_unit(body: HelpingUnitCreate, session: SessionDep, principal: Manager) -> HelpingUnitPublic:
    """A helping unit (帮扶单位)."""
    return HelpingUnitPublic.model_validate(helpers.create_unit(session, body, principal).model_dump())


@helper_router.post("/helpers", status_code=201, response_model=HelperPublic)
def create_helper(body: HelperCreate, session: SessionDep, principal: Manager, show: DisclosureDep) -> HelperPublic:
    """A helper (帮扶责任人) with rank and phone."""
    return helper_public(helpers.create_helper(session, body, principal), 0, show)


@helper_router.get("/helpers", response_model=list[HelperPublic])
def list_helpers(
    session: ReadSessionDep,
    principal: Reader,
    show: DisclosureDep,
    region: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
) -> list[HelperPublic]:
    rows = helpers.list_helpers(session, principal, region=region)
    show.audit("helpers", region=region)
    return [helper_public(h, load, show) for h, load in rows]


@helper_router.get("/helper-loads", response_model=list[HelperLoadPublic])
def helper_loads(session: ReadSessionDep, principal: Reader) -> list[HelperLoadPublic]:
    """Households a helper may take, by rank (副县级 / 正科 / 副科 / 一般干部)."""
    return [HelperLoadPublic(rank=r, max_households=n) for r, n in helpers.loads(session).items()]


@helper_router.put("/helper-loads/{rank}", response_model=HelperLoadPublic)
def set_helper_load(
    rank: Rank,
    body: HelperLoadSet,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Role.county_office, Role.system))],
) -> HelperLoadPublic:
    row = helpers.set_load(session, rank, body.max_households)
    return HelperLoadPublic(rank=rank, max_households=row.max_households)


@helper_router.post("/work-teams", status_code=201, response_model=WorkTeamPublic)
def create_work_team(body: WorkTeamCreate, session: SessionDep, principal: Manager) -> WorkTeamPublic:
    """A village-resident work team (驻村工作队) and its first secretary (第一书记)."""
    return WorkTeamPublic.model_validate(helpers.create_work_team(session, body, principal).model_dump())


@helper_router.post("/pairings", status_code=201, response_model=PairingPublic)
def pair(body: PairingCreate, session: SessionDep, principal: Manager) -> PairingPublic:
    """Pair a helper with a household (结对), within the load for the helper's rank."""
    return PairingPublic.model_validate(helpers.pair(session, body, principal).model_dump())


@helper_router.post("/pairings/{pairing_id}/release", response_model=PairingPublic)
def release(pairing_id: str, body: PairingRelease, session: SessionDep, principal: Manager) -> PairingPublic:
    """End a pairing: on exit, or handing the household to a successor helper."""
    return PairingPublic.model_validate(helpers.release(session, pairing_id, body, principal).model_dump())


@helper_router.get("/contacts/coverage", response_model=CoverageReport)
def contact_coverage(
    session: ReadSessionDep,
    principal: Reader,
    clock: ClockDep,
    region: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    day: Annotated[date | None, Query(alias="as_of")] = None,
) -> CoverageReport:
    """Helper duties: each poor household paired, contacted this month, visited this quarter."""
    return helpers.coverage(session, principal, region=region, day=day or clock.today())
