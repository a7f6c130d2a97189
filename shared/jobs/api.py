"""Routes every service with periodic jobs carries: what its jobs are, their runs, and a re-run of a past day."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import MetaData, select

from shared.auth import Principal, Role, require
from shared.deps import ReadSessionDep
from shared.errors import NotFound, ValidationFailed
from shared.events.tables import infra_tables
from shared.pagination import Page, PageDep, paginate

JOB_RUN = infra_tables(MetaData()).job_run
Operator = Annotated[Principal, Depends(require(Role.county_office, Role.system))]


class JobRunPublic(BaseModel):
    job: str
    period: str
    period_kind: str
    day: date
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    detail: str | None = None


class JobPublic(BaseModel):
    name: str
    description: str
    at: str
    every_seconds: int | None = None


class Rerun(BaseModel):
    day: date = Field(description="the business day to run the job for again (today or earlier)")


def jobs_router() -> APIRouter:
    router = APIRouter(tags=["jobs"])

    @router.get("/jobs", response_model=list[JobPublic])
    def list_jobs(request: Request, _: Operator) -> list[JobPublic]:
        """This service's periodic jobs (a fixed, short list)."""
        return [
            JobPublic(
                name=job.name,
                description=job.description,
                at=job.at.isoformat(),
                every_seconds=int(job.every.total_seconds()) if job.every else None,
            )
            for job in request.app.state.runtime.periodic.jobs.values()
        ]

    @router.get("/jobs/{name}/runs", response_model=Page[JobRunPublic])
    def list_runs(
        name: str, request: Request, session: ReadSessionDep, _: Operator, page: PageDep
    ) -> Page[JobRunPublic]:
        """Runs of one job, oldest first."""
        if name not in request.app.state.runtime.periodic.jobs:
            raise NotFound(f"no periodic job {name}")
        query = select(JOB_RUN).where(JOB_RUN.c.job == name)
        rows, cursor = paginate(session, query, order=[JOB_RUN.c.period], page=page)
        return Page(items=[JobRunPublic.model_validate(r._mapping) for r in rows], next_cursor=cursor)

    @router.post("/jobs/{name}/runs", status_code=201)
    async def rerun(name: str, body: Rerun, request: Request, _: Operator) -> dict[str, object]:
        """Run a job again for a past day. The job is idempotent per day: nothing it already did is done twice."""
        runner = request.app.state.runtime.periodic
        if name not in runner.jobs:
            raise NotFound(f"no periodic job {name}")
        if body.day > runner.clock.today():
            raise ValidationFailed("a job cannot run for a day that has not come", field="day")
        return await asyncio.to_thread(runner.rerun, name, body.day)

    return router
