"""The phone directory for other services (the ``system`` role only): whole phones, every page audited.

Registry events carry masked phones by design; a service that texts people (notifications) syncs its
contacts from here instead, incrementally with ``updated_since`` and the page cursor.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime

from services.registry.directory import service
from services.registry.directory.schemas import HelperPhone, HouseholdHeadPhone
from shared.auth import Principal, Role, require
from shared.deps import ReadSessionDep
from shared.disclosure import Disclosure
from shared.pagination import Page, PageDep
from shared.scope import RegionParam

router = APIRouter(tags=["directory"])
System = Annotated[Principal, Depends(require(Role.system))]
Since = Annotated[
    AwareDatetime | None, Query(description="only rows changed at or after this time (your last sync's newest)")
]


@router.get("/directory/phones/helpers", response_model=Page[HelperPhone])
def helper_phones(
    request: Request,
    session: ReadSessionDep,
    principal: System,
    page: PageDep,
    region: RegionParam = None,
    updated_since: Since = None,
) -> Page[HelperPhone]:
    """Helpers with whole phones, oldest change first; the page's handing-out is recorded in the audit log."""
    rows, cursor = service.helpers(session, principal, page, region=region, updated_since=updated_since)
    show = Disclosure(request, principal, reveal=True)
    items = [
        HelperPhone(
            id=h.id,
            region_code=h.region_code,
            name=h.name,
            unit_id=h.unit_id,
            phone=show.phone(h.phone),
            active=h.end_date is None,
            changed_at=changed,
        )
        for h, changed in rows
    ]
    show.audit("directory/phones/helpers", helpers=[i.id for i in items if i.phone])
    return Page(items=items, next_cursor=cursor)


@router.get("/directory/phones/households", response_model=Page[HouseholdHeadPhone])
def household_head_phones(
    request: Request,
    session: ReadSessionDep,
    principal: System,
    page: PageDep,
    region: RegionParam = None,
    updated_since: Since = None,
) -> Page[HouseholdHeadPhone]:
    """Household heads with whole phones (null when none is known), oldest change first; audited."""
    rows, cursor = service.household_heads(session, principal, page, region=region, updated_since=updated_since)
    show = Disclosure(request, principal, reveal=True)
    items = [
        HouseholdHeadPhone(
            household_id=h.id,
            member_id=m.id,
            region_code=h.region_code,
            name=m.name,
            phone=show.phone(m.phone),
            active=h.dissolved_on is None,
            changed_at=h.updated_at,
        )
        for h, m in rows
    ]
    show.audit("directory/phones/households", members=[i.member_id for i in items if i.phone])
    return Page(items=items, next_cursor=cursor)
