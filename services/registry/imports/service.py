"""Import jobs: create one for an uploaded file, read its progress and its row errors."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, col, select

from services.registry.imports.leases import fail_abandoned_imports
from services.registry.models import ImportJob, ImportRowError
from shared.auth import Principal
from shared.clock import session_clock
from shared.pagination import PageParams, paginate
from shared.scope import get_in_scope


def create_job(session: Session, path: Path, filename: str, principal: Principal) -> ImportJob:
    """A queued job; rows outside the principal's region scope will be refused row by row.

    Jobs whose runner died are marked failed first (``leases``), so none stays "running" forever.
    """
    fail_abandoned_imports(session)
    job = ImportJob(
        filename=filename[:200],
        created_by=principal.subject,
        region_scope=principal.region,
        created_at=session_clock(session).now(),
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: str, principal: Principal) -> ImportJob:
    """A job started inside the caller's scope (the scope it was started with); otherwise a 404."""
    return get_in_scope(session, ImportJob, job_id, principal, region_attr="region_scope", what="import")


def row_errors(
    session: Session, job_id: str, principal: Principal, page: PageParams
) -> tuple[list[ImportRowError], str | None]:
    """The job's bad rows in file order, a page at a time."""
    get_job(session, job_id, principal)
    query = select(ImportRowError).where(ImportRowError.job_id == job_id)
    return paginate(session, query, order=[col(ImportRowError.id)], page=page)
