"""Migrations build exactly the tables the models describe; one relay leads among replicas."""

from __future__ import annotations

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
