"""Import jobs on the shared job runner's leases: a runner holds its job's lease while it works, and a job left
running by a runner that died is marked failed with a reason (``shared.jobs.background``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlmodel import Session

from services.registry.models import ImportJob
from shared.db import Database
from shared.jobs.background import JobLease, fail_abandoned

KIND = "registry.import"
ABANDONED = (
    "interrupted: the service stopped while this import was running; rows imported before that stay. "
    "Import the file again: households already there are left as they are."
)


@contextlib.contextmanager
def hold(db: Database, job_id: str) -> Iterator[None]:
    """Hold the job's lease while the block runs (the runner's side)."""
    with JobLease(db.engine, KIND, job_id).hold():
        yield


def fail_abandoned_imports(session: Session) -> list[str]:
    """Mark failed every running (or long-queued) import whose runner is gone; their ids."""
    return fail_abandoned(session, ImportJob, kind=KIND, message=ABANDONED)
