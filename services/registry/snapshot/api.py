"""The bulk member snapshot for the county data comparison (大数据比对): the ``system`` role only.

One request streams every member of a region (resident ID, member and household ids, village, household
status, registration date), so another service never asks member by member and never reads these tables.
With ``changed_since`` it streams only the members of households changed since then; the ``Snapshot-Watermark``
header is the time to ask from next (subtract a safety overlap: a write in flight at the read lands just before).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import AwareDatetime

from services.registry.snapshot import service
from shared.auth import Principal, Role, require
from shared.files.mime import attachment
from shared.scope import RegionParam, narrow

router = APIRouter(tags=["snapshot"])
System = Annotated[Principal, Depends(require(Role.system))]
PARQUET = "application/vnd.apache.parquet"
WATERMARK = "Snapshot-Watermark"
ChangedSince = Annotated[
    AwareDatetime | None,
    Query(description="only the members (active or not) of households changed at or after this time"),
]


def _headers(request: Request, name: str) -> dict[str, str]:
    return attachment(name) | {WATERMARK: service.watermark(request.app.state.db).isoformat()}


@router.get("/snapshot/members.csv", response_class=StreamingResponse)
def members_csv(
    request: Request, principal: System, region: RegionParam = None, changed_since: ChangedSince = None
) -> StreamingResponse:
    """Every member under ``region`` (all in your scope when absent) as CSV, streamed page by page."""
    headers = _headers(request, "members.csv")  # before the read starts
    stream = service.csv_stream(request.app.state.db, narrow(principal.region, region), changed_since)
    return StreamingResponse(stream, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/snapshot/members.parquet", response_class=FileResponse)
def members_parquet(
    request: Request,
    principal: System,
    cleanup: BackgroundTasks,
    region: RegionParam = None,
    changed_since: ChangedSince = None,
) -> FileResponse:
    """The same members as a Parquet file (smaller; typed columns)."""
    folder = Path(request.app.state.stack.data_dir) / "registry" / "snapshots"
    headers = _headers(request, "members.parquet")
    path = service.parquet_file(request.app.state.db, narrow(principal.region, region), folder, changed_since)
    cleanup.add_task(path.unlink, missing_ok=True)
    return FileResponse(path, media_type=PARQUET, headers=headers)
