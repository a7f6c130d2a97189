"""Members: changes to who belongs to a household (动态管理: births, deaths, marriages, moves, splits, merges),
versioned edits of a member's details, and yearly income declarations. Nothing here commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from services.registry import events
from services.registry.domain.changes import JOINS, LEAVES, ChangeKind, birth_matches, check_change_date, member_on
from services.registry.domain.dates import Period
from services.registry.domain.income import (
    LINE_NAMES,
    IncomeLines,
    counted_on,
    declarable,
    net_income,
    per_capita_net_income,
)
from services.registry.domain.members import DETAIL_FIELDS, check_details, check_details_date, check_identity
from services.registry.households.service import (
    active_member_ids,
    get_household,
    member_columns,
    member_facts,
    new_version,
    refuse_active_elsewhere,
    refuse_known_hukou,
)
from services.registry.members.schemas import ChangeCreate, IncomeCreate, MemberDetailsUpdate, SplitSpec
from services.registry.models import Household, IncomeDeclaration, Member, MemberChange, MemberVersion
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.pagination import PageParams, paginate
from shared.refusals import refuse_if

# Columns a member keeps when moving to another household by a split or merge.
CARRIED = set(Member.model_fields) - {"id", "household_id", "joined_on", "left_on", "left_reason", "active"}


def record_change(session: Session, household_id: str, body: ChangeCreate, principal: Principal) -> list[MemberChange]:
    """Apply one change to a household's membership with its evidence; never a silent edit."""
    household = get_household(session, household_id, principal)
    today = session_clock(session).today()
    refuse_if(check_change_date(effective_date=body.effective_date, today=today, registered_on=household.registered_on))
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
    checked = check_identity(facts=member_facts(body.member), field="member", today=session_clock(session).today())
    refuse_if(
        birth_matches(kind=ChangeKind(body.kind), birth_date=checked.birth_date, effective_date=body.effective_date)
    )
    refuse_active_elsewhere(session, [checked.id_number], principal, field="member", region=household.region_code)
    member = Member(household_id=household.id, joined_on=body.effective_date, **member_columns(body.member, checked))
    session.add(member)
    _bump(session, household, body, principal)
    change = _change(session, household, body, principal, member_id=member.id)
    session.flush()
    events.member_changed(session, change)
    events.household_updated(session, household, active_member_ids(session, household.id))
    return change


def _active_member(session: Session, household: Household, member_id: str | None, field: str) -> Member:
    member = session.get(Member, member_id) if member_id else None
    if member is None or member.household_id != household.id or not member.active:
        raise ValidationFailed(f"{member_id} is not an active member of household {household.id}", field=field)
    return member


def _end_membership(session: Session, member: Member, *, day: date, why: str, field: str) -> None:
    refuse_if(check_change_date(effective_date=day, today=day, joined_on=member.joined_on, field=field))
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
    events.household_updated(session, household, active_member_ids(session, household.id))
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
    refuse_known_hukou(session, spec.hukou_number, principal, field="split.hukou_number", region=household.region_code)
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
    events.household_updated(session, household, active_member_ids(session, household.id))
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
    events.household_updated(session, household, active_member_ids(session, household.id))
    return changes


def list_changes(
    session: Session, household_id: str, principal: Principal, page: PageParams
) -> tuple[list[MemberChange], str | None]:
    """The household's member changes in the order they were made (the household version each started)."""
    get_household(session, household_id, principal)
    query = select(MemberChange).where(MemberChange.household_id == household_id)
    return paginate(session, query, order=[col(MemberChange.household_version), col(MemberChange.id)], page=page)


# Member details (health, schooling, work, phone, Party and payroll flags): versioned edits.


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
    refuse_if(check_details_date(effective_date=effective, today=clock.today(), details_since=since))
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
    events.household_updated(session, household, active_member_ids(session, household.id))
    return member


def details_since(session: Session, member: Member) -> date:
    """The day the member's present details took effect: the last edit's, or the day they joined."""
    last = session.exec(select(func.max(MemberVersion.valid_to)).where(MemberVersion.member_id == member.id)).one()
    return last or member.joined_on


def list_versions(
    session: Session, household_id: str, member_id: str, principal: Principal, page: PageParams
) -> tuple[list[MemberVersion], str | None]:
    """A member's earlier details, oldest first, each with who replaced them, why and when."""
    household = get_household(session, household_id, principal)
    member = _member(session, household, member_id)
    query = select(MemberVersion).where(MemberVersion.member_id == member.id)
    return paginate(session, query, order=[col(MemberVersion.household_version)], page=page)


def _member(session: Session, household: Household, member_id: str) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.household_id != household.id:
        raise NotFound(f"member {member_id} not found in household {household.id}")
    return member


# Income declarations (收入申报) per household and year, with the per-capita net income worked out.


def household_size_in(session: Session, household_id: str, *, year: int, today: date) -> int:
    """Members counted for a year's income: those in the household at year end (or today, for this year)."""
    day = counted_on(year=year, today=today)
    members = session.exec(select(Member).where(Member.household_id == household_id)).all()
    return sum(member_on(period=Period(m.joined_on, m.left_on), day=day) for m in members)


def declare_income(session: Session, household_id: str, body: IncomeCreate, principal: Principal) -> IncomeDeclaration:
    """Record one year's income from one source; the per-capita figure is computed, never typed in."""
    get_household(session, household_id, principal)
    clock = session_clock(session)
    refuse_if(declarable(year=body.year, today=clock.today()))
    known = session.exec(
        select(IncomeDeclaration.id).where(
            IncomeDeclaration.household_id == household_id,
            IncomeDeclaration.year == body.year,
            IncomeDeclaration.source == body.source,
        )
    ).first()
    if known:
        raise Conflict(f"{body.source} income for {body.year} is already recorded as {known}", field="year")
    amounts = {name: getattr(body, name) for name in LINE_NAMES}  # Decimals (model_dump would give strings)
    lines = IncomeLines(**amounts)
    size = household_size_in(session, household_id, year=body.year, today=clock.today())
    row = IncomeDeclaration(
        household_id=household_id,
        year=body.year,
        source=body.source,
        **amounts,
        household_size=size,
        net_income=net_income(lines=lines),
        per_capita_net_income=per_capita_net_income(lines=lines, household_size=size),
        recorded_by=principal.subject,
        recorded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def list_incomes(
    session: Session, household_id: str, principal: Principal, page: PageParams
) -> tuple[list[IncomeDeclaration], str | None]:
    """The household's income declarations by year and source."""
    get_household(session, household_id, principal)
    query = select(IncomeDeclaration).where(IncomeDeclaration.household_id == household_id)
    order = [col(IncomeDeclaration.year), col(IncomeDeclaration.source)]
    return paginate(session, query, order=order, page=page)
