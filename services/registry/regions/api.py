"""Region routes: the tree (区划), loading a region file, villager groups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile

from services.registry.regions import service
from services.registry.regions.schemas import (
    GroupName,
    RegionDetail,
    RegionLoadResult,
    RegionPublic,
    VillagerGroupPublic,
)
from shared.auth import Principal, Role, require
from shared.deps import ReadSessionDep, SessionDep
from shared.disclosure import Reader
from shared.files.uploads import spool
from shared.pagination import MAX_LIMIT, Page, PageDep, PageParams
from shared.scope import require_region

router = APIRouter(tags=["regions"])
Loader = Annotated[Principal, Depends(require(Role.county_office, Role.system))]
Namer = Annotated[Principal, Depends(require(Role.village_cadre, Role.county_office, Role.system))]


@router.get("/regions", response_model=Page[RegionPublic])
def list_regions(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    parent: Annotated[str | None, Query(pattern=r"^\d{12}$", description="children of this region")] = None,
) -> Page[RegionPublic]:
    """Provinces, or the children of ``parent``, by code."""
    rows, next_cursor = service.children(session, parent, page)
    return Page(items=[RegionPublic.model_validate(r.model_dump()) for r in rows], next_cursor=next_cursor)


@router.get("/regions/{code}", response_model=RegionDetail)
def get_region(code: str, session: ReadSessionDep, principal: Reader) -> RegionDetail:
    """One region with its path up to the province and its children (up to 500; the list pages through all)."""
    region = service.get_region(session, code)
    children, _ = service.children(session, region.code, PageParams(limit=MAX_LIMIT))
    return RegionDetail.model_validate(
        region.model_dump()
        | {
            "path": [r.model_dump() for r in service.ancestors(session, region)],
            "children": [r.model_dump() for r in children],
        }
    )


@router.post("/regions/import", response_model=RegionLoadResult)
def load_regions(
    request: Request, session: SessionDep, principal: Loader, file: Annotated[UploadFile, File()]
) -> RegionLoadResult:
    """Load a region file (CSV or XLSX with columns code/代码 and name/名称); all of it or none of it."""
    path = spool(request, file, folder="regions")
    try:
        result = service.load_regions(session, service.read_region_file(path))
    finally:
        path.unlink(missing_ok=True)
    return RegionLoadResult(created=result.created, updated=result.updated)


@router.get("/regions/{code}/groups", response_model=Page[VillagerGroupPublic])
def list_groups(code: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[VillagerGroupPublic]:
    """A village's villager groups (村民小组), by number."""
    rows, next_cursor = service.groups(session, code, page)
    return Page(items=[VillagerGroupPublic.model_validate(g.model_dump()) for g in rows], next_cursor=next_cursor)


@router.put("/regions/{code}/groups/{number}", response_model=VillagerGroupPublic)
def set_group(
    code: str,
    number: Annotated[int, Path(ge=1, le=99)],
    body: GroupName,
    session: SessionDep,
    principal: Namer,
) -> VillagerGroupPublic:
    """Name a villager group (村民小组)."""
    require_region(principal, code)
    return VillagerGroupPublic.model_validate(service.set_group(session, code, number, body.name).model_dump())
