"""The bulk member snapshot for the county data comparison (大数据比对): the ``system`` role only.

One request streams every member of a region (resident ID, member and household ids, village, household
status, registration date), so another service never asks member by member and never reads these tables.
``compact.csv`` is the narrower form the comparison's whole snapshot reads (its active members, five columns).
With ``parts`` (2 … 16) and ``part`` it streams one part of them, so a reader can ask for all parts at once, each
read on its own core; with ``changed_since`` only the members of households changed since then; the
``Snapshot-Watermark`` header is the time to ask from next (subtract a safety overlap: a write in flight at the
read lands just before).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import AwareDatetime

from services.registry.snapshot import service
from shared.auth import Principal, Role, require
from shared.errors import ValidationFailed
from shared.files.mime import attachment
from shared.scope import RegionParam, narrow

router = APIRouter(tags=["snapshot"])
System = Annotated[Principal, Depends(require(Role.system))]
PARQUET = "application/vnd.apache.parquet"
WATERMARK = "Snapshot-Watermark"
PART = "Snapshot-Part"
ChangedSince = Annotated[
    AwareDatetime | None,
    Query(description="only the members (active or not) of households changed at or after this time"),
]

PartParam = Annotated[int, Query(ge=0, lt=service.MAX_PARTS, description="which part, 0 … parts - 1")]
PartsParam = Annotated[
    int,
    Query(
        ge=1,
        le=service.MAX_PARTS,
        description="ask for the snapshot in this many parts at once (each household whole in one part)",
    ),
]


@dataclass(frozen=True)
class Selection:
    """What one snapshot request asks for: the region prefix narrowed to the caller's scope (None: no overlap),
    the households changed since, and the part."""

    region: str | None
    changed_since: datetime | None
    part: service.Part


async def selection(
    principal: System,
    region: RegionParam = None,
    changed_since: ChangedSince = None,
    part: PartParam = 0,
    parts: PartsParam = 1,
) -> Selection:
    if part >= parts:
        raise ValidationFailed(f"part {part} is not one of the {parts} parts (0 … {parts - 1})", field="part")
    return Selection(narrow(principal.region, region), changed_since, (part, parts) if parts > 1 else None)


Selected = Annotated[Selection, Depends(selection)]


def _headers(request: Request, name: str, part: service.Part) -> dict[str, str]:
    headers = attachment(name) | {WATERMARK: service.watermark(request.app.state.db).isoformat()}
    if part is not None:  # so a reader knows the registry made the part it asked for
        headers[PART] = f"{part[0]}/{part[1]}"
    return headers


@router.get("/snapshot/members.csv", response_class=StreamingResponse)
def members_csv(request: Request, chosen: Selected) -> StreamingResponse:
    """Every member under ``region`` (all in your scope when absent) as CSV, streamed page by page; with
    ``parts``, only the members of part ``part``'s households."""
    headers = _headers(request, "members.csv", chosen.part)  # before the read starts
    stream = service.csv_stream(request.app.state.db, chosen.region, chosen.changed_since, chosen.part)
    return StreamingResponse(stream, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/snapshot/compact.csv", response_class=StreamingResponse)
def compact_csv(request: Request, chosen: Selected) -> StreamingResponse:
    """What the comparison reads: every active member under ``region`` (of part ``part``) as
    ``member_id,household_id,resident_id,region_code,registered_on``, streamed. A whole snapshot only: changes
    are read from ``members.csv`` (``changed_since``), which also gives the members who left."""
    if chosen.changed_since is not None:
        raise ValidationFailed(
            "the compact snapshot is a whole one; ask members.csv for the changes since", field="changed_since"
        )
    headers = _headers(request, "compact.csv", chosen.part)
    stream = service.compact_stream(request.app.state.db, chosen.region, chosen.part)
    return StreamingResponse(stream, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/snapshot/members.parquet", response_class=FileResponse)
def members_parquet(request: Request, cleanup: BackgroundTasks, chosen: Selected) -> FileResponse:
    """The same members as a Parquet file (smaller; typed columns)."""
    folder = Path(request.app.state.stack.data_dir) / "registry" / "snapshots"
    headers = _headers(request, "members.parquet", chosen.part)
    path = service.parquet_file(request.app.state.db, chosen.region, folder, chosen.changed_since, chosen.part)
    cleanup.add_task(path.unlink, missing_ok=True)
    return FileResponse(path, media_type=PARQUET, headers=headers)
