"""Which import jobs are still being run: the runner holds a lock for as long as it works on a job.

A job whose runner died (the service was killed, the machine restarted) would otherwise stay ``running``
forever. The lock dies with its holder, so a job marked running whose lock is free was abandoned:
``fail_abandoned`` marks it failed with a reason. It runs when the service starts and before each new
import; it is safe with several replicas, since a live runner anywhere still holds its lock.

- PostgreSQL: a session advisory lock on a connection the runner keeps for the job's duration.
- SQLite (one machine by nature): an exclusive ``flock`` on ``<job id>.lock`` next to the spooled upload.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text, update
from sqlmodel import Session, col, select

from services.registry.models import ImportJob
from shared.db import Database

log = logging.getLogger(__name__)
LOCK_SPACE = 0x1A0B  # the first key of the two-key advisory locks: "registry import jobs"
QUEUED_GRACE = timedelta(hours=1)  # a job queued this long without a runner never started
ABANDONED = (
    "interrupted: the service stopped while this import was running; rows imported before that stay. "
    "Import the file again: households already there are left as they are."
)


def _key(job_id: str) -> int:
    return zlib.crc32(job_id.encode()) - (1 << 31)  # a signed 32-bit int


def _lock_file(folder: Path, job_id: str) -> Path:
    return folder / f"{job_id}.lock"


@contextlib.contextmanager
def hold(db: Database, job_id: str, folder: Path) -> Iterator[None]:
    """Hold the job's lock while the block runs (the runner's side)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:space, :key)"), {"space": LOCK_SPACE, "key": _key(job_id)})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:space, :key)"), {"space": LOCK_SPACE, "key": _key(job_id)}
                )
                conn.commit()
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = _lock_file(folder, job_id)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)  # releases the lock


def _is_free(session: Session, job_id: str, folder: Path) -> bool:
    """Nobody holds the job's lock. On PostgreSQL the probe's lock is released when the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        probe = text("SELECT pg_try_advisory_xact_lock(:space, :key)")
        return bool(session.execute(probe, {"space": LOCK_SPACE, "key": _key(job_id)}).scalar())
    path = _lock_file(folder, job_id)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def fail_abandoned(session: Session, folder: Path) -> list[str]:
    """Mark failed every running (or long-queued) job whose runner is gone; the ids of those jobs."""
    clock = session.info["clock"]
    now = clock.now()
    jobs = session.execute(
        select(ImportJob.id, ImportJob.status, ImportJob.created_at).where(
            col(ImportJob.status).in_(("running", "queued"))
        )
    ).all()
    failed = []
    for job_id, status, created_at in jobs:
        if status == "queued" and created_at > now - QUEUED_GRACE:
            continue
        if not _is_free(session, job_id, folder):
            continue
        # Only if it is still so: a runner that has just finished committed that before letting go of its lock.
        done = session.execute(
            update(ImportJob)
            .where(col(ImportJob.id) == job_id, col(ImportJob.status) == status)
            .values(status="failed", message=ABANDONED, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount:  # type: ignore[attr-defined]
            log.warning("import %s was abandoned by its runner; marked failed", job_id)
            failed.append(job_id)
    return failed
