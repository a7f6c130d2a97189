"""Member routes: member changes (动态管理), versioned member details, yearly incomes."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.households.api import Registrar
from services.registry.households.views import member_public
from services.registry.members import service
from services.registry.members.schemas import (
    ChangeCreate,
    ChangePublic,
    IncomeCreate,
    IncomePublic,
    MemberDetailsUpdate,
    MemberPublic,
    MemberVersionPublic,
)
from services.registry.models import MemberVersion
from shared.deps import ReadSessionDep, SessionDep
from shared.disclosure import Disclosure, DisclosureDep, Reader
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, PageDep

router = APIRouter(tags=["members"])


@router.patch("/households/{household_id}/members/{member_id}", response_model=MemberPublic)
def edit_member_details(
    household_id: str,
    member_id: str,
    body: MemberDetailsUpdate,
    session: SessionDep,
    principal: Registrar,
    show: DisclosureDep,
) -> MemberPublic:
    """A versioned edit of a member's health, schooling, work, phone or flags, with its reason."""
    member = service.edit_details(session, household_id, member_id, body, principal)
    return MemberPublic.model_validate(member_public(member.model_dump(), show))


@router.get("/households/{household_id}/members/{member_id}/versions", response_model=Page[MemberVersionPublic])
def member_versions(
    household_id: str, member_id: str, session: ReadSessionDep, principal: Reader, show: DisclosureDep, page: PageDep
) -> Page[MemberVersionPublic]:
    """A member's earlier details, each with who replaced them, why and when."""
    rows, next_cursor = service.list_versions(session, household_id, member_id, principal, page)
    show.audit(f"household/{household_id}/member/{member_id}/versions")
    return Page(items=[_version_public(r, show) for r in rows], next_cursor=next_cursor)


def _version_public(version: MemberVersion, show: Disclosure) -> MemberVersionPublic:
    details = version.details | {"phone": show.phone(version.details.get("phone"))}
    return MemberVersionPublic.model_validate(version.model_dump() | {"details": details})


@router.post("/households/{household_id}/changes", status_code=201, response_model=list[ChangePublic])
def record_change(
    household_id: str, body: ChangeCreate, session: SessionDep, principal: Registrar, idempotency: IdempotencyDep
) -> list[ChangePublic]:
    """A member change (birth, death, marriage, move, imprisonment, emigration, split, merge) with evidence."""

    def act() -> list[ChangePublic]:
        rows = service.record_change(session, household_id, body, principal)
        return [ChangePublic.model_validate(r.model_dump()) for r in rows]

    return idempotency.run(session, act)


@router.get("/households/{household_id}/changes", response_model=Page[ChangePublic])
def list_changes(household_id: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[ChangePublic]:
    """The household's member changes, in the order they were made."""
    rows, next_cursor = service.list_changes(session, household_id, principal, page)
    return Page(items=[ChangePublic.model_validate(r.model_dump()) for r in rows], next_cursor=next_cursor)


@router.post("/households/{household_id}/incomes", status_code=201, response_model=IncomePublic)
def declare_income(household_id: str, body: IncomeCreate, session: SessionDep, principal: Registrar) -> IncomePublic:
    """One year's income by category; the per-capita net income (年人均纯收入) is computed."""
    return IncomePublic.model_validate(service.declare_income(session, household_id, body, principal).model_dump())


@router.get("/households/{household_id}/incomes", response_model=Page[IncomePublic])
def list_incomes(household_id: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[IncomePublic]:
    """The household's income declarations by year and source."""
    rows, next_cursor = service.list_incomes(session, household_id, principal, page)
    return Page(items=[IncomePublic.model_validate(r.model_dump()) for r in rows], next_cursor=next_cursor)
