"""Migrations build exactly the tables the models describe; one relay leads among replicas."""

from __future__ import annotations

import threading
import time
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.cli.services import SERVICES, load_spec
from shared.db import make_engine, upgrade
from shared.jobs.locks import AdvisoryLock

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(service, empty_database_url) -> None:
    spec = load_spec(service)
    url = empty_database_url(service)
    upgrade(spec.migrations, url, service=service)
    upgrade(spec.migrations, url, service=service)  # a second run is a no-op
    engine = make_engine(url, immediate=False)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), spec.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_only_one_replica_leads_and_leadership_passes_on(postgres_server) -> None:
    url = postgres_server.create_database("leader")
    first, second = make_engine(url), make_engine(url)
    a, b = AdvisoryLock(first, "registry.outbox-relay"), AdvisoryLock(second, "registry.outbox-relay")
    try:
        assert a.try_acquire() is True
        assert a.try_acquire() is True  # still leading
        assert b.try_acquire() is False
        a.release()
        assert b.try_acquire() is True
        assert a.try_acquire() is False
    finally:
        a.release()
        b.release()
        first.dispose()
        second.dispose()


def test_on_sqlite_one_holder_at_a_time_too(tmp_path) -> None:
    """Two worker processes can share one SQLite file: the lock file makes them take turns."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    first, second = AdvisoryLock(engine, "x"), AdvisoryLock(engine, "x")
    assert first.try_acquire() is True
    assert second.try_acquire() is False
    first.release()
    assert second.try_acquire() is True
    second.release()
    engine.dispose()


def test_a_lock_checked_in_one_thread_and_released_in_another_keeps_its_connection_whole(postgres_server) -> None:
    """A job's thread asks ``held`` while the service's shutdown releases the lock (the relay, the periodic
    runner): the lock's one connection is never used by both at once (SQLAlchemy warned of a transaction
    'already deassociated from connection' before), and after the release nobody holds it."""
    url = postgres_server.create_database("lock-threads")
    engine, other = make_engine(url), make_engine(url)
    lock = AdvisoryLock(engine, "notifications.duties")
    problems: list[BaseException] = []
    start = threading.Barrier(4)

    def check() -> None:
        start.wait()
        try:
            for _ in range(300):
                if not lock.held:
                    return  # released: it stays so
        except BaseException as exc:  # the test reports whatever the thread met
            problems.append(exc)

    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            for _ in range(10):
                assert lock.try_acquire()
                threads = [threading.Thread(target=check) for _ in range(3)]
                for t in threads:
                    t.start()
                start.wait()
                time.sleep(0.01)  # the checkers are at it
                lock.release()
                for t in threads:
                    t.join()
                assert not lock.held
        assert [str(w.message) for w in seen] == []
        assert problems == []
        rival = AdvisoryLock(other, "notifications.duties")
        assert rival.try_acquire() is True  # the release did release it
        rival.release()
    finally:
        lock.release()
        engine.dispose()
        other.dispose()
