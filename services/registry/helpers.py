"""Helpers (帮扶责任人), helping units, work teams, pairings (结对) and the contact log."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, func, select

from services.registry import events
from services.registry.domain.codes import NEEDS_HELPER, ContactKind, Rank, Status
from services.registry.domain.contacts import duty_on
from services.registry.domain.helpers import (
    DEFAULT_LOADS,
    ended_refusal,
    load_refusal,
    rank_refusal,
    release_refusal,
)
from services.registry.domain.regions import narrow_scope
from services.registry.models import Contact, Helper, HelperLoad, HelpingUnit, Household, Pairing
from services.registry.schemas import (
    ContactCreate,
    CoverageReport,
    CoverageRow,
    End,
    HelperCreate,
    HelperEnd,
    HelperUpdate,
    PairingCreate,
    PairingRelease,
)
from services.registry.service import get_household, paired_on
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.identity import InvalidIdentifier, validate_mobile
from shared.pagination import decode_cursor


def keyset_page(query: Any, columns: tuple[Any, Any], cursor: str | None, limit: int) -> Any:
    """Keyset pagination on two sort columns, as the household list does: the cursor holds the last key."""
    key = decode_cursor(cursor)
    if key is not None:
        if len(key) != 2 or not all(isinstance(k, str) for k in key):
            raise ValidationFailed("not a cursor this list handed out", field="cursor")
        first, second = columns
        query = query.where(or_(first > key[0], and_(first == key[0], second > key[1])))
    return query.order_by(*columns).limit(limit + 1)


def refuse_blank(changes: dict[str, Any], required: tuple[str, ...]) -> None:
    """A partial update may leave a field out, never blank one that is always there."""
    for name in required:
        if name in changes and changes[name] is None:
            raise ValidationFailed(f"{name} cannot be blank", field=name)


def end_day(session: Session, body: End, *, started: date | None = None) -> date:
    """The day a helper, unit or team ends: not in the future, not before it started."""
    if body.end_date > session_clock(session).today():
        raise ValidationFailed(f"end date {body.end_date} is in the future", field="end_date")
    if started is not None and body.end_date < started:
        raise ValidationFailed(f"it cannot end before it started ({started})", field="end_date")
    return body.end_date


def serving_unit(session: Session, unit_id: str | None, day: date) -> None:
    """A unit a helper or work team is attached to: known, and not ended."""
    if unit_id is None:
        return
    unit = session.get(HelpingUnit, unit_id)
    if unit is None:
        raise ValidationFailed(f"helping unit {unit_id} not found", field="unit_id")
    refusal = ended_refusal(what=f"helping unit {unit.name}", end_date=unit.end_date, day=day)
    if refusal:
        raise Conflict(refusal, field="unit_id")


def create_helper(session: Session, body: HelperCreate, principal: Principal) -> Helper:
    principal.require_region(body.region_code)
    serving_unit(session, body.unit_id, session_clock(session).today())
    helper = Helper(
        **body.model_dump() | {"phone": _mobile(body.phone)},
        created_at=session_clock(session).now(),
    )
    session.add(helper)
    session.flush()
    return helper


def _mobile(value: str) -> str:
    try:
        return validate_mobile(value)
    except InvalidIdentifier as exc:
        raise ValidationFailed(str(exc), field="phone") from exc


def get_helper(session: Session, helper_id: str, principal: Principal, *, field: str | None = None) -> Helper:
    helper = session.get(Helper, helper_id)
    if helper is None or not principal.covers(helper.region_code):
        if field:
            raise ValidationFailed(f"helper {helper_id} not found", field=field)
        raise NotFound(f"helper {helper_id} not found")
    return helper


def serving_helper(session: Session, helper_id: str, principal: Principal, *, field: str, day: date) -> Helper:
    """A helper who can take on work from ``day``: in scope and not ended."""
    helper = get_helper(session, helper_id, principal, field=field)
    refusal = ended_refusal(what=f"helper {helper.name}", end_date=helper.end_date, day=day)
    if refusal:
        raise Conflict(refusal, field=field)
    return helper


def active_load(session: Session, helper_id: str) -> int:
    query = select(func.count()).where(Pairing.helper_id == helper_id, col(Pairing.end_date).is_(None))
    return session.exec(query).one()


def read_helper(session: Session, helper_id: str, principal: Principal) -> tuple[Helper, int]:
    """One helper inside the caller's scope, with the households they help now."""
    helper = get_helper(session, helper_id, principal)
    return helper, active_load(session, helper.id)


def list_helpers(
    session: Session, principal: Principal, *, region: str | None, include_ended: bool = False
) -> list[tuple[Helper, int]]:
    """Helpers inside the caller's scope by name, each with their active pairings (two queries)."""
    prefix = narrow_scope(scope=principal.region, requested=region)
    if prefix is None:
        return []
    query = select(Helper).where(col(Helper.region_code).startswith(prefix))
    if not include_ended:
        query = query.where(col(Helper.end_date).is_(None))
    helpers = session.exec(query.order_by(col(Helper.name), col(Helper.id))).all()
    loads_now = dict(
        session.exec(
            select(Pairing.helper_id, func.count())
            .where(col(Pairing.helper_id).in_([h.id for h in helpers]), col(Pairing.end_date).is_(None))
            .group_by(col(Pairing.helper_id))
        ).all()
    )
    return [(h, loads_now.get(h.id, 0)) for h in helpers]


def update_helper(session: Session, helper_id: str, body: HelperUpdate, principal: Principal) -> Helper:
    """Correct a helper's name, unit, rank, phone or region; a lower rank must still carry their households."""
    helper = get_helper(session, helper_id, principal)
    if helper.end_date is not None:
        raise Conflict(f"helper {helper.name} ended on {helper.end_date}")
    changes = body.model_dump(exclude_unset=True)
    refuse_blank(changes, ("name", "rank", "phone", "region_code"))
    if changes.get("unit_id"):
        serving_unit(session, changes["unit_id"], session_clock(session).today())
    if "rank" in changes:
        refusal = rank_refusal(
            rank=Rank(changes["rank"]), active_pairings=active_load(session, helper.id), limits=loads(session)
        )
        if refusal:
            raise Conflict(refusal, field="rank")
    if "phone" in changes:
        changes["phone"] = _mobile(changes["phone"])
    if "region_code" in changes:
        principal.require_region(changes["region_code"])
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


def set_load(session: Session, rank: Rank, max_households: int) -> HelperLoad:
    row = session.get(HelperLoad, rank.value) or HelperLoad(rank=rank.value, max_households=max_households)
    row.max_households = max_households
    session.add(row)
    session.flush()
    return row


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
    refusal = release_refusal(status=Status(household.status), has_successor=body.successor_helper_id is not None)
    if refusal:
        raise Conflict(refusal, field="successor_helper_id")
    successor = None
    if body.successor_helper_id:
        successor = serving_helper(
            session, body.successor_helper_id, principal, field="successor_helper_id", day=body.end_date
        )
    return _end_pairing(session, pairing, household, end_date=body.end_date, reason=body.reason, successor=successor)


def _end_pairing(
    session: Session, pairing: Pairing, household: Household, *, end_date: date, reason: str, successor: Helper | None
) -> Pairing:
    if end_date < pairing.start_date:
        raise ValidationFailed("a pairing cannot end before it started", field="end_date")
    helper = session.get(Helper, pairing.helper_id)
    pairing.end_date = end_date
    pairing.end_reason = reason
    session.add(pairing)
    session.flush()
    if successor is not None:
        _pair(session, successor, household, end_date)
    events.helper_released(session, pairing, helper.phone if helper else "")
    return pairing


def household_pairings(session: Session, household_id: str, principal: Principal) -> list[Pairing]:
    get_household(session, household_id, principal)
    query = select(Pairing).where(Pairing.household_id == household_id).order_by(col(Pairing.start_date))
    return list(session.exec(query).all())


def log_contact(session: Session, household_id: str, body: ContactCreate, principal: Principal) -> Contact:
    """A helper's visit, call or SMS to the household, for the monthly and quarterly duties."""
    get_household(session, household_id, principal)
    clock = session_clock(session)
    if body.contacted_on > clock.today():
        raise ValidationFailed("a contact cannot be logged in the future", field="contacted_on")
    serving_helper(session, body.helper_id, principal, field="helper_id", day=body.contacted_on)
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
        select(Pairing.household_id, Pairing.helper_id).where(col(Pairing.household_id).in_(ids), paired_on(day))
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
