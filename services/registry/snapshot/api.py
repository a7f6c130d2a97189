"""The bulk member snapshot for the county data comparison (大数据比对): the ``system`` role only.

One request streams every member of a region (resident ID, member and household ids, village, household
status, registration date), so another service never asks member by member and never reads these tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import FileResponse, StreamingResponse

from services.registry.snapshot import service
from shared.auth import Principal, Role, require
from shared.files.mime import attachment
from shared.scope import RegionParam, narrow

router = APIRouter(tags=["snapshot"])
System = Annotated[Principal, Depends(require(Role.system))]
PARQUET = "application/vnd.apache.parquet"


@router.get("/snapshot/members.csv", response_class=StreamingResponse)
def members_csv(request: Request, principal: System, region: RegionParam = None) -> StreamingResponse:
    """Every member under ``region`` (all in your scope when absent) as CSV, streamed page by page."""
    stream = service.csv_stream(request.app.state.db, narrow(principal.region, region))
    return StreamingResponse(stream, media_type="text/csv; charset=utf-8", headers=attachment("members.csv"))


@router.get("/snapshot/members.parquet", response_class=FileResponse)
def members_parquet(
    request: Request, principal: System, cleanup: BackgroundTasks, region: RegionParam = None
) -> FileResponse:
    """The same members as a Parquet file (smaller; typed columns)."""
    folder = Path(request.app.state.stack.data_dir) / "registry" / "snapshots"
    path = service.parquet_file(request.app.state.db, narrow(principal.region, region), folder)
    cleanup.add_task(path.unlink, missing_ok=True)
    return FileResponse(path, media_type=PARQUET, headers=attachment("members.parquet"))
