"""County data comparison (县级数据比对): dataset kinds and their files, batches, findings and their resolution."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, FastAPI, File, Path, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from services.identification.comparison import service
from services.identification.comparison.jobs import fail_abandoned_batches, run_batch
from services.identification.comparison.schemas import (
    CODE,
    BatchCreate,
    BatchPublic,
    BatchSummary,
    DatasetFilePublic,
    DatasetKindCreate,
    DatasetKindPublic,
    FindingPublic,
    RejectPublic,
    ResolutionIn,
)
from services.identification.deps import County, Reader, Staff
from shared.deps import ReadSessionDep, SessionDep
from shared.files.uploads import TABULAR_SUFFIXES, spool_file
from shared.pagination import Page, PageDep
from shared.scope import RegionParam

log = logging.getLogger(__name__)
SUFFIXES = (*TABULAR_SUFFIXES, ".parquet")
KindCode = Annotated[str, Path(pattern=CODE)]
Id = Annotated[str, Path(max_length=36)]


@asynccontextmanager
async def recover_abandoned_batches(app: FastAPI) -> AsyncIterator[None]:
    """On start: batches left running by a runner that died are marked failed (they kept no finding)."""

    def recover() -> None:
        try:
            with app.state.db.transaction() as session:
                fail_abandoned_batches(session)
        except Exception:  # never keep the service from starting; the next batch tries again
            log.exception("could not check for abandoned comparison batches")

    await run_in_threadpool(recover)
    yield


router = APIRouter(tags=["comparison"], lifespan=recover_abandoned_batches)


@router.post("/datasets", status_code=201, response_model=DatasetKindPublic)
def create_dataset_kind(body: DatasetKindCreate, session: SessionDep, principal: County) -> DatasetKindPublic:
    """Describe a department's file once: key column, evidence columns, the rule a hit touches, conditions."""
    return service.kind_public(session, service.create_kind(session, body, principal))


@router.get("/datasets", response_model=Page[DatasetKindPublic])
def list_dataset_kinds(session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[DatasetKindPublic]:
    rows, cursor = service.list_kinds(session, page)
    return Page(items=[service.kind_public(session, k) for k in rows], next_cursor=cursor)


@router.get("/datasets/{code}", response_model=DatasetKindPublic)
def get_dataset_kind(code: KindCode, session: ReadSessionDep, principal: Reader) -> DatasetKindPublic:
    return service.kind_public(session, service.kind_of(session, code))


@router.post("/datasets/{code}/files", status_code=201, response_model=DatasetFilePublic)
def upload_dataset_file(
    code: KindCode,
    request: Request,
    session: SessionDep,
    principal: County,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GBK), XLSX or Parquet with the kind's columns")],
) -> DatasetFilePublic:
    """A new version of the kind's file (stored, checksummed); the same bytes again change nothing."""
    kind = service.kind_of(session, code)
    spooled = spool_file(request, file, folder=f"datasets/{kind.code}", suffixes=SUFFIXES)
    return service.store_file(session, kind, spooled, principal)


@router.get("/datasets/{code}/files", response_model=Page[DatasetFilePublic])
def list_dataset_files(
    code: KindCode, session: ReadSessionDep, principal: Reader, page: PageDep
) -> Page[DatasetFilePublic]:
    rows, cursor = service.list_files(session, service.kind_of(session, code), page)
    return Page(items=[DatasetFilePublic.model_validate(r.model_dump()) for r in rows], next_cursor=cursor)


@router.get("/datasets/{code}/files/{file_id}/rejects", response_model=Page[RejectPublic])
def list_rejected_rows(
    code: KindCode, file_id: Id, session: ReadSessionDep, principal: Reader, page: PageDep
) -> Page[RejectPublic]:
    """The rows whose resident ID is not valid, with their line in the file and why (IDs masked)."""
    items, cursor = service.list_rejects(session, service.kind_of(session, code), file_id, page)
    return Page(items=items, next_cursor=cursor)


@router.post("/comparisons", status_code=202, response_model=BatchPublic)
def start_comparison(
    body: BatchCreate, request: Request, session: SessionDep, principal: County, background: BackgroundTasks
) -> BatchPublic:
    """Compare every member of a township, county or wider region with the current file of every kind."""
    batch = service.create_batch(session, body, principal)
    folder = service.spool_folder(request.app.state.stack.data_dir)
    background.add_task(run_batch, request.app.state.db, request.app.state.stack, batch.id, folder)
    return service.batch_public(batch)


@router.get("/comparisons", response_model=Page[BatchPublic])
def list_comparisons(
    session: ReadSessionDep, principal: Reader, page: PageDep, region: RegionParam = None
) -> Page[BatchPublic]:
    rows, cursor = service.list_batches(session, principal, region, page)
    return Page(items=[service.batch_public(b) for b in rows], next_cursor=cursor)


@router.get("/comparisons/{batch_id}", response_model=BatchPublic)
def get_comparison(batch_id: Id, session: ReadSessionDep, principal: Reader) -> BatchPublic:
    """A batch's status, phase and progress (percent of dataset kinds matched), and its counts."""
    return service.batch_public(service.get_batch(session, batch_id, principal))


@router.get("/comparisons/{batch_id}/findings", response_model=Page[FindingPublic])
def list_comparison_findings(
    batch_id: Id,
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    rule: Annotated[str | None, Query(max_length=20)] = None,
    household_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[FindingPublic]:
    """The batch's findings inside your scope, with their evidence and resolution."""
    batch = service.get_batch(session, batch_id, principal)
    rows, cursor = service.list_findings(
        session, batch, principal, region=region, rule=rule, household_id=household_id, page=page
    )
    return Page(items=service.findings_public(session, rows), next_cursor=cursor)


@router.get("/comparisons/{batch_id}/summary", response_model=BatchSummary)
def comparison_summary(batch_id: Id, session: ReadSessionDep, principal: Reader) -> BatchSummary:
    """Findings by dataset and rule, and how many re-verification confirmed, dismissed or left open."""
    batch = service.get_batch(session, batch_id, principal)
    return BatchSummary(batch=service.batch_public(batch), lines=service.summary(session, batch, principal))


@router.post("/findings/{finding_id}/resolution", response_model=FindingPublic)
def resolve_finding(finding_id: Id, body: ResolutionIn, session: SessionDep, principal: Staff) -> FindingPublic:
    """Record what re-verification found: confirmed, or dismissed with the reason (不搞一刀切)."""
    finding = service.resolve(session, finding_id, body, principal)
    session.flush()
    return service.findings_public(session, [finding])[0]
