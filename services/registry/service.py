"""Registry operations: the database work behind each endpoint. Nothing here commits."""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.registry import events
from services.registry.domain.members import MemberFacts, check_members
from services.registry.models import Household, Member
from services.registry.schemas import HouseholdCreate
from shared.auth import Principal
from shared.errors import Conflict, NotFound
from shared.events.outbox import session_clock


def register_household(session: Session, body: HouseholdCreate, principal: Principal) -> Household:
    """Register a household (建档立卡) with its members, and announce it."""
    principal.require_region(body.region_code)
    members = check_members([MemberFacts(**m.model_dump()) for m in body.members])
    if session.exec(select(Household.id).where(Household.hukou_number == body.hukou_number)).first():
        raise Conflict(f"hukou number {body.hukou_number} is already registered", field="hukou_number")
    _refuse_active_elsewhere(session, [m.id_number for m in members])
    household = Household(
        hukou_number=body.hukou_number,
        region_code=body.region_code,
        group_no=body.group_no,
        address=body.address,
        head_member_id="",
        created_at=session_clock(session).now(),
    )
    rows = [Member(household_id=household.id, **vars(m)) for m in members]
    household.head_member_id = next(r.id for r in rows if r.relation == "head")
    session.add(household)
    session.flush()
    session.add_all(rows)
    session.flush()
    events.household_registered(session, household, rows)
    return household


def _refuse_active_elsewhere(session: Session, id_numbers: list[str]) -> None:
    clash = session.exec(
        select(Member.id_number, Member.household_id).where(
            col(Member.id_number).in_(id_numbers),
            Member.active == True,  # noqa: E712
        )
    ).first()
    if clash:
        raise Conflict(
            f"resident ID is already an active member of household {clash[1]}",
            field="members.id_number",
            conflicting_household_id=clash[1],
        )


def get_household(session: Session, household_id: str, principal: Principal) -> tuple[Household, list[Member]]:
    household = session.get(Household, household_id)
    if household is None or not principal.covers(household.region_code):
        raise NotFound(f"household {household_id} not found")
    members = session.exec(select(Member).where(Member.household_id == household_id)).all()
    return household, list(members)
