"""Member details (health, schooling, work, phone, Party and payroll flags): versioned edits. Nothing here commits."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, func, select

from services.registry import events
from services.registry.domain.members import DETAIL_FIELDS, check_details, check_details_date
from services.registry.models import Household, Member, MemberVersion
from services.registry.schemas import MemberDetailsUpdate
from services.registry.service import get_household, new_version
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, NotFound, ValidationFailed


def edit_details(
    session: Session, household_id: str, member_id: str, body: MemberDetailsUpdate, principal: Principal
) -> Member:
    """A versioned edit of a member's details: the details before it stay readable as of earlier days."""
    household = get_household(session, household_id, principal)
    member = _member(session, household, member_id)
    if not member.active:
        raise Conflict(f"member {member_id} left the household on {member.left_on}", field="member_id")
    clock = session_clock(session)
    effective = body.effective_date or clock.today()
    since = details_since(session, member)
    problem = check_details_date(effective_date=effective, today=clock.today(), details_since=since)
    if problem:
        raise ValidationFailed(problem, field="effective_date")
    before = {name: getattr(member, name) for name in DETAIL_FIELDS}
    changed = check_details(
        edit=body.model_dump(exclude_unset=True, exclude={"reason", "effective_date"}), current=before
    )
    new_version(session, household, effective=effective, actor=principal.subject, reason=body.reason)
    session.add(
        MemberVersion(
            member_id=member.id,
            household_id=household.id,
            household_version=household.version,
            valid_from=since,
            valid_to=effective,
            details=before,
            changed=sorted(changed),
            replaced_at=clock.now(),
            replaced_by=principal.subject,
            replace_reason=body.reason,
        )
    )
    for name, value in changed.items():
        setattr(member, name, value)
    session.add(member)
    session.flush()
    active = session.exec(select(Member.id).where(Member.household_id == household.id, col(Member.active))).all()
    events.household_updated(session, household, list(active))
    return member


def details_since(session: Session, member: Member) -> date:
    """The day the member's present details took effect: the last edit's, or the day they joined."""
    last = session.exec(select(func.max(MemberVersion.valid_to)).where(MemberVersion.member_id == member.id)).one()
    return last or member.joined_on


def list_versions(session: Session, household_id: str, member_id: str, principal: Principal) -> list[MemberVersion]:
    """A member's earlier details, oldest first, each with who replaced them, why and when."""
    household = get_household(session, household_id, principal)
    member = _member(session, household, member_id)
    query = select(MemberVersion).where(MemberVersion.member_id == member.id)
    return list(session.exec(query.order_by(col(MemberVersion.household_version))).all())


def _member(session: Session, household: Household, member_id: str) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.household_id != household.id:
        raise NotFound(f"member {member_id} not found in household {household.id}")
    return member
