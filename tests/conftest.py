"""Fixtures: a real nats-server (JetStream), a real PostgreSQL, SQLite, tokens and settings."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("FUPIN_JWT_SECRET", "test-secret-for-the-suite-only-0123456789abcdef")
os.environ.setdefault("FUPIN_LOG_LEVEL", "WARNING")

from shared.auth import issue_token
from shared.natsserver import NatsServer
from shared.settings import StackSettings
from tests.support.ports import free_port
from tests.support.postgres import PostgresServer

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server per test worker; each test takes fresh databases from it."""
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh JetStream server for one test, so streams and consumers start empty."""
    server = NatsServer(tmp_path / "nats", port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Makes an empty database for a service on the test's backend and returns its URL."""

    def make(service: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'{service}.db'}"
        server: PostgresServer = request.getfixturevalue("postgres_server")
        return server.create_database(service)

    return make


@pytest.fixture
def stack(tmp_path: Path, nats_server: NatsServer) -> StackSettings:
    """Stack settings for in-process apps: this test's NATS, quick retries."""
    return StackSettings(
        data_dir=tmp_path / "var",
        nats_url=nats_server.url,
        jwt_secret=os.environ["FUPIN_JWT_SECRET"],
        relay_poll_seconds=0.1,
        consumer_backoff_seconds=0.1,
        consumer_backoff_max_seconds=1.0,
        consumer_max_attempts=3,
        consumer_ack_wait_seconds=2.0,
    )


@pytest.fixture
def token() -> Callable[..., dict[str, str]]:
    """Authorization headers for a role and region scope."""

    def make(*roles: str, region: str = "522323", subject: str = "tester") -> dict[str, str]:
        settings = StackSettings(jwt_secret=os.environ["FUPIN_JWT_SECRET"])
        return {"Authorization": f"Bearer {issue_token(settings, subject=subject, roles=list(roles), region=region)}"}

    return make
