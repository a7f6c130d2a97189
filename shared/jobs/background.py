"""Background jobs (an import, a comparison batch): a lease while a runner works on one, and recovery of the
jobs whose runner died.

A job is a row in the service's own job table (it carries what that kind of job reports: counts, errors), with
at least ``id``, ``status`` (queued, running, done, failed), ``created_at``, ``finished_at`` and ``message``.
While a runner works on a job it holds the job's lease (an ``AdvisoryLock`` named after the job), which dies
with the runner's process or connection. ``fail_abandoned`` marks failed every running job whose lease is
free, and every queued job older than a grace period; it runs when the service starts and before new work,
and is safe with several replicas, since a live runner anywhere still holds its lease.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlmodel import Session

from shared.clock import session_clock
from shared.jobs.locks import AdvisoryLock, probe_free

log = logging.getLogger(__name__)
QUEUED_GRACE = timedelta(hours=1)
INTERRUPTED = "interrupted: the service stopped while this job was running"


class JobLease:
    """The lease of job ``job_id`` of kind ``kind`` (the lock name is ``<kind>.<job_id>``)."""

    def __init__(self, engine: Engine, kind: str, job_id: str) -> None:
        self.lock = AdvisoryLock(engine, f"{kind}.{job_id}")

    @contextlib.contextmanager
    def hold(self) -> Iterator[AdvisoryLock]:
        self.lock.acquire()
        try:
            yield self.lock
        finally:
            self.lock.release()


def lease_is_free(engine: Engine, kind: str, job_id: str) -> bool:
    return probe_free(engine, f"{kind}.{job_id}")


def fail_abandoned(
    session: Session, model: Any, *, kind: str, message: str = INTERRUPTED, queued_grace: timedelta = QUEUED_GRACE
) -> list[str]:
    """Mark failed every job of ``model`` whose runner is gone; the ids of those jobs."""
    engine = session.get_bind().engine
    now = session_clock(session).now()
    jobs = session.execute(
        select(model.id, model.status, model.created_at).where(model.status.in_(("running", "queued")))
    ).all()
    failed = []
    for job_id, status, created_at in jobs:
        if status == "queued" and created_at > now - queued_grace:
            continue
        if not lease_is_free(engine, kind, job_id):
            continue
        # Only if it is still so: a runner that has just finished committed that before letting go of its lease.
        done = session.execute(
            update(model)
            .where(model.id == job_id, model.status == status)
            .values(status="failed", message=message, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount:  # type: ignore[attr-defined]
            log.warning("%s job %s was abandoned by its runner; marked failed", kind, job_id)
            failed.append(job_id)
    return failed
