"""Import routes: upload a file, follow the job, read its bad rows, fetch the template."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.registry.imports import service
from services.registry.imports.job import run_import
from services.registry.imports.leases import fail_abandoned_imports
from services.registry.imports.schemas import ImportJobPublic, ImportRowErrorPublic
from services.registry.imports.template_file import template_csv, template_xlsx
from shared.auth import Principal, Role, require
from shared.deps import ReadSessionDep, SessionDep
from shared.disclosure import Reader
from shared.files.mime import XLSX
from shared.files.uploads import spool
from shared.pagination import Page, PageDep

log = logging.getLogger(__name__)
FOLDER = "imports"


@asynccontextmanager
async def recover_abandoned_jobs(app: FastAPI) -> AsyncIterator[None]:
    """On start: jobs left running by a runner that died (a crash, a kill) are marked failed with a reason."""

    def recover() -> None:
        try:
            with app.state.db.transaction() as session:
                fail_abandoned_imports(session)
        except Exception:  # never keep the service from starting; the next import tries again
            log.exception("could not check for abandoned import jobs")

    await run_in_threadpool(recover)
    yield


router = APIRouter(tags=["imports"], lifespan=recover_abandoned_jobs)
Importer = Annotated[Principal, Depends(require(Role.village_cadre, Role.county_office, Role.system))]


@router.post("/imports", status_code=202, response_model=ImportJobPublic)
def start_import(
    request: Request,
    session: SessionDep,
    principal: Importer,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="CSV or XLSX in the import template's columns")],
) -> ImportJobPublic:
    """Start importing households and members; follow ``GET /imports/{id}`` for progress."""
    path = spool(request, file, folder=FOLDER)
    job = service.create_job(session, path, file.filename or path.name, principal)
    background.add_task(run_import, request.app.state.db, job.id, path)
    return ImportJobPublic.model_validate(job.model_dump())


@router.get("/imports/template.csv", response_class=Response)
def get_template_csv(principal: Reader) -> Response:
    """The import template (Chinese headers and one sample household), UTF-8 with BOM for Excel."""
    return Response(template_csv(), media_type="text/csv; charset=utf-8")


@router.get("/imports/template.xlsx", response_class=Response)
def get_template_xlsx(principal: Reader) -> Response:
    return Response(template_xlsx(), media_type=XLSX)


@router.get("/imports/{job_id}", response_model=ImportJobPublic)
def get_import(job_id: str, session: ReadSessionDep, principal: Reader) -> ImportJobPublic:
    return ImportJobPublic.model_validate(service.get_job(session, job_id, principal).model_dump())


@router.get("/imports/{job_id}/errors", response_model=Page[ImportRowErrorPublic])
def get_import_errors(
    job_id: str, session: ReadSessionDep, principal: Reader, page: PageDep
) -> Page[ImportRowErrorPublic]:
    """Each bad row: its row number in the file, the column (its Chinese header) and the reason."""
    rows, next_cursor = service.row_errors(session, job_id, principal, page)
    return Page(items=[ImportRowErrorPublic.model_validate(r.model_dump()) for r in rows], next_cursor=next_cursor)
