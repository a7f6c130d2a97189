"""Member changes (动态管理): births, deaths, marriages, moves, splits and merges, each a versioned record."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from services.registry import events
from services.registry.domain.changes import JOINS, LEAVES, ChangeKind, birth_matches, check_change_date
from services.registry.domain.members import check_identity
from services.registry.models import Household, Member, MemberChange
from services.registry.schemas import ChangeCreate, SplitSpec
from services.registry.service import (
    get_household,
    member_columns,
    member_facts,
    new_version,
    refuse_active_elsewhere,
    refuse_known_hukou,
)
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import NotFound, ValidationFailed

# Columns a member keeps when moving to another household by a split or merge.
CARRIED = set(Member.model_fields) - {"id", "household_id", "joined_on", "left_on", "left_reason", "active"}


def record_change(session: Session, household_id: str, body: ChangeCreate, principal: Principal) -> list[MemberChange]:
    """Apply one change to a household's membership with its evidence; never a silent edit."""
    household = get_household(session, household_id, principal)
    problem = check_change_date(effective_date=body.effective_date, today=session_clock(session).today())
    if problem:
        raise ValidationFailed(problem, field="effective_date")
    if body.effective_date < household.registered_on:
        raise ValidationFailed(
            f"household {household.id} was registered on {household.registered_on}", field="effective_date"
        )
    # The version in force is kept before anything changes, so as-of reads see the head and facts of then.
    new_version(session, household, effective=body.effective_date, actor=principal.subject, reason=body.reason)
    kind = ChangeKind(body.kind)
    if kind in JOINS:
        return [_join(session, household, body, principal)]
    if kind in LEAVES:
        return [_leave(session, household, body, principal)]
    if kind is ChangeKind.split:
        return _split(session, household, body, principal)
    return _merge(session, household, body, principal)


def _change(
    session: Session,
    household: Household,
    body: ChangeCreate,
    principal: Principal,
    *,
    member_id: str,
    other: str | None = None,
) -> MemberChange:
    row = MemberChange(
        household_id=household.id,
        member_id=member_id,
        kind=ChangeKind(body.kind).value,
        effective_date=body.effective_date,
        evidence=body.evidence,
        reason=body.reason,
        actor=principal.subject,
        household_version=household.version,
        other_household_id=other,
        recorded_at=session_clock(session).now(),
    )
    session.add(row)
    return row


def _join(session: Session, household: Household, body: ChangeCreate, principal: Principal) -> MemberChange:
    if body.member is None:
        raise ValidationFailed(f"a {body.kind} change names the member who joins", field="member")
    if body.member.relation == "head":
        raise ValidationFailed("a household already has its head (户主)", field="member.relation")
    checked = check_identity(facts=member_facts(body.member), field="member")
    problem = birth_matches(
        kind=ChangeKind(body.kind), birth_date=checked.birth_date, effective_date=body.effective_date
    )
    if problem:
        raise ValidationFailed(problem, field="effective_date")
    refuse_active_elsewhere(session, [checked.id_number], field="member")
    member = Member(household_id=household.id, joined_on=body.effective_date, **member_columns(body.member, checked))
    session.add(member)
    _bump(session, household, body, principal)
    change = _change(session, household, body, principal, member_id=member.id)
    session.flush()
    events.member_changed(session, change)
    events.household_updated(session, household, _active_ids(session, household.id))
    return change


def _active_member(session: Session, household: Household, member_id: str | None, field: str) -> Member:
    member = session.get(Member, member_id) if member_id else None
    if member is None or member.household_id != household.id or not member.active:
        raise ValidationFailed(f"{member_id} is not an active member of household {household.id}", field=field)
    return member


def _end_membership(session: Session, member: Member, *, day: date, why: str, field: str) -> None:
    problem = check_change_date(effective_date=day, today=day, joined_on=member.joined_on)
    if problem:
        raise ValidationFailed(problem, field=field)
    member.left_on = day
    member.left_reason = why
    member.active = False
    session.add(member)


def _leave(session: Session, household: Household, body: ChangeCreate, principal: Principal) -> MemberChange:
    if body.member_id is None:
        raise ValidationFailed(f"a {body.kind} change names the member who leaves", field="member_id")
    member = _active_member(session, household, body.member_id, "member_id")
    _end_membership(session, member, day=body.effective_date, why=ChangeKind(body.kind).value, field="effective_date")
    _reseat_head(session, household, leaving={member.id}, new_head_id=body.new_head_member_id)
    _bump(session, household, body, principal)
    change = _change(session, household, body, principal, member_id=member.id)
    session.flush()
    events.member_changed(session, change)
    events.household_updated(session, household, _active_ids(session, household.id))
    return change


def _reseat_head(session: Session, household: Household, *, leaving: set[str], new_head_id: str | None) -> None:
    """When the head (户主) leaves, another remaining member is named head; with no one left, the household ends."""
    if household.head_member_id not in leaving:
        return
    remaining = [m for m in _active(session, household.id) if m.id not in leaving]
    if not remaining:
        return  # the last member leaves: _bump dissolves the household
    if new_head_id is None or new_head_id not in {m.id for m in remaining}:
        raise ValidationFailed(
            "the head (户主) leaves: name a remaining member as the new head", field="new_head_member_id"
        )
    head = next(m for m in remaining if m.id == new_head_id)
    head.relation = "head"
    session.add(head)
    household.head_member_id = head.id


def _bump(session: Session, household: Household, body: ChangeCreate, principal: Principal) -> None:
    """After the members moved: a household left with no one is dissolved from that day."""
    session.flush()
    if not _active(session, household.id):
        household.dissolved_on = body.effective_date


def _active(session: Session, household_id: str) -> list[Member]:
    return list(session.exec(select(Member).where(Member.household_id == household_id, col(Member.active))).all())


def _active_ids(session: Session, household_id: str) -> list[str]:
    return [m.id for m in _active(session, household_id)]


def _move(session: Session, member: Member, *, to: Household, day: date, why: str, relation: str | None) -> Member:
    """The member leaves one household and joins another on the same day, as a new membership row."""
    _end_membership(session, member, day=day, why=why, field="effective_date")
    session.flush()  # the old row must stop being active before the new one claims the resident ID
    values: dict[str, Any] = {k: getattr(member, k) for k in CARRIED}
    if relation:
        values["relation"] = relation
    moved = Member(household_id=to.id, joined_on=day, **values)
    session.add(moved)
    return moved


def _split(session: Session, household: Household, body: ChangeCreate, principal: Principal) -> list[MemberChange]:
    spec: SplitSpec | None = body.split
    if spec is None:
        raise ValidationFailed("a split names the members who leave and the new hukou number", field="split")
    if spec.head_member_id not in spec.member_ids:
        raise ValidationFailed("the new head must be one of the members who leave", field="split.head_member_id")
    leaving = [_active_member(session, household, m, f"split.member_ids.{i}") for i, m in enumerate(spec.member_ids)]
    if len(leaving) == len(_active(session, household.id)):
        raise ValidationFailed("a split leaves someone behind; to move everyone, edit the household", field="split")
    refuse_known_hukou(session, spec.hukou_number, field="split.hukou_number")
    _reseat_head(session, household, leaving=set(spec.member_ids), new_head_id=body.new_head_member_id)
    day = body.effective_date
    now = session_clock(session).now()
    facts = household.model_dump(exclude={"id", "hukou_number", "head_member_id", "version", "dissolved_on"})
    new = Household(
        **facts | {"registered_on": day, "valid_from": day, "created_at": now, "updated_at": now},
        hukou_number=spec.hukou_number,
        head_member_id="",
    )
    if spec.address:
        new.address = spec.address
    session.add(new)
    session.flush()
    moved = {m.id: _move(session, m, to=new, day=day, why="split", relation=None) for m in leaving}
    new.head_member_id = moved[spec.head_member_id].id
    moved[spec.head_member_id].relation = "head"
    _bump(session, household, body, principal)
    changes = [_change(session, household, body, principal, member_id=m.id, other=new.id) for m in leaving]
    session.flush()
    for change in changes:
        events.member_changed(session, change, new_member_id=moved[change.member_id].id)
    events.household_registered(session, new, list(moved.values()))
    events.household_updated(session, household, _active_ids(session, household.id))
    return changes


def _merge(session: Session, household: Household, body: ChangeCreate, principal: Principal) -> list[MemberChange]:
    source_id = body.merge_from_household_id
    if not source_id or source_id == household.id:
        raise ValidationFailed("a merge names another household to absorb", field="merge_from_household_id")
    try:
        source = get_household(session, source_id, principal)
    except NotFound as exc:
        raise ValidationFailed(str(exc), field="merge_from_household_id") from exc
    joining = _active(session, source.id)
    if not joining:
        raise ValidationFailed(f"household {source.id} has no active members", field="merge_from_household_id")
    day = body.effective_date
    moved = {m.id: _move(session, m, to=household, day=day, why="merge", relation="other") for m in joining}
    _bump(session, household, body, principal)
    session.flush()
    new_version(session, source, effective=day, actor=principal.subject, reason=body.reason)
    source.dissolved_on = day
    changes = [_change(session, source, body, principal, member_id=m.id, other=household.id) for m in joining]
    session.flush()
    for change in changes:
        events.member_changed(session, change, new_member_id=moved[change.member_id].id)
    events.household_updated(session, source, [])
    events.household_updated(session, household, _active_ids(session, household.id))
    return changes


def list_changes(session: Session, household_id: str, principal: Principal) -> list[MemberChange]:
    get_household(session, household_id, principal)
    query = select(MemberChange).where(MemberChange.household_id == household_id)
    return list(session.exec(query.order_by(col(MemberChange.recorded_at), col(MemberChange.id))).all())
