"""Helping units (帮扶单位) and village-resident work teams (驻村工作队): create, update, end, fetch, list."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from services.registry.domain.regions import narrow_scope
from services.registry.helpers import end_day, keyset_page, refuse_blank, serving_helper, serving_unit
from services.registry.models import Helper, HelpingUnit, WorkTeam
from services.registry.regions import require_village
from services.registry.schemas import End, HelpingUnitCreate, HelpingUnitUpdate, WorkTeamCreate, WorkTeamUpdate
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, NotFound
from shared.pagination import page_of


def create_unit(session: Session, body: HelpingUnitCreate, principal: Principal) -> HelpingUnit:
    principal.require_region(body.region_code)
    unit = HelpingUnit(**body.model_dump())
    session.add(unit)
    session.flush()
    return unit


def get_unit(session: Session, unit_id: str, principal: Principal) -> HelpingUnit:
    """A helping unit inside the caller's scope; outside it, as if it did not exist."""
    unit = session.get(HelpingUnit, unit_id)
    if unit is None or not principal.covers(unit.region_code):
        raise NotFound(f"helping unit {unit_id} not found")
    return unit


def update_unit(session: Session, unit_id: str, body: HelpingUnitUpdate, principal: Principal) -> HelpingUnit:
    """Rename a helping unit or move it to another region inside the caller's scope."""
    unit = get_unit(session, unit_id, principal)
    if unit.end_date is not None:
        raise Conflict(f"helping unit {unit_id} ended on {unit.end_date}")
    changes = body.model_dump(exclude_unset=True)
    refuse_blank(changes, ("name", "region_code"))
    if "region_code" in changes:
        principal.require_region(changes["region_code"])
    for name, value in changes.items():
        setattr(unit, name, value)
    session.add(unit)
    session.flush()
    return unit


def end_unit(session: Session, unit_id: str, body: End, principal: Principal) -> HelpingUnit:
    """A unit stops helping; its work teams must end and its helpers move to another unit first."""
    unit = get_unit(session, unit_id, principal)
    if unit.end_date is not None:
        raise Conflict(f"helping unit {unit_id} ended on {unit.end_date}")
    day = end_day(session, body)
    teams = session.exec(
        select(func.count()).where(WorkTeam.unit_id == unit.id, col(WorkTeam.end_date).is_(None))
    ).one()
    helpers = session.exec(select(func.count()).where(Helper.unit_id == unit.id, col(Helper.end_date).is_(None))).one()
    if teams or helpers:
        raise Conflict(
            f"helping unit {unit.name} still has {teams} active work teams and {helpers} active helpers: "
            "end the teams and move or end the helpers first",
            field="unit_id",
        )
    unit.end_date, unit.end_reason = day, body.reason
    session.add(unit)
    session.flush()
    return unit


def list_units(
    session: Session,
    principal: Principal,
    *,
    region: str | None,
    include_ended: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[HelpingUnit], str | None]:
    """Helping units inside the caller's scope, by name, a page at a time."""
    return _scoped_page(
        session,
        principal,
        HelpingUnit,
        region_column=col(HelpingUnit.region_code),
        sort=(col(HelpingUnit.name), col(HelpingUnit.id)),
        region=region,
        include_ended=include_ended,
        cursor=cursor,
        limit=limit,
    )


def _scoped_page(
    session: Session,
    principal: Principal,
    model: Any,
    *,
    region_column: Any,
    sort: tuple[Any, Any],
    region: str | None,
    include_ended: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    """Rows inside the caller's region scope (narrowed by ``region``), current ones unless asked, by ``sort``."""
    prefix = narrow_scope(scope=principal.region, requested=region)
    if prefix is None:
        return [], None
    query = select(model).where(region_column.startswith(prefix))
    if not include_ended:
        query = query.where(col(model.end_date).is_(None))
    rows = list(session.exec(keyset_page(query, sort, cursor, limit)))
    return page_of(rows, limit=limit, key=lambda row: [getattr(row, c.key) for c in sort])


def create_work_team(session: Session, body: WorkTeamCreate, principal: Principal) -> WorkTeam:
    principal.require_region(body.village_code)
    require_village(session, body.village_code, field="village_code")
    _team_people(session, body.model_dump(), principal, day=body.start_date)
    team = WorkTeam(**body.model_dump())
    session.add(team)
    session.flush()
    return team


def _team_people(session: Session, values: dict[str, Any], principal: Principal, *, day: date) -> None:
    """The unit, leader and first secretary (第一书记) named for a work team are known and still serving."""
    if values.get("unit_id"):
        serving_unit(session, values["unit_id"], day)
    for field in ("leader_id", "first_secretary_id"):
        if values.get(field):
            serving_helper(session, values[field], principal, field=field, day=day)


def get_work_team(session: Session, team_id: str, principal: Principal) -> WorkTeam:
    """A work team whose village is inside the caller's scope."""
    team = session.get(WorkTeam, team_id)
    if team is None or not principal.covers(team.village_code):
        raise NotFound(f"work team {team_id} not found")
    return team


def update_work_team(session: Session, team_id: str, body: WorkTeamUpdate, principal: Principal) -> WorkTeam:
    """Change a work team's unit, leader or first secretary (第一书记)."""
    team = get_work_team(session, team_id, principal)
    if team.end_date is not None:
        raise Conflict(f"work team {team_id} ended on {team.end_date}")
    changes = body.model_dump(exclude_unset=True)
    _team_people(session, changes, principal, day=session_clock(session).today())
    for name, value in changes.items():
        setattr(team, name, value)
    session.add(team)
    session.flush()
    return team


def end_work_team(session: Session, team_id: str, body: End, principal: Principal) -> WorkTeam:
    """A work team leaves the village (撤离), with the date and the reason."""
    team = get_work_team(session, team_id, principal)
    if team.end_date is not None:
        raise Conflict(f"work team {team_id} ended on {team.end_date}")
    team.end_date, team.end_reason = end_day(session, body, started=team.start_date), body.reason
    session.add(team)
    session.flush()
    return team


def list_work_teams(
    session: Session,
    principal: Principal,
    *,
    region: str | None,
    include_ended: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[WorkTeam], str | None]:
    """Work teams of the villages inside the caller's scope, by village, a page at a time."""
    return _scoped_page(
        session,
        principal,
        WorkTeam,
        region_column=col(WorkTeam.village_code),
        sort=(col(WorkTeam.village_code), col(WorkTeam.id)),
        region=region,
        include_ended=include_ended,
        cursor=cursor,
        limit=limit,
    )
