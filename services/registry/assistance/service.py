"""帮扶: helpers (帮扶责任人), helping units (帮扶单位), village work teams (驻村工作队), pairings (结对), the
contact log and the helper duties it shows. Nothing here commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import exists
from sqlmodel import Session, col, func, select

from services.registry import events
from services.registry.assistance.schemas import (
    ContactCreate,
    CoverageReport,
    CoverageRow,
    End,
    HelperCreate,
    HelperEnd,
    HelperUpdate,
    HelpingUnitCreate,
    HelpingUnitUpdate,
    PairingCreate,
    PairingRelease,
    WorkTeamCreate,
    WorkTeamUpdate,
)
from services.registry.domain.codes import NEEDS_HELPER, ContactKind, Rank, Status
from services.registry.domain.contacts import duty_on, duty_window
from services.registry.domain.dates import end_date, not_in_future, period_order
from services.registry.domain.helpers import (
    DEFAULT_LOADS,
    ended_refusal,
    load_refusal,
    rank_refusal,
    release_refusal,
)
from services.registry.domain.members import check_mobile
from services.registry.domain.updates import blank_refusals
from services.registry.households.service import get_household, paired_on
from services.registry.models import Contact, Helper, HelperLoad, HelpingUnit, Household, Pairing, WorkTeam
from services.registry.regions.service import require_village
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.pagination import NOT_OURS, PageParams, decode_cursor, page_of, paginate
from shared.refusals import refuse_if
from shared.scope import get_in_scope, in_scope, require_region


def end_day(session: Session, body: End, *, started: date | None = None) -> date:
    """The day a helper, unit or team ends, checked (``domain.dates.end_date``)."""
    refuse_if(end_date(end=body.end_date, today=session_clock(session).today(), started=started))
    return body.end_date


def serving_unit(session: Session, unit_id: str | None, day: date) -> None:
    """A unit a helper or work team is attached to: known, and not ended."""
    if unit_id is None:
        return
    unit = session.get(HelpingUnit, unit_id)
    if unit is None:
        raise ValidationFailed(f"helping unit {unit_id} not found", field="unit_id")
    refuse_if(
        ended_refusal(what=f"helping unit {unit.name}", end_date=unit.end_date, day=day, field="unit_id"), status=409
    )


# Helpers (帮扶责任人)


def create_helper(session: Session, body: HelperCreate, principal: Principal) -> Helper:
    require_region(principal, body.region_code)
    serving_unit(session, body.unit_id, session_clock(session).today())
    helper = Helper(
        **body.model_dump() | {"phone": check_mobile(body.phone, field="phone")},
        created_at=session_clock(session).now(),
    )
    session.add(helper)
    session.flush()
    return helper


def get_helper(session: Session, helper_id: str, principal: Principal, *, field: str | None = None) -> Helper:
    """A helper inside the caller's scope; 404 outside it, or a 422 on ``field`` when the body named them."""
    try:
        return get_in_scope(session, Helper, helper_id, principal, what="helper")
    except NotFound as exc:
        if field:
            raise ValidationFailed(exc.detail, field=field) from exc
        raise


def serving_helper(session: Session, helper_id: str, principal: Principal, *, field: str, day: date) -> Helper:
    """A helper who can take on work from ``day``: in scope and not ended."""
    helper = get_helper(session, helper_id, principal, field=field)
    refuse_if(ended_refusal(what=f"helper {helper.name}", end_date=helper.end_date, day=day, field=field), status=409)
    return helper


def active_load(session: Session, helper_id: str) -> int:
    query = select(func.count()).where(Pairing.helper_id == helper_id, col(Pairing.end_date).is_(None))
    return session.exec(query).one()


def read_helper(session: Session, helper_id: str, principal: Principal) -> tuple[Helper, int]:
    """One helper inside the caller's scope, with the households they help now."""
    helper = get_helper(session, helper_id, principal)
    return helper, active_load(session, helper.id)


def list_helpers(
    session: Session, principal: Principal, page: PageParams, *, region: str | None, include_ended: bool = False
) -> tuple[list[tuple[Helper, int]], str | None]:
    """Helpers inside the caller's scope by name, each with their active pairings, a page at a time."""
    query = _current(select(Helper).where(in_scope(col(Helper.region_code), principal, region)), Helper, include_ended)
    helpers, next_cursor = paginate(session, query, order=[col(Helper.name), col(Helper.id)], page=page)
    loads_now = dict(
        session.exec(
            select(Pairing.helper_id, func.count())
            .where(col(Pairing.helper_id).in_([h.id for h in helpers]), col(Pairing.end_date).is_(None))
            .group_by(col(Pairing.helper_id))
        ).all()
    )
    return [(h, loads_now.get(h.id, 0)) for h in helpers], next_cursor


def _current(query: Any, model: Any, include_ended: bool) -> Any:
    """Only the helpers, units or teams still serving, unless the ended ones are asked for too."""
    return query if include_ended else query.where(col(model.end_date).is_(None))


def update_helper(session: Session, helper_id: str, body: HelperUpdate, principal: Principal) -> Helper:
    """Correct a helper's name, unit, rank, phone or region; a lower rank must still carry their households."""
    helper = get_helper(session, helper_id, principal)
    if helper.end_date is not None:
        raise Conflict(f"helper {helper.name} ended on {helper.end_date}")
    changes = body.model_dump(exclude_unset=True)
    refuse_if(blank_refusals(changes=changes, required=("name", "rank", "phone", "region_code")))
    if changes.get("unit_id"):
        serving_unit(session, changes["unit_id"], session_clock(session).today())
    if "rank" in changes:
        load = active_load(session, helper.id)
        refuse_if(rank_refusal(rank=Rank(changes["rank"]), active_pairings=load, limits=loads(session)), status=409)
    if "phone" in changes:
        changes["phone"] = check_mobile(changes["phone"], field="phone")
    if "region_code" in changes:
        require_region(principal, changes["region_code"])
    for name, value in changes.items():
        setattr(helper, name, value)
    helper.updated_at = session_clock(session).now()
    session.add(helper)
    session.flush()
    return helper


def end_helper(session: Session, helper_id: str, body: HelperEnd, principal: Principal) -> Helper:
    """A helper leaves (调岗, retirement): their pairings end, and households still poor go to the successor.

    不脱贫不脱钩: without a successor, a helper who still helps a household that has not exited cannot end.
    """
    helper = get_helper(session, helper_id, principal)
    if helper.end_date is not None:
        raise Conflict(f"helper {helper.name} ended on {helper.end_date}")
    day = end_day(session, body)
    successor = None
    if body.successor_helper_id:
        if body.successor_helper_id == helper.id:
            raise ValidationFailed("a helper cannot succeed themselves", field="successor_helper_id")
        successor = serving_helper(session, body.successor_helper_id, principal, field="successor_helper_id", day=day)
    open_pairings = session.exec(
        select(Pairing, Household)
        .join(Household, col(Household.id) == Pairing.household_id)
        .where(Pairing.helper_id == helper.id, col(Pairing.end_date).is_(None))
    ).all()
    held = [h.id for _, h in open_pairings if release_refusal(status=Status(h.status), has_successor=False)]
    if held and successor is None:
        raise Conflict(
            f"helper {helper.name} still helps {len(held)} households that have not exited "
            f"({', '.join(held)}): name a successor helper",
            field="successor_helper_id",
        )
    for pairing, household in open_pairings:
        _end_pairing(
            session,
            pairing,
            household,
            end_date=day,
            reason=body.reason,
            successor=successor if household.id in held else None,
        )
    helper.end_date, helper.end_reason = day, body.reason
    helper.updated_at = session_clock(session).now()
    session.add(helper)
    session.flush()
    return helper


def loads(session: Session) -> dict[Rank, int]:
    """Households per helper by rank: the configured figures over the defaults."""
    configured = {Rank(r.rank): r.max_households for r in session.exec(select(HelperLoad)).all()}
    return DEFAULT_LOADS | configured


def loads_page(session: Session, page: PageParams) -> tuple[list[tuple[Rank, int]], str | None]:
    """The loads by rank, highest rank first, a page at a time (one row per rank: the list is bounded by them)."""
    ranks = list(DEFAULT_LOADS)
    start = 0
    key = decode_cursor(page.cursor)
    if key is not None:
        if len(key) != 1 or key[0] not in ranks:
            raise ValidationFailed(NOT_OURS, field="cursor")
        start = ranks.index(Rank(key[0])) + 1
    by_rank = loads(session)
    rows = [(rank, by_rank[rank]) for rank in ranks[start : start + page.limit + 1]]
    return page_of(rows, limit=page.limit, key=lambda row: [row[0].value])


def set_load(session: Session, rank: Rank, max_households: int) -> HelperLoad:
    row = session.get(HelperLoad, rank.value) or HelperLoad(rank=rank.value, max_households=max_households)
    row.max_households = max_households
    session.add(row)
    session.flush()
    return row


# Helping units (帮扶单位) and village work teams (驻村工作队)


def create_unit(session: Session, body: HelpingUnitCreate, principal: Principal) -> HelpingUnit:
    require_region(principal, body.region_code)
    unit = HelpingUnit(**body.model_dump())
    session.add(unit)
    session.flush()
    return unit


def get_unit(session: Session, unit_id: str, principal: Principal) -> HelpingUnit:
    """A helping unit inside the caller's scope; outside it, as if it did not exist."""
    return get_in_scope(session, HelpingUnit, unit_id, principal, what="helping unit")


def update_unit(session: Session, unit_id: str, body: HelpingUnitUpdate, principal: Principal) -> HelpingUnit:
    """Rename a helping unit or move it to another region inside the caller's scope."""
    unit = get_unit(session, unit_id, principal)
    if unit.end_date is not None:
        raise Conflict(f"helping unit {unit_id} ended on {unit.end_date}")
    changes = body.model_dump(exclude_unset=True)
    refuse_if(blank_refusals(changes=changes, required=("name", "region_code")))
    if "region_code" in changes:
        require_region(principal, changes["region_code"])
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
    session: Session, principal: Principal, page: PageParams, *, region: str | None, include_ended: bool
) -> tuple[list[HelpingUnit], str | None]:
    """Helping units inside the caller's scope, by name, a page at a time."""
    query = select(HelpingUnit).where(in_scope(col(HelpingUnit.region_code), principal, region))
    order = [col(HelpingUnit.name), col(HelpingUnit.id)]
    return paginate(session, _current(query, HelpingUnit, include_ended), order=order, page=page)


def create_work_team(session: Session, body: WorkTeamCreate, principal: Principal) -> WorkTeam:
    require_region(principal, body.village_code)
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
    return get_in_scope(session, WorkTeam, team_id, principal, region_attr="village_code", what="work team")


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
    session: Session, principal: Principal, page: PageParams, *, region: str | None, include_ended: bool
) -> tuple[list[WorkTeam], str | None]:
    """Work teams of the villages inside the caller's scope, by village, a page at a time."""
    query = select(WorkTeam).where(in_scope(col(WorkTeam.village_code), principal, region))
    order = [col(WorkTeam.village_code), col(WorkTeam.id)]
    return paginate(session, _current(query, WorkTeam, include_ended), order=order, page=page)


# Pairings (结对)


def pair(session: Session, body: PairingCreate, principal: Principal) -> Pairing:
    """Pair a helper with a household (结对), within the helper's load for their rank."""
    household = get_household(session, body.household_id, principal)
    helper = serving_helper(session, body.helper_id, principal, field="helper_id", day=body.start_date)
    return _pair(session, helper, household, body.start_date)


def _pair(session: Session, helper: Helper, household: Household, start: date) -> Pairing:
    if body_exists := session.exec(
        select(Pairing.id).where(
            Pairing.helper_id == helper.id, Pairing.household_id == household.id, col(Pairing.end_date).is_(None)
        )
    ).first():
        raise Conflict(f"this helper already helps this household (pairing {body_exists})", field="helper_id")
    load = active_load(session, helper.id)
    refuse_if(load_refusal(rank=Rank(helper.rank), active_pairings=load, limits=loads(session)), status=409)
    pairing = Pairing(helper_id=helper.id, household_id=household.id, start_date=start)
    session.add(pairing)
    session.flush()
    events.helper_assigned(session, pairing, helper.phone)
    return pairing


def release(session: Session, pairing_id: str, body: PairingRelease, principal: Principal) -> Pairing:
    """End a pairing: when the household has exited, or by handing it to a successor (不脱贫不脱钩)."""
    pairing = session.get(Pairing, pairing_id)
    if pairing is None:
        raise NotFound(f"pairing {pairing_id} not found")
    household = get_household(session, pairing.household_id, principal)
    if pairing.end_date is not None:
        raise Conflict(f"pairing {pairing_id} ended on {pairing.end_date}")
    has_successor = body.successor_helper_id is not None
    refuse_if(release_refusal(status=Status(household.status), has_successor=has_successor), status=409)
    successor = None
    if body.successor_helper_id:
        successor = serving_helper(
            session, body.successor_helper_id, principal, field="successor_helper_id", day=body.end_date
        )
    return _end_pairing(session, pairing, household, end_date=body.end_date, reason=body.reason, successor=successor)


def _end_pairing(
    session: Session, pairing: Pairing, household: Household, *, end_date: date, reason: str, successor: Helper | None
) -> Pairing:
    refuse_if(period_order(start=pairing.start_date, end=end_date, field="end_date", what="a pairing"))
    helper = session.get(Helper, pairing.helper_id)
    pairing.end_date = end_date
    pairing.end_reason = reason
    session.add(pairing)
    session.flush()
    if successor is not None:
        _pair(session, successor, household, end_date)
    events.helper_released(session, pairing, helper.phone if helper else "")
    return pairing


def household_pairings(
    session: Session, household_id: str, principal: Principal, page: PageParams
) -> tuple[list[Pairing], str | None]:
    """The household's pairings, current and ended, by start date."""
    get_household(session, household_id, principal)
    query = select(Pairing).where(Pairing.household_id == household_id)
    return paginate(session, query, order=[col(Pairing.start_date), col(Pairing.id)], page=page)


# Contacts (走访 / 电话 / 短信) and the duties they meet


def log_contact(session: Session, household_id: str, body: ContactCreate, principal: Principal) -> Contact:
    """A helper's visit, call or SMS to the household, for the monthly and quarterly duties."""
    get_household(session, household_id, principal)
    clock = session_clock(session)
    refuse_if(not_in_future(day=body.contacted_on, today=clock.today(), field="contacted_on", what="contact date"))
    serving_helper(session, body.helper_id, principal, field="helper_id", day=body.contacted_on)
    contact = Contact(household_id=household_id, **body.model_dump(), recorded_at=clock.now())
    session.add(contact)
    session.flush()
    return contact


def list_contacts(
    session: Session, household_id: str, principal: Principal, page: PageParams
) -> tuple[list[Contact], str | None]:
    """The household's contact log by day."""
    get_household(session, household_id, principal)
    query = select(Contact).where(Contact.household_id == household_id)
    return paginate(session, query, order=[col(Contact.contacted_on), col(Contact.id)], page=page)


def coverage(
    session: Session, principal: Principal, page: PageParams, *, region: str | None, day: date
) -> CoverageReport:
    """Every household that needs a helper: is it paired, contacted this month, visited this quarter.

    The totals are counted in the database over the whole scope; the rows are one page. No query lists the
    scope's households by id, so a county of any size is one statement each.
    """
    window = duty_window(day)
    needing = (
        in_scope(col(Household.region_code), principal, region),
        col(Household.status).in_([s.value for s in NEEDS_HELPER]),
        col(Household.dissolved_on).is_(None),
    )
    paired = exists().where(col(Pairing.household_id) == Household.id, paired_on(day))
    seen = (col(Contact.household_id) == Household.id, col(Contact.contacted_on) <= day)
    contacted = exists().where(*seen, col(Contact.contacted_on) >= window.month_start)
    visited = exists().where(
        *seen, col(Contact.kind) == ContactKind.visit.value, col(Contact.contacted_on) >= window.quarter_start
    )
    households, without_helper, duties_met = session.exec(
        select(
            func.count(),
            func.count().filter(~paired),
            func.count().filter(contacted & visited),
        ).where(*needing)
    ).one()
    order = [col(Household.region_code), col(Household.hukou_number)]
    page_rows, next_cursor = paginate(session, select(Household).where(*needing), order=order, page=page)
    ids = [h.id for h in page_rows]
    helpers: dict[str, list[str]] = {}
    for household_id, helper_id in session.exec(
        select(Pairing.household_id, Pairing.helper_id)
        .where(col(Pairing.household_id).in_(ids), paired_on(day))
        .order_by(col(Pairing.start_date), col(Pairing.id))
    ).all():
        helpers.setdefault(household_id, []).append(helper_id)
    contacts: dict[str, list[tuple[ContactKind, date]]] = {}
    for household_id, kind, when in session.exec(
        select(col(Contact.household_id), col(Contact.kind), col(Contact.contacted_on)).where(
            col(Contact.household_id).in_(ids), col(Contact.contacted_on) >= window.quarter_start
        )
    ).all():
        contacts.setdefault(household_id, []).append((ContactKind(kind), when))
    rows = []
    for h in page_rows:
        duty = duty_on(contacts=contacts.get(h.id, []), day=day)
        rows.append(
            CoverageRow(
                household_id=h.id,
                hukou_number=h.hukou_number,
                region_code=h.region_code,
                helper_ids=helpers.get(h.id, []),
                contacted_this_month=duty.contacted_this_month,
                visited_this_quarter=duty.visited_this_quarter,
            )
        )
    return CoverageReport(
        as_of=day,
        households=households,
        without_helper=without_helper,
        duties_met=duties_met,
        items=rows,
        next_cursor=next_cursor,
    )
