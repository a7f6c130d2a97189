"""Region routes: the tree (区划), loading a region file, villager groups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field

from services.registry import regions
from services.registry.schemas import RegionDetail, RegionLoadResult, RegionPublic, VillagerGroupPublic
from shared.auth import Principal, Role, require
from shared.deps import ReadSessionDep, SessionDep
from shared.disclosure import Reader
from shared.files.uploads import spool

router = APIRouter(tags=["regions"])
Loader = Annotated[Principal, Depends(require(Role.county_office, Role.system))]


class GroupName(BaseModel):
    name: str = Field(min_length=1, max_length=60)


@router.get("/regions", response_model=list[RegionPublic])
def list_regions(
    session: ReadSessionDep,
    principal: Reader,
    parent: Annotated[str | None, Query(pattern=r"^\d{12}$", description="children of this region")] = None,
) -> list[RegionPublic]:
    """Provinces, or the children of ``parent``."""
    return [RegionPublic.model_validate(r.model_dump()) for r in regions.children(session, parent)]


@router.get("/regions/{code}", response_model=RegionDetail)
def get_region(code: str, session: ReadSessionDep, principal: Reader) -> RegionDetail:
    region = regions.get_region(session, code)
    return RegionDetail.model_validate(
        region.model_dump()
        | {
            "path": [r.model_dump() for r in regions.ancestors(session, region)],
            "children": [r.model_dump() for r in regions.children(session, region.code)],
        }
    )


@router.post("/regions/import", response_model=RegionLoadResult)
def load_regions(
    request: Request, session: SessionDep, principal: Loader, file: Annotated[UploadFile, File()]
) -> RegionLoadResult:
    """Load a region file (CSV or XLSX with columns code/代码 and name/名称); all of it or none of it."""
    path = spool(request, file, folder="regions")
    try:
        result = regions.load_regions(session, regions.read_region_file(path))
    finally:
        path.unlink(missing_ok=True)
    return RegionLoadResult(created=result.created, updated=result.updated)


@router.get("/regions/{code}/groups", response_model=list[VillagerGroupPublic])
def list_groups(code: str, session: ReadSessionDep, principal: Reader) -> list[VillagerGroupPublic]:
    return [VillagerGroupPublic.model_validate(g.model_dump()) for g in regions.groups(session, code)]


@router.put("/regions/{code}/groups/{number}", response_model=VillagerGroupPublic)
def set_group(
    code: str,
    number: Annotated[int, Path(ge=1, le=99)],
    body: GroupName,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Role.village_cadre, Role.county_office, Role.system))],
) -> VillagerGroupPublic:
    """Name a villager group (村民小组)."""
    principal.require_region(code)
    return VillagerGroupPublic.model_validate(regions.set_group(session, code, number, body.name).model_dump())
