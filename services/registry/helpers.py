"""Helpers (帮扶责任人), helping units, work teams, pairings (结对) and the contact log."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, func, select

from services.registry import events
from services.registry.domain.codes import NEEDS_HELPER, ContactKind, Rank, Status
from services.registry.domain.contacts import duty_on
from services.registry.domain.helpers import DEFAULT_LOADS, load_refusal, release_refusal
from services.registry.domain.regions import narrow_scope
from services.registry.models import Contact, Helper, HelperLoad, HelpingUnit, Household, Pairing, WorkTeam
from services.registry.regions import require_village
from services.registry.schemas import (
    ContactCreate,
    CoverageReport,
    CoverageRow,
    HelperCreate,
    HelpingUnitCreate,
    PairingCreate,
    PairingRelease,
    WorkTeamCreate,
)
from services.registry.service import get_household
from shared.auth import Principal
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.events.outbox import session_clock
from shared.identity import InvalidIdentifier, validate_mobile


def create_unit(session: Session, body: HelpingUnitCreate, principal: Principal) -> HelpingUnit:
    principal.require_region(body.region_code)
    unit = HelpingUnit(**body.model_dump())
    session.add(unit)
    session.flush()
    return unit


def create_helper(session: Session, body: HelperCreate, principal: Principal) -> Helper:
    principal.require_region(body.region_code)
    if body.unit_id and session.get(HelpingUnit, body.unit_id) is None:
        raise ValidationFailed(f"helping unit {body.unit_id} not found", field="unit_id")
    try:
        phone = validate_mobile(body.phone)
    except InvalidIdentifier as exc:
        raise ValidationFailed(str(exc), field="phone") from exc
    helper = Helper(**body.model_dump() | {"phone": phone}, created_at=session_clock(session).now())
    session.add(helper)
    session.flush()
    return helper


def get_helper(session: Session, helper_id: str, principal: Principal, *, field: str | None = None) -> Helper:
    helper = session.get(Helper, helper_id)
    if helper is None or not principal.covers(helper.region_code):
        if field:
            raise ValidationFailed(f"helper {helper_id} not found", field=field)
        raise NotFound(f"helper {helper_id} not found")
    return helper


def active_load(session: Session, helper_id: str) -> int:
    query = select(func.count()).where(Pairing.helper_id == helper_id, col(Pairing.end_date).is_(None))
    return session.exec(query).one()


def list_helpers(session: Session, principal: Principal, *, region: str | None) -> list[tuple[Helper, int]]:
    prefix = narrow_scope(scope=principal.region, requested=region)
    if prefix is None:
        return []
    helpers = session.exec(
        select(Helper).where(col(Helper.region_code).startswith(prefix)).order_by(col(Helper.name))
    ).all()
    return [(h, active_load(session, h.id)) for h in helpers]


def loads(session: Session) -> dict[Rank, int]:
    """Households per helper by rank: the configured figures over the defaults."""
    configured = {Rank(r.rank): r.max_households for r in session.exec(select(HelperLoad)).all()}
    return DEFAULT_LOADS | configured


def set_load(session: Session, rank: Rank, max_households: int) -> HelperLoad:
    row = session.get(HelperLoad, rank.value) or HelperLoad(rank=rank.value, max_households=max_households)
    row.max_households = max_households
    session.add(row)
    session.flush()
    return row


def create_work_team(session: Session, body: WorkTeamCreate, principal: Principal) -> WorkTeam:
    principal.require_region(body.village_code)
    require_village(session, body.village_code, field="village_code")
    for field in ("leader_id", "first_secretary_id"):
        helper_id = getattr(body, field)
        if helper_id:
            get_helper(session, helper_id, principal, field=field)
    team = WorkTeam(**body.model_dump())
    session.add(team)
    session.flush()
    return team


def pair(session: Session, body: PairingCreate, principal: Principal) -> Pairing:
    """Pair a helper with a household (结对), within the helper's load for their rank."""
    household = get_household(session, body.household_id, principal)
    helper = get_helper(session, body.helper_id, principal, field="helper_id")
    return _pair(session, helper, household, body.start_date)


def _pair(session: Session, helper: Helper, household: Household, start: date) -> Pairing:
    if body_exists := session.exec(
        select(Pairing.id).where(
            Pairing.helper_id == helper.id, Pairing.household_id == household.id, col(Pairing.end_date).is_(None)
        )
    ).first():
        raise Conflict(f"this helper already helps this household (pairing {body_exists})", field="helper_id")
    refusal = load_refusal(
        rank=Rank(helper.rank), active_pairings=active_load(session, helper.id), limits=loads(session)
    )
    if refusal:
        raise Conflict(refusal, field="helper_id")
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
    if body.end_date < pairing.start_date:
        raise ValidationFailed("a pairing cannot end before it started", field="end_date")
    refusal = release_refusal(status=Status(household.status), has_successor=body.successor_helper_id is not None)
    if refusal:
        raise Conflict(refusal, field="successor_helper_id")
    helper = session.get(Helper, pairing.helper_id)
    pairing.end_date = body.end_date
    pairing.end_reason = body.reason
    session.add(pairing)
    session.flush()
    if body.successor_helper_id:
        successor = get_helper(session, body.successor_helper_id, principal, field="successor_helper_id")
        _pair(session, successor, household, body.end_date)
    events.helper_released(session, pairing, helper.phone if helper else "")
    return pairing


def household_pairings(session: Session, household_id: str, principal: Principal) -> list[Pairing]:
    get_household(session, household_id, principal)
    query = select(Pairing).where(Pairing.household_id == household_id).order_by(col(Pairing.start_date))
    return list(session.exec(query).all())


def log_contact(session: Session, household_id: str, body: ContactCreate, principal: Principal) -> Contact:
    """A helper's visit, call or SMS to the household, for the monthly and quarterly duties."""
    get_household(session, household_id, principal)
    get_helper(session, body.helper_id, principal, field="helper_id")
    clock = session_clock(session)
    if body.contacted_on > clock.today():
        raise ValidationFailed("a contact cannot be logged in the future", field="contacted_on")
    contact = Contact(household_id=household_id, **body.model_dump(), recorded_at=clock.now())
    session.add(contact)
    session.flush()
    return contact


def list_contacts(session: Session, household_id: str, principal: Principal) -> list[Contact]:
    get_household(session, household_id, principal)
    query = select(Contact).where(Contact.household_id == household_id).order_by(col(Contact.contacted_on))
    return list(session.exec(query).all())


def coverage(session: Session, principal: Principal, *, region: str | None, day: date) -> CoverageReport:
    """Every household that needs a helper: is it paired, contacted this month, visited this quarter."""
    prefix = narrow_scope(scope=principal.region, requested=region)
    if prefix is None:
        return CoverageReport(as_of=day, households=0, without_helper=0, duties_met=0, rows=[])
    households = session.exec(
        select(Household)
        .where(
            col(Household.region_code).startswith(prefix),
            col(Household.status).in_([s.value for s in NEEDS_HELPER]),
            col(Household.dissolved_on).is_(None),
        )
        .order_by(col(Household.region_code), col(Household.hukou_number))
    ).all()
    ids = [h.id for h in households]
    helpers: dict[str, list[str]] = {}
    for household_id, helper_id in session.exec(
        select(Pairing.household_id, Pairing.helper_id).where(
            col(Pairing.household_id).in_(ids), col(Pairing.start_date) <= day, col(Pairing.end_date).is_(None)
        )
    ).all():
        helpers.setdefault(household_id, []).append(helper_id)
    contacts: dict[str, list[tuple[ContactKind, date]]] = {}
    for household_id, kind, when in session.exec(
        select(Contact.household_id, Contact.kind, Contact.contacted_on).where(col(Contact.household_id).in_(ids))
    ).all():
        contacts.setdefault(household_id, []).append((ContactKind(kind), when))
    rows = []
    for h in households:
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
        households=len(rows),
        without_helper=sum(not r.helper_ids for r in rows),
        duties_met=sum(r.contacted_this_month and r.visited_this_quarter for r in rows),
        rows=rows,
    )
