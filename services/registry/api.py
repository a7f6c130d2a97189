"""Registry routes: parse, call one service function, return."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from services.registry import changes, helpers, incomes, members, service, teams
from services.registry.disclosure import (
    helper_public,
    household_public,
    member_version_public,
    one_member_public,
)
from services.registry.domain.codes import Category, Cause, Rank, Status
from services.registry.schemas import (
    ChangeCreate,
    ChangePublic,
    ContactCreate,
    ContactPublic,
    CoverageReport,
    End,
    HelperCreate,
    HelperEnd,
    HelperLoadPublic,
    HelperLoadSet,
    HelperPublic,
    HelperUpdate,
    HelpingUnitCreate,
    HelpingUnitPublic,
    HelpingUnitUpdate,
    HouseholdCreate,
    HouseholdPublic,
    HouseholdSummary,
    HouseholdUpdate,
    HouseholdVersionPublic,
    IncomeCreate,
    IncomePublic,
    MemberDetailsUpdate,
    MemberPublic,
    MemberVersionPublic,
    PairingCreate,
    PairingPublic,
    PairingRelease,
    WorkTeamCreate,
    WorkTeamPublic,
    WorkTeamUpdate,
)
from shared.auth import Principal, Role, require
from shared.db import Database
from shared.deps import ClockDep, ReadSessionDep, SessionDep
from shared.disclosure import Disclosure, DisclosureDep, Reader
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
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
RegionPrefix = Annotated[str | None, Query(pattern=r"^\d{2,12}$", description="region code prefix")]


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
    without_helper: Annotated[bool, Query(description="only households that need a helper and have none")] = False,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[HouseholdSummary]:
    """Households in your region scope, masked, in village and hukou-number order."""
    filters = service.HouseholdFilters(region, status, cause, category, helper_id, q, include_dissolved, without_helper)
    items, next_cursor = service.search_households(session, principal, filters, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/households/{household_id}", response_model=HouseholdPublic)
async def get_household(
    household_id: str,
    request: Request,
    principal: Reader,
    show: DisclosureDep,
    as_of: Annotated[date | None, Query(description="what was true on this day")] = None,
) -> HouseholdPublic:
    """One household with its members; ``as_of`` gives the household as it stood on that day."""
    # The registry's hottest read makes one trip to the thread pool: a ReadSessionDep costs two more (open,
    # close) and a sync handler one more (checking the response). The session opens and closes in that trip.
    return await run_in_threadpool(_read_household, request.app.state.db, household_id, principal, show, as_of)


def _read_household(
    db: Database, household_id: str, principal: Principal, show: Disclosure, as_of: date | None
) -> HouseholdPublic:
    with db.reader() as session:
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


@router.get("/households/{household_id}/versions", response_model=list[HouseholdVersionPublic])
def household_versions(household_id: str, session: ReadSessionDep, principal: Reader) -> list[HouseholdVersionPublic]:
    """Earlier versions of the household: who replaced each (a user, or an identification event), why and when."""
    rows = service.household_versions(session, household_id, principal)
    return [HouseholdVersionPublic.model_validate(r.model_dump() | {"status": r.snapshot.get("status")}) for r in rows]


@router.patch("/households/{household_id}/members/{member_id}", response_model=MemberPublic)
def edit_member_details(
    household_id: str,
    member_id: str,
    body: MemberDetailsUpdate,
    session: SessionDep,
    principal: Registrar,
    show: DisclosureDep,
) -> MemberPublic:
    """A versioned edit of a member's health, schooling, work, phone or flags, with its reason."""
    member = members.edit_details(session, household_id, member_id, body, principal)
    return one_member_public(member.model_dump(), show)


@router.get("/households/{household_id}/members/{member_id}/versions", response_model=list[MemberVersionPublic])
def member_versions(
    household_id: str, member_id: str, session: ReadSessionDep, principal: Reader, show: DisclosureDep
) -> list[MemberVersionPublic]:
    """A member's earlier details, each with who replaced them, why and when."""
    rows = members.list_versions(session, household_id, member_id, principal)
    show.audit(f"household/{household_id}/member/{member_id}/versions")
    return [member_version_public(r, show) for r in rows]


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
    return HelpingUnitPublic.model_validate(teams.create_unit(session, body, principal).model_dump())


@helper_router.get("/units", response_model=Page[HelpingUnitPublic])
def list_units(
    session: ReadSessionDep,
    principal: Reader,
    region: RegionPrefix = None,
    include_ended: bool = False,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[HelpingUnitPublic]:
    """Helping units in your region scope, by name."""
    rows, next_cursor = teams.list_units(
        session, principal, region=region, include_ended=include_ended, cursor=cursor, limit=limit
    )
    return Page(items=[HelpingUnitPublic.model_validate(u.model_dump()) for u in rows], next_cursor=next_cursor)


@helper_router.get("/units/{unit_id}", response_model=HelpingUnitPublic)
def get_unit(unit_id: str, session: ReadSessionDep, principal: Reader) -> HelpingUnitPublic:
    return HelpingUnitPublic.model_validate(teams.get_unit(session, unit_id, principal).model_dump())


@helper_router.patch("/units/{unit_id}", response_model=HelpingUnitPublic)
def update_unit(unit_id: str, body: HelpingUnitUpdate, session: SessionDep, principal: Manager) -> HelpingUnitPublic:
    return HelpingUnitPublic.model_validate(teams.update_unit(session, unit_id, body, principal).model_dump())


@helper_router.post("/units/{unit_id}/end", response_model=HelpingUnitPublic)
def end_unit(unit_id: str, body: End, session: SessionDep, principal: Manager) -> HelpingUnitPublic:
    """The unit stops helping; its work teams must have ended and its helpers moved or ended."""
    return HelpingUnitPublic.model_validate(teams.end_unit(session, unit_id, body, principal).model_dump())


@helper_router.post("/helpers", status_code=201, response_model=HelperPublic)
def create_helper(body: HelperCreate, session: SessionDep, principal: Manager, show: DisclosureDep) -> HelperPublic:
    """A helper (帮扶责任人) with rank and phone."""
    return helper_public(helpers.create_helper(session, body, principal), 0, show)


@helper_router.get("/helpers", response_model=list[HelperPublic])
def list_helpers(
    session: ReadSessionDep,
    principal: Reader,
    show: DisclosureDep,
    region: RegionPrefix = None,
    include_ended: bool = False,
) -> list[HelperPublic]:
    rows = helpers.list_helpers(session, principal, region=region, include_ended=include_ended)
    show.audit("helpers", region=region)
    return [helper_public(h, load, show) for h, load in rows]


@helper_router.get("/helpers/{helper_id}", response_model=HelperPublic)
def get_helper(helper_id: str, session: ReadSessionDep, principal: Reader, show: DisclosureDep) -> HelperPublic:
    """One helper with the number of households they help now."""
    helper, load = helpers.read_helper(session, helper_id, principal)
    show.audit(f"helper/{helper_id}")
    return helper_public(helper, load, show)


@helper_router.patch("/helpers/{helper_id}", response_model=HelperPublic)
def update_helper(
    helper_id: str, body: HelperUpdate, session: SessionDep, principal: Manager, show: DisclosureDep
) -> HelperPublic:
    """Correct a helper's name, unit, rank, phone or region."""
    helper = helpers.update_helper(session, helper_id, body, principal)
    return helper_public(helper, helpers.active_load(session, helper.id), show)


@helper_router.post("/helpers/{helper_id}/end", response_model=HelperPublic)
def end_helper(
    helper_id: str, body: HelperEnd, session: SessionDep, principal: Manager, show: DisclosureDep
) -> HelperPublic:
    """A helper leaves: their pairings end, and the households still poor go to ``successor_helper_id``."""
    return helper_public(helpers.end_helper(session, helper_id, body, principal), 0, show)


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
    return WorkTeamPublic.model_validate(teams.create_work_team(session, body, principal).model_dump())


@helper_router.get("/work-teams", response_model=Page[WorkTeamPublic])
def list_work_teams(
    session: ReadSessionDep,
    principal: Reader,
    region: RegionPrefix = None,
    include_ended: bool = False,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[WorkTeamPublic]:
    """Work teams of the villages in your region scope, by village."""
    rows, next_cursor = teams.list_work_teams(
        session, principal, region=region, include_ended=include_ended, cursor=cursor, limit=limit
    )
    return Page(items=[WorkTeamPublic.model_validate(t.model_dump()) for t in rows], next_cursor=next_cursor)


@helper_router.get("/work-teams/{team_id}", response_model=WorkTeamPublic)
def get_work_team(team_id: str, session: ReadSessionDep, principal: Reader) -> WorkTeamPublic:
    return WorkTeamPublic.model_validate(teams.get_work_team(session, team_id, principal).model_dump())


@helper_router.patch("/work-teams/{team_id}", response_model=WorkTeamPublic)
def update_work_team(team_id: str, body: WorkTeamUpdate, session: SessionDep, principal: Manager) -> WorkTeamPublic:
    """Change the team's unit, leader or first secretary (第一书记)."""
    return WorkTeamPublic.model_validate(teams.update_work_team(session, team_id, body, principal).model_dump())


@helper_router.post("/work-teams/{team_id}/end", response_model=WorkTeamPublic)
def end_work_team(team_id: str, body: End, session: SessionDep, principal: Manager) -> WorkTeamPublic:
    """The team leaves the village (撤离), with the date and reason."""
    return WorkTeamPublic.model_validate(teams.end_work_team(session, team_id, body, principal).model_dump())


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
    region: RegionPrefix = None,
    day: Annotated[date | None, Query(alias="as_of")] = None,
) -> CoverageReport:
    """Helper duties: each poor household paired, contacted this month, visited this quarter."""
    return helpers.coverage(session, principal, region=region, day=day or clock.today())
