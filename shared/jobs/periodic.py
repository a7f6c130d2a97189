"""Periodic jobs (nightly accrual, duty reminders, notice periods ending): declared on the service spec, run once
per period across every replica, and re-runnable for a past day.

A job is a function ``run(session, day)`` doing one day's work in the given transaction. The runner takes the
job's lock, and in one transaction records the period in ``job_run`` (unique per job and period) and runs the
function: either both commit or neither, so a period is done once however many replicas try. Before it
commits, it checks that it still holds the lock; a runner whose lock connection was killed rolls back and stops.

``rerun(day)`` runs a past day again on request. The function must be idempotent for a day (its effects keyed
on the day, not appended), so that a re-run repairs what is missing and adds nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import MetaData, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shared.clock import SHANGHAI
from shared.db import Database
from shared.events.tables import infra_tables
from shared.ids import new_id
from shared.jobs.locks import AdvisoryLock

log = logging.getLogger(__name__)
JOB_RUN = infra_tables(MetaData()).job_run

JobFunction = Callable[[Session, date], object]


@dataclass(frozen=True)
class PeriodicJob:
    """A daily job: due each day from ``at`` (business time, Asia/Shanghai); missed days are caught up in order.

    ``every`` makes it due more often than daily (e.g. every 60 s for notice periods): the function then
    runs each interval with the day the interval falls in, and the period key is the interval's start.
    """

    name: str
    run: JobFunction
    at: time = time(1, 0)
    every: timedelta | None = None
    catch_up_days: int = 7
    description: str = ""

    def periods_due(self, now: datetime, last: str | None) -> list[tuple[str, date]]:
        """The periods to run now, oldest first, as (period key, business day)."""
        local = now.astimezone(SHANGHAI)
        if self.every is not None:
            seconds = int(self.every.total_seconds())
            start = datetime.fromtimestamp(int(local.timestamp()) // seconds * seconds, SHANGHAI)
            key = start.isoformat(timespec="seconds")
            return [] if last == key else [(key, start.date())]
        today = local.date() if local.time() >= self.at else local.date() - timedelta(days=1)
        if last is None:
            return [(today.isoformat(), today)]
        first = max(date.fromisoformat(last) + timedelta(days=1), today - timedelta(days=self.catch_up_days - 1))
        days = (today - first).days + 1
        return [((first + timedelta(d)).isoformat(), first + timedelta(d)) for d in range(max(days, 0))]


class LockLost(RuntimeError):
    pass


class PeriodicRunner:
    """Runs a service's periodic jobs; one instance per process, all replicas cooperate through the locks."""

    def __init__(self, db: Database, jobs: Sequence[PeriodicJob], *, tick_seconds: float = 1.0) -> None:
        self.db = db
        self.service = db.service
        self.engine = db.engine
        self.clock = db.clock
        self.jobs = {job.name: job for job in jobs}
        self.tick_seconds = tick_seconds
        self.locks = {name: AdvisoryLock(self.engine, f"{self.service}.job.{name}") for name in self.jobs}
        self._stopped = False

    def job(self, name: str) -> PeriodicJob:
        return self.jobs[name]

    def last_period(self, name: str) -> str | None:
        with self.db.reader() as session:
            return session.execute(
                select(JOB_RUN.c.period)
                .where(JOB_RUN.c.job == name, JOB_RUN.c.period_kind == "scheduled")
                .order_by(JOB_RUN.c.period.desc())
                .limit(1)
            ).scalar()

    def tick(self) -> list[str]:
        """Run whatever is due now, for the jobs whose lock this process can take; the periods it ran."""
        done = []
        for name, job in self.jobs.items():
            lock = self.locks[name]
            if not lock.try_acquire() or not lock.held:
                continue
            for period, day in job.periods_due(self.clock.now(), self.last_period(name)):
                if self._stopped or not self._run(job, lock, period, day, kind="scheduled"):
                    break
                done.append(f"{name}:{period}")
        return done

    def rerun(self, name: str, day: date) -> dict[str, object]:
        """Run ``name`` for ``day`` again now (a past day, on request), waiting for the job's lock."""
        job = self.jobs[name]
        lock = self.locks[name]
        acquired = not lock.held
        if acquired:
            lock.acquire()
        try:
            period = f"{day.isoformat()}@rerun:{new_id()}"
            self._run(job, lock, period, day, kind="rerun")
        finally:
            if acquired:
                lock.release()
        return {"job": name, "day": day.isoformat(), "period": period}

    def _run(self, job: PeriodicJob, lock: AdvisoryLock, period: str, day: date, *, kind: str) -> bool:
        started = self.clock.now()
        try:
            with self.db.transaction() as session:
                session.execute(
                    insert(JOB_RUN).values(
                        job=job.name,
                        period=period,
                        period_kind=kind,
                        day=day,
                        status="running",
                        started_at=started,
                    )
                )
                result = job.run(session, day)
                session.execute(
                    update(JOB_RUN)
                    .where(JOB_RUN.c.job == job.name, JOB_RUN.c.period == period)
                    .values(status="done", finished_at=self.clock.now(), detail=str(result or "")[:2000])
                )
                if not lock.held:
                    raise LockLost(f"lost the lock of {job.name} while running {period}")
        except IntegrityError:
            return True  # another replica recorded this period first: it is done
        except LockLost as exc:
            log.warning("%s; rolled back, another replica will run it", exc)
            return False
        except Exception:
            log.exception("periodic job %s failed for %s; it is retried at the next tick", job.name, period)
            return False
        log.info("periodic job %s ran for %s", job.name, period)
        return True

    async def run_forever(self) -> None:
        while not self._stopped:
            await asyncio.to_thread(self.tick)
            await asyncio.sleep(self.tick_seconds)

    def stop(self) -> None:
        self._stopped = True
        for lock in self.locks.values():
            lock.release()
