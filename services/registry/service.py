"""Households: registration, reads (current and as of a date), versioned edits, search. Nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Text, and_, cast, exists, func, or_
from sqlmodel import Session, col, select

from services.registry import events
from services.registry.domain.changes import Period, member_on
from services.registry.domain.members import CheckedMember, MemberFacts, check_members
from services.registry.domain.regions import narrow_scope
from services.registry.models import Household, HouseholdCategory, HouseholdVersion, Member, Pairing
from services.registry.regions import require_village
from services.registry.schemas import (
    CategoryPeriod,
    HouseholdBase,
    HouseholdCreate,
    HouseholdSummary,
    HouseholdUpdate,
    MemberCreate,
    flatten_blocks,
)
from shared.auth import Principal
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.events.outbox import session_clock
from shared.masking import mask_resident_id
from shared.pagination import decode_cursor, page_of

FACT_FIELDS = set(HouseholdBase.model_fields)


@dataclass(frozen=True)
class HouseholdView:
    """A household as it stands (``as_of`` None) or as it stood on a past day."""

    facts: dict[str, Any]
    members: list[Member]
    categories: list[HouseholdCategory]
    as_of: date | None


@dataclass(frozen=True)
class HouseholdFilters:
    region: str | None = None
    status: str | None = None
    cause: str | None = None
    category: str | None = None
    helper_id: str | None = None
    q: str | None = None
    include_dissolved: bool = False


def register_household(session: Session, body: HouseholdCreate, principal: Principal) -> Household:
    """Register a household (建档立卡) with its members, and announce it."""
    principal.require_region(body.region_code)
    require_village(session, body.region_code)
    checked = check_members([member_facts(m) for m in body.members])
    refuse_known_hukou(session, body.hukou_number)
    refuse_active_elsewhere(session, [c.id_number for c in checked])
    clock = session_clock(session)
    registered_on = body.registered_on or clock.today()
    if registered_on > clock.today():
        raise ValidationFailed(f"registration date {registered_on} is in the future", field="registered_on")
    now = clock.now()
    household = Household(
        hukou_number=body.hukou_number,
        region_code=body.region_code,
        **flatten_blocks(body.model_dump(include=FACT_FIELDS)),
        head_member_id="",
        registered_on=registered_on,
        valid_from=registered_on,
        created_at=now,
        updated_at=now,
    )
    rows = [
        Member(household_id=household.id, joined_on=registered_on, **member_columns(m, c))
        for m, c in zip(body.members, checked, strict=True)
    ]
    household.head_member_id = next(r.id for r in rows if r.relation == "head")
    session.add(household)
    session.flush()
    session.add_all(rows)
    session.add_all(category_rows(household.id, body.categories))
    session.flush()
    events.household_registered(session, household, rows)
    return household


def member_facts(member: MemberCreate) -> MemberFacts:
    return MemberFacts(member.id_number, member.relation, member.sex, member.birth_date, member.phone)


def member_columns(member: MemberCreate, checked: CheckedMember) -> dict[str, Any]:
    """A new member's table columns: what was sent, with ID, sex, birth date and phone as checked."""
    return member.model_dump(exclude={"id_number", "sex", "birth_date", "phone"}) | {
        "id_number": checked.id_number,
        "sex": checked.sex,
        "birth_date": checked.birth_date,
        "phone": checked.phone,
    }


def category_rows(household_id: str, periods: list[CategoryPeriod]) -> list[HouseholdCategory]:
    for i, period in enumerate(periods):
        if period.end_date is not None and period.end_date < period.start_date:
            raise ValidationFailed("a category ends before it starts", field=f"categories.{i}.end_date")
    return [HouseholdCategory(household_id=household_id, **p.model_dump()) for p in periods]


def refuse_known_hukou(session: Session, hukou_number: str, *, field: str = "hukou_number") -> None:
    known = session.exec(select(Household.id).where(Household.hukou_number == hukou_number)).first()
    if known:
        raise Conflict(
            f"hukou number {hukou_number} is already registered as household {known}",
            field=field,
            conflicting_household_id=known,
        )


def refuse_active_elsewhere(session: Session, id_numbers: list[str], *, field: str = "members") -> None:
    """A resident ID is an active member of one household only; the error names the household that has it."""
    clash = session.exec(
        select(Member.id_number, Member.household_id).where(col(Member.id_number).in_(id_numbers), col(Member.active))
    ).first()
    if clash:
        at = f"{field}.{id_numbers.index(clash[0])}.id_number" if len(id_numbers) > 1 else f"{field}.id_number"
        raise Conflict(
            f"resident ID {mask_resident_id(clash[0])} is already an active member of household {clash[1]}",
            field=at,
            conflicting_household_id=clash[1],
        )


def get_household(session: Session, household_id: str, principal: Principal) -> Household:
    """A household inside the principal's region scope; outside it, as if it did not exist."""
    household = session.get(Household, household_id)
    if household is None or not principal.covers(household.region_code):
        raise NotFound(f"household {household_id} not found")
    return household


def read_household(session: Session, household_id: str, principal: Principal, *, as_of: date | None) -> HouseholdView:
    """The household now, or what was true on ``as_of``: its facts then, and who was a member that day."""
    household = get_household(session, household_id, principal)
    members = list(
        session.exec(select(Member).where(Member.household_id == household_id).order_by(col(Member.joined_on))).all()
    )
    categories = list(session.exec(select(HouseholdCategory).where(HouseholdCategory.household_id == household_id)))
    if as_of is None:
        return HouseholdView(household.model_dump(), members, categories, None)
    facts = facts_on(session, household, as_of)
    present = [m for m in members if member_on(period=Period(m.joined_on, m.left_on), day=as_of)]
    held = [c for c in categories if c.start_date <= as_of and (c.end_date is None or as_of < c.end_date)]
    return HouseholdView(facts, present, held, as_of)


def facts_on(session: Session, household: Household, day: date) -> dict[str, Any]:
    if day < household.registered_on:
        raise NotFound(f"household {household.id} was not registered yet on {day}")
    if day >= household.valid_from:
        return household.model_dump()
    version = session.exec(
        select(HouseholdVersion)
        .where(
            HouseholdVersion.household_id == household.id,
            col(HouseholdVersion.valid_from) <= day,
            col(HouseholdVersion.valid_to) > day,
        )
        .order_by(col(HouseholdVersion.version).desc())
    ).first()
    if version is None:
        raise NotFound(f"no version of household {household.id} was in force on {day}")
    return version.snapshot


def new_version(session: Session, household: Household, *, effective: date, actor: str, reason: str) -> None:
    """Keep the version in force until ``effective`` for as-of reads, and start the next one."""
    effective = max(effective, household.valid_from)
    clock = session_clock(session)
    session.add(
        HouseholdVersion(
            household_id=household.id,
            version=household.version,
            valid_from=household.valid_from,
            valid_to=effective,
            snapshot=household.model_dump(mode="json"),
            replaced_at=clock.now(),
            replaced_by=actor,
            replace_reason=reason,
        )
    )
    household.version += 1
    household.valid_from = effective
    household.updated_at = clock.now()
    session.add(household)


def update_household(session: Session, household_id: str, body: HouseholdUpdate, principal: Principal) -> Household:
    """A versioned edit of household facts, with its reason and the day it took effect."""
    household = get_household(session, household_id, principal)
    today = session_clock(session).today()
    effective = body.effective_date or today
    if effective > today:
        raise ValidationFailed(f"effective date {effective} is in the future", field="effective_date")
    if effective < household.valid_from:
        raise ValidationFailed(
            f"the current version took effect on {household.valid_from}; an edit cannot take effect before it",
            field="effective_date",
        )
    if body.region_code and body.region_code != household.region_code:
        principal.require_region(body.region_code)
        require_village(session, body.region_code)
    new_version(session, household, effective=effective, actor=principal.subject, reason=body.reason)
    changes = body.model_dump(exclude_unset=True, exclude={"reason", "effective_date", "categories"})
    for column, value in flatten_blocks(changes).items():
        setattr(household, column, value)
    if body.categories is not None:
        _replace_categories(session, household.id, body.categories, effective)
    session.add(household)
    session.flush()
    events.household_updated(session, household, _active_ids(session, household.id))
    return household


def _replace_categories(session: Session, household_id: str, periods: list[CategoryPeriod], day: date) -> None:
    wanted = {p.category for p in periods}
    open_rows = session.exec(
        select(HouseholdCategory).where(
            HouseholdCategory.household_id == household_id, col(HouseholdCategory.end_date).is_(None)
        )
    ).all()
    for row in open_rows:
        if row.category not in wanted:
            row.end_date = day
            session.add(row)
    held = {row.category for row in open_rows}
    session.add_all(r for r in category_rows(household_id, periods) if r.category not in held)


def _active_ids(session: Session, household_id: str) -> list[str]:
    return list(session.exec(select(Member.id).where(Member.household_id == household_id, col(Member.active))).all())


def search_households(
    session: Session, principal: Principal, filters: HouseholdFilters, *, cursor: str | None, limit: int
) -> tuple[list[HouseholdSummary], str | None]:
    """Households inside the caller's scope matching the filters, in village and hukou order, a page at a time."""
    prefix = narrow_scope(scope=principal.region, requested=filters.region)
    if prefix is None:
        return [], None
    query = select(Household).where(col(Household.region_code).startswith(prefix))
    query = _filtered(query, filters)
    key = decode_cursor(cursor)
    if key:
        if len(key) != 2:
            raise ValidationFailed("not a cursor this list handed out", field="cursor")
        query = query.where(
            or_(
                col(Household.region_code) > key[0],
                and_(col(Household.region_code) == key[0], col(Household.hukou_number) > key[1]),
            )
        )
    rows = list(session.exec(query.order_by(col(Household.region_code), col(Household.hukou_number)).limit(limit + 1)))
    rows, next_cursor = page_of(rows, limit=limit, key=lambda h: [h.region_code, h.hukou_number])
    return summaries(session, rows), next_cursor


def _filtered(query: Any, filters: HouseholdFilters) -> Any:
    if not filters.include_dissolved:
        query = query.where(col(Household.dissolved_on).is_(None))
    if filters.status:
        query = query.where(Household.status == filters.status)
    if filters.cause:
        quoted = f'%"{filters.cause}"%'
        query = query.where(
            or_(Household.primary_cause == filters.cause, cast(Household.secondary_causes, Text).like(quoted))
        )
    if filters.category:
        query = query.where(
            exists().where(
                HouseholdCategory.household_id == Household.id,
                HouseholdCategory.category == filters.category,
                col(HouseholdCategory.end_date).is_(None),
            )
        )
    if filters.helper_id:
        query = query.where(
            exists().where(
                Pairing.household_id == Household.id,
                Pairing.helper_id == filters.helper_id,
                col(Pairing.end_date).is_(None),
            )
        )
    if filters.q:
        query = query.where(
            exists().where(
                Member.household_id == Household.id, col(Member.active), col(Member.name).contains(filters.q)
            )
        )
    return query


def summaries(session: Session, households: list[Household]) -> list[HouseholdSummary]:
    """List rows: head name and masked ID, active member count; two queries for the whole page."""
    ids = [h.id for h in households]
    heads = {
        m.id: m for m in session.exec(select(Member).where(col(Member.id).in_([h.head_member_id for h in households])))
    }
    counts = dict(
        session.exec(
            select(Member.household_id, func.count())
            .where(col(Member.household_id).in_(ids), col(Member.active))
            .group_by(col(Member.household_id))
        ).all()
    )
    out = []
    for h in households:
        head = heads.get(h.head_member_id)
        out.append(
            HouseholdSummary(
                **h.model_dump(include=set(HouseholdSummary.model_fields)),
                head_name=head.name if head else None,
                head_id_number=mask_resident_id(head.id_number) if head else None,
                member_count=counts.get(h.id, 0),
            )
        )
    return out
