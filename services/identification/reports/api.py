"""Reports (报表) as of a date, inside your region scope; lists are paginated."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query

from services.identification.cases.schemas import CaseKind
from services.identification.deps import Reader, RegistryDep
from services.identification.reports import service
from services.identification.reports.schemas import (
    AgainstAdvice,
    ExitRow,
    IncidenceRow,
    StepSummary,
    WaitingCase,
)
from shared.clock import session_clock
from shared.deps import ReadSessionDep
from shared.pagination import Page, PageDep
from shared.scope import RegionParam

router = APIRouter(prefix="/reports", tags=["reports"])
AsOf = Annotated[date | None, Query(description="the day the report describes; today when absent")]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="the plan year; the as_of year when absent")]


class IncidenceLevel(StrEnum):
    village = "village"
    township = "township"


def _day(session: ReadSessionDep, as_of: date | None) -> date:
    return as_of or session_clock(session).today()


@router.get("/incidence", response_model=Page[IncidenceRow])
def incidence(
    session: ReadSessionDep,
    principal: Reader,
    registry: RegistryDep,
    page: PageDep,
    level: IncidenceLevel = IncidenceLevel.village,
    region: RegionParam = None,
    as_of: AsOf = None,
) -> Page[IncidenceRow]:
    """贫困发生率 by village or township: registered poor people over the agricultural population entered."""
    run = service.incidence_by_village if level is IncidenceLevel.village else service.incidence_by_township
    rows, cursor = run(session, principal, registry, region=region, as_of=_day(session, as_of), page=page)
    return Page(items=rows, next_cursor=cursor)


@router.get("/cases-by-step", response_model=StepSummary)
def cases_by_step(
    session: ReadSessionDep,
    principal: Reader,
    region: RegionParam = None,
    kind: CaseKind | None = None,
    as_of: AsOf = None,
) -> StepSummary:
    """Running cases per step (due, or held by a notice) on the day, and the longest wait at each."""
    kind_value = kind.value if kind else None
    return service.cases_by_step(session, principal, region=region, kind=kind_value, as_of=_day(session, as_of))


@router.get("/waiting", response_model=Page[WaitingCase])
def waiting(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    kind: CaseKind | None = None,
    as_of: AsOf = None,
    min_days: Annotated[int, Query(ge=0, le=3650, description="only cases waiting at least this long")] = 0,
) -> Page[WaitingCase]:
    """Each running case with the step it waits at and for how many days."""
    rows, cursor = service.waiting_cases(
        session,
        principal,
        region=region,
        kind=kind.value if kind else None,
        as_of=_day(session, as_of),
        min_days=min_days,
        page=page,
    )
    return Page(items=rows, next_cursor=cursor)


@router.get("/stuck", response_model=Page[WaitingCase])
def stuck(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    as_of: AsOf = None,
    days: Annotated[int | None, Query(ge=1, le=3650, description="default: the rule set's stuck_after_days")] = None,
) -> Page[WaitingCase]:
    """Households whose case has waited at one step longer than the configured number of days (长期滞留)."""
    day = _day(session, as_of)
    limit = days or service.stuck_days(session, principal, region, day.year)
    rows, cursor = service.waiting_cases(
        session, principal, region=region, kind=None, as_of=day, min_days=limit + 1, page=page
    )
    return Page(items=rows, next_cursor=cursor)


@router.get("/exits", response_model=Page[ExitRow])
def exits(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    year: Year = None,
    as_of: AsOf = None,
) -> Page[ExitRow]:
    """脱贫计划 against 已脱贫 per village for a year, as of a day."""
    day = _day(session, as_of)
    rows, cursor = service.exits(session, principal, region=region, year=year or day.year, as_of=day, page=page)
    return Page(items=rows, next_cursor=cursor)


@router.get("/decisions-against-advice", response_model=Page[AgainstAdvice])
def decisions_against_advice(
    session: ReadSessionDep, principal: Reader, page: PageDep, region: RegionParam = None, as_of: AsOf = None
) -> Page[AgainstAdvice]:
    """Decisions taken against the rule engine's advice, with their written justification."""
    rows, cursor = service.against_advice(session, principal, region=region, as_of=_day(session, as_of), page=page)
    return Page(items=rows, next_cursor=cursor)
