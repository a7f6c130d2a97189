"""Periodic jobs run once across processes, stop when their lock's connection dies, and re-run a past day safely;
an old database upgrades to today's infrastructure tables."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, text

from services.registry.main import SPEC
from shared.db import upgrade
from shared.jobs import PeriodicJob
from tests.platform import jobs_support
from tests.platform.jobs_support import EFFECT_DDL, accrue

pytestmark = pytest.mark.integration
NIGHT = datetime(2026, 3, 10, 2, 0)


@pytest.fixture
def job_db(database_url) -> str:
    url = database_url("registry")
    upgrade(SPEC.migrations, url, service="registry")
    engine = create_engine(url)
    with engine.begin() as conn:
        for ddl in EFFECT_DDL:
            conn.execute(text(ddl))
    engine.dispose()
    return url


def scalar(url: str, sql: str) -> object:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def test_a_period_runs_once_across_two_processes(job_db) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.platform.jobs_support", job_db, NIGHT.isoformat(), who],
            stdout=subprocess.PIPE,
            text=True,
        )
        for who in ("replica-a", "replica-b")
    ]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(outputs) == ["", "nightly:2026-03-10"] or outputs == ["nightly:2026-03-10"] * 2
    assert scalar(job_db, "SELECT count(*) FROM job_call") == 1
    assert scalar(job_db, "SELECT count(*) FROM job_run WHERE job = 'nightly'") == 1
    # The next tick the same night finds nothing due.
    assert jobs_support.runner(job_db, NIGHT).tick() == []


def test_missed_nights_are_caught_up_in_order(job_db) -> None:
    first = jobs_support.runner(job_db, NIGHT)
    first.tick()
    first.stop()  # the replica that ran the first night goes away
    ran = jobs_support.runner(job_db, datetime(2026, 3, 13, 3, 0)).tick()
    assert ran == ["nightly:2026-03-11", "nightly:2026-03-12", "nightly:2026-03-13"]


def test_not_due_before_its_hour(job_db) -> None:
    assert jobs_support.runner(job_db, datetime(2026, 3, 10, 0, 30)).tick() == ["nightly:2026-03-09"]


def test_rerunning_a_past_day_has_no_second_effect(job_db) -> None:
    runner = jobs_support.runner(job_db, NIGHT)
    runner.tick()
    result = runner.rerun("nightly", date(2026, 3, 10))
    assert result["day"] == "2026-03-10"
    assert scalar(job_db, "SELECT count(*) FROM job_call") == 2  # it ran again
    assert scalar(job_db, "SELECT sum(n) FROM job_effect") == 1  # and did nothing twice
    assert scalar(job_db, "SELECT count(*) FROM job_run WHERE period_kind = 'rerun'") == 1


def test_a_runner_whose_lock_connection_is_killed_stops_and_rolls_back(postgres_server, job_db, backend) -> None:
    if backend != "postgres":
        pytest.skip("a lock's connection exists on PostgreSQL only")
    victim = jobs_support.runner(job_db, NIGHT)

    def killed_mid_run(session, day):  # type: ignore[no-untyped-def]
        accrue(session, day)
        pid = victim.locks["nightly"].backend_pid()
        admin = create_engine(job_db)
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        admin.dispose()

    victim.jobs["nightly"] = PeriodicJob(name="nightly", run=killed_mid_run)
    assert victim.tick() == []
    assert scalar(job_db, "SELECT count(*) FROM job_call") == 0  # rolled back with the run
    assert scalar(job_db, "SELECT count(*) FROM job_run") == 0
    other = jobs_support.runner(job_db, NIGHT)
    assert other.tick() == ["nightly:2026-03-10"]
    assert scalar(job_db, "SELECT sum(n) FROM job_effect") == 1


def test_an_old_database_upgrades_to_the_partial_index(empty_database_url, backend) -> None:
    from alembic import command

    from shared.db import alembic_config, make_engine

    url = empty_database_url("registry")
    engine = make_engine(url, immediate=False)
    with engine.connect() as conn:
        cfg = alembic_config(SPEC.migrations, url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "a95b61309575")  # the registry as it landed before infra v2
        conn.commit()
    engine.dispose()
    assert "sent_at" in index_definition(url, backend)
    upgrade(SPEC.migrations, url, service="registry")
    definition = index_definition(url, backend)
    assert "WHERE" in definition.upper() and "sent_at IS NULL" in definition
    assert scalar(url, "SELECT count(*) FROM job_run") == 0


def index_definition(url: str, backend: str) -> str:
    if backend == "sqlite":
        return str(scalar(url, "SELECT sql FROM sqlite_master WHERE name = 'ix_outbox_unsent'"))
    return str(scalar(url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_outbox_unsent'"))
