"""A periodic job for the tests: one effect per day (idempotent), and a count of how often it ran."""

from __future__ import annotations

import sys
from datetime import date, datetime

from sqlalchemy import text
from sqlmodel import Session

from shared.clock import FrozenClock
from shared.db import Database
from shared.jobs import PeriodicJob, PeriodicRunner

EFFECT_DDL = (
    "CREATE TABLE IF NOT EXISTS job_effect (day VARCHAR(10) PRIMARY KEY, n INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS job_call (day VARCHAR(10) NOT NULL, who VARCHAR(40) NOT NULL)",
)


def accrue(session: Session, day: date) -> str:
    """One day's work: the effect is keyed on the day, so running the day again adds nothing."""
    session.execute(
        text("INSERT INTO job_effect (day, n) VALUES (:d, 1) ON CONFLICT (day) DO NOTHING"), {"d": day.isoformat()}
    )
    session.execute(text("INSERT INTO job_call (day, who) VALUES (:d, :w)"), {"d": day.isoformat(), "w": WHO[0]})
    return f"accrued {day}"


WHO = ["main"]
NIGHTLY = PeriodicJob(name="nightly", run=accrue, description="test accrual")


def runner(url: str, at: datetime, job: PeriodicJob = NIGHTLY) -> PeriodicRunner:
    return PeriodicRunner(Database(url, service="registry", clock=FrozenClock(at)), [job])


def main() -> None:
    """``python -m tests.platform.jobs_support URL ISO-TIME WHO``: tick once in a process of its own."""
    url, at, who = sys.argv[1], datetime.fromisoformat(sys.argv[2]), sys.argv[3]
    WHO[0] = who
    ran = runner(url, at).tick()
    print(",".join(ran))


if __name__ == "__main__":
    main()
