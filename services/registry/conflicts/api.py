"""Cross-region conflict routes: the county office sees which households clash, and records how it resolved them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.registry.conflicts import service
from services.registry.conflicts.schemas import ConflictPublic, ConflictResolution
from shared.auth import Principal, Role, require
from shared.deps import ReadSessionDep, SessionDep
from shared.pagination import Page, PageDep

router = APIRouter(tags=["conflicts"])
County = Annotated[Principal, Depends(require(Role.county_office, Role.system))]


@router.get("/conflicts", response_model=Page[ConflictPublic])
def list_conflicts(
    session: ReadSessionDep, principal: County, page: PageDep, open_only: Annotated[bool, Query()] = True
) -> Page[ConflictPublic]:
    """Registrations refused because the person or hukou is registered in another region, oldest first."""
    rows, cursor = service.list_conflicts(session, principal, open_only=open_only, page=page)
    return Page(items=[ConflictPublic.model_validate(r) for r in rows], next_cursor=cursor)


@router.post("/conflicts/{conflict_id}/resolution", response_model=ConflictPublic)
def resolve_conflict(
    conflict_id: str, body: ConflictResolution, session: SessionDep, principal: County
) -> ConflictPublic:
    """Record what the county found and did (e.g. the person moved: the old household releases them)."""
    return ConflictPublic.model_validate(service.resolve(session, conflict_id, body.resolution, principal))
