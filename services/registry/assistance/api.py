"""帮扶 routes: helping units, helpers and their loads, work teams, pairings, contacts and contact coverage."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.registry.assistance import service
from services.registry.assistance.schemas import (
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
    PairingCreate,
    PairingPublic,
    PairingRelease,
    WorkTeamCreate,
    WorkTeamPublic,
    WorkTeamUpdate,
)
from services.registry.domain.codes import Rank
from services.registry.models import Helper
from shared.auth import Principal, Role, require
from shared.deps import ClockDep, ReadSessionDep, SessionDep
from shared.disclosure import Disclosure, DisclosureDep, Reader
from shared.pagination import Page, PageDep
from shared.scope import RegionParam

router = APIRouter(tags=["helpers"])
Manager = Annotated[Principal, Depends(require(Role.county_office, Role.township_reviewer, Role.system))]
Contactor = Annotated[
    Principal,
    Depends(require(Role.helper, Role.village_cadre, Role.township_reviewer, Role.county_office, Role.system)),
]


def _helper_public(helper: Helper, load: int, show: Disclosure) -> HelperPublic:
    data = helper.model_dump() | {"phone": show.phone(helper.phone), "active_pairings": load}
    return HelperPublic.model_validate(data)


@router.post("/units", status_code=201, response_model=HelpingUnitPublic)
def create_unit(body: HelpingUnitCreate, session: SessionDep, principal: Manager) -> HelpingUnitPublic:
    """A helping unit (帮扶单位)."""
    return HelpingUnitPublic.model_validate(service.create_unit(session, body, principal).model_dump())


@router.get("/units", response_model=Page[HelpingUnitPublic])
def list_units(
    session: ReadSessionDep, principal: Reader, page: PageDep, region: RegionParam = None, include_ended: bool = False
) -> Page[HelpingUnitPublic]:
    """Helping units in your region scope, by name."""
    rows, next_cursor = service.list_units(session, principal, page, region=region, include_ended=include_ended)
    return Page(items=[HelpingUnitPublic.model_validate(u.model_dump()) for u in rows], next_cursor=next_cursor)


@router.get("/units/{unit_id}", response_model=HelpingUnitPublic)
def get_unit(unit_id: str, session: ReadSessionDep, principal: Reader) -> HelpingUnitPublic:
    return HelpingUnitPublic.model_validate(service.get_unit(session, unit_id, principal).model_dump())


@router.patch("/units/{unit_id}", response_model=HelpingUnitPublic)
def update_unit(unit_id: str, body: HelpingUnitUpdate, session: SessionDep, principal: Manager) -> HelpingUnitPublic:
    return HelpingUnitPublic.model_validate(service.update_unit(session, unit_id, body, principal).model_dump())


@router.post("/units/{unit_id}/end", response_model=HelpingUnitPublic)
def end_unit(unit_id: str, body: End, session: SessionDep, principal: Manager) -> HelpingUnitPublic:
    """The unit stops helping; its work teams must have ended and its helpers moved or ended."""
    return HelpingUnitPublic.model_validate(service.end_unit(session, unit_id, body, principal).model_dump())


@router.post("/helpers", status_code=201, response_model=HelperPublic)
def create_helper(body: HelperCreate, session: SessionDep, principal: Manager, show: DisclosureDep) -> HelperPublic:
    """A helper (帮扶责任人) with rank and phone."""
    return _helper_public(service.create_helper(session, body, principal), 0, show)


@router.get("/helpers", response_model=Page[HelperPublic])
def list_helpers(
    session: ReadSessionDep,
    principal: Reader,
    show: DisclosureDep,
    page: PageDep,
    region: RegionParam = None,
    include_ended: bool = False,
) -> Page[HelperPublic]:
    """Helpers in your region scope by name, each with the number of households they help now."""
    rows, next_cursor = service.list_helpers(session, principal, page, region=region, include_ended=include_ended)
    show.audit("helpers", region=region)
    return Page(items=[_helper_public(h, load, show) for h, load in rows], next_cursor=next_cursor)


@router.get("/helpers/{helper_id}", response_model=HelperPublic)
def get_helper(helper_id: str, session: ReadSessionDep, principal: Reader, show: DisclosureDep) -> HelperPublic:
    """One helper with the number of households they help now."""
    helper, load = service.read_helper(session, helper_id, principal)
    show.audit(f"helper/{helper_id}")
    return _helper_public(helper, load, show)


@router.patch("/helpers/{helper_id}", response_model=HelperPublic)
def update_helper(
    helper_id: str, body: HelperUpdate, session: SessionDep, principal: Manager, show: DisclosureDep
) -> HelperPublic:
    """Correct a helper's name, unit, rank, phone or region."""
    helper = service.update_helper(session, helper_id, body, principal)
    return _helper_public(helper, service.active_load(session, helper.id), show)


@router.post("/helpers/{helper_id}/end", response_model=HelperPublic)
def end_helper(
    helper_id: str, body: HelperEnd, session: SessionDep, principal: Manager, show: DisclosureDep
) -> HelperPublic:
    """A helper leaves: their pairings end, and the households still poor go to ``successor_helper_id``."""
    return _helper_public(service.end_helper(session, helper_id, body, principal), 0, show)


@router.get("/helper-loads", response_model=Page[HelperLoadPublic])
def helper_loads(session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[HelperLoadPublic]:
    """Households a helper may take, by rank (副县级 / 正科 / 副科 / 一般干部)."""
    rows, next_cursor = service.loads_page(session, page)
    return Page(items=[HelperLoadPublic(rank=r, max_households=n) for r, n in rows], next_cursor=next_cursor)


@router.put("/helper-loads/{rank}", response_model=HelperLoadPublic)
def set_helper_load(
    rank: Rank,
    body: HelperLoadSet,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Role.county_office, Role.system))],
) -> HelperLoadPublic:
    row = service.set_load(session, rank, body.max_households)
    return HelperLoadPublic(rank=rank, max_households=row.max_households)


@router.post("/work-teams", status_code=201, response_model=WorkTeamPublic)
def create_work_team(body: WorkTeamCreate, session: SessionDep, principal: Manager) -> WorkTeamPublic:
    """A village-resident work team (驻村工作队) and its first secretary (第一书记)."""
    return WorkTeamPublic.model_validate(service.create_work_team(session, body, principal).model_dump())


@router.get("/work-teams", response_model=Page[WorkTeamPublic])
def list_work_teams(
    session: ReadSessionDep, principal: Reader, page: PageDep, region: RegionParam = None, include_ended: bool = False
) -> Page[WorkTeamPublic]:
    """Work teams of the villages in your region scope, by village."""
    rows, next_cursor = service.list_work_teams(session, principal, page, region=region, include_ended=include_ended)
    return Page(items=[WorkTeamPublic.model_validate(t.model_dump()) for t in rows], next_cursor=next_cursor)


@router.get("/work-teams/{team_id}", response_model=WorkTeamPublic)
def get_work_team(team_id: str, session: ReadSessionDep, principal: Reader) -> WorkTeamPublic:
    return WorkTeamPublic.model_validate(service.get_work_team(session, team_id, principal).model_dump())


@router.patch("/work-teams/{team_id}", response_model=WorkTeamPublic)
def update_work_team(team_id: str, body: WorkTeamUpdate, session: SessionDep, principal: Manager) -> WorkTeamPublic:
    """Change the team's unit, leader or first secretary (第一书记)."""
    return WorkTeamPublic.model_validate(service.update_work_team(session, team_id, body, principal).model_dump())


@router.post("/work-teams/{team_id}/end", response_model=WorkTeamPublic)
def end_work_team(team_id: str, body: End, session: SessionDep, principal: Manager) -> WorkTeamPublic:
    """The team leaves the village (撤离), with the date and reason."""
    return WorkTeamPublic.model_validate(service.end_work_team(session, team_id, body, principal).model_dump())


@router.post("/pairings", status_code=201, response_model=PairingPublic)
def pair(body: PairingCreate, session: SessionDep, principal: Manager) -> PairingPublic:
    """Pair a helper with a household (结对), within the load for the helper's rank."""
    return PairingPublic.model_validate(service.pair(session, body, principal).model_dump())


@router.post("/pairings/{pairing_id}/release", response_model=PairingPublic)
def release(pairing_id: str, body: PairingRelease, session: SessionDep, principal: Manager) -> PairingPublic:
    """End a pairing: on exit, or handing the household to a successor helper."""
    return PairingPublic.model_validate(service.release(session, pairing_id, body, principal).model_dump())


@router.get("/households/{household_id}/pairings", response_model=Page[PairingPublic])
def household_pairings(
    household_id: str, session: ReadSessionDep, principal: Reader, page: PageDep
) -> Page[PairingPublic]:
    """The household's pairings, current and ended, by start date."""
    rows, next_cursor = service.household_pairings(session, household_id, principal, page)
    return Page(items=[PairingPublic.model_validate(r.model_dump()) for r in rows], next_cursor=next_cursor)


@router.post("/households/{household_id}/contacts", status_code=201, response_model=ContactPublic)
def log_contact(household_id: str, body: ContactCreate, session: SessionDep, principal: Contactor) -> ContactPublic:
    """A helper's visit, call or SMS (走访 / 电话 / 短信)."""
    return ContactPublic.model_validate(service.log_contact(session, household_id, body, principal).model_dump())


@router.get("/households/{household_id}/contacts", response_model=Page[ContactPublic])
def list_contacts(household_id: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[ContactPublic]:
    """The household's contact log, by day."""
    rows, next_cursor = service.list_contacts(session, household_id, principal, page)
    return Page(items=[ContactPublic.model_validate(r.model_dump()) for r in rows], next_cursor=next_cursor)


@router.get("/contacts/coverage", response_model=CoverageReport)
def contact_coverage(
    session: ReadSessionDep,
    principal: Reader,
    clock: ClockDep,
    page: PageDep,
    region: RegionParam = None,
    day: Annotated[date | None, Query(alias="as_of")] = None,
) -> CoverageReport:
    """Helper duties: each poor household paired, contacted this month, visited this quarter (totals for the
    whole scope, rows a page at a time)."""
    return service.coverage(session, principal, page, region=region, day=day or clock.today())
