"""Fixtures: a real nats-server (JetStream), a real PostgreSQL, SQLite, tokens and settings."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import nats
import pytest
from nats.js.errors import NotFoundError

os.environ.setdefault("FUPIN_JWT_SECRET", "test-secret-for-the-suite-only-0123456789abcdef")
os.environ.setdefault("FUPIN_LOG_LEVEL", "WARNING")

from shared.auth import issue_token
from shared.cli.services import SERVICES, load_spec
from shared.clock import Clock
from shared.db import upgrade
from shared.natsserver import NatsServer
from shared.settings import StackSettings, stack_settings
from tests.support.leaks import personal_data_in
from tests.support.ports import free_port
from tests.support.postgres import PostgresServer
from tests.support.served import ServedApp

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server per test worker; each test takes fresh databases from it."""
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def worker_nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """One JetStream server per test worker; ``nats_server`` gives each test its own subjects and streams on it."""
    server = NatsServer(tmp_path_factory.mktemp("nats"), port=free_port())
    server.start()
    yield server
    server.stop()


_BROKER_NAMES = ("FUPIN_SUBJECT_PREFIX", "FUPIN_STREAM_NAME", "FUPIN_DLQ_STREAM_NAME")
_test_numbers = itertools.count(1)


@pytest.fixture
def nats_server(worker_nats_server: NatsServer) -> Iterator[NatsServer]:
    """The worker's JetStream server, with subjects (``t<n>.>``) and streams (``T<n>``) of this test's own.

    The names go into the environment, so every StackSettings the test builds and every service process it starts
    (they inherit the environment) use them. A consumer or relay that outlives its test keeps to its own test's
    stream and never takes another test's messages; the test's streams are deleted afterwards."""
    number = next(_test_numbers)
    names = dict(zip(_BROKER_NAMES, (f"t{number}", f"T{number}", f"T{number}_DLQ"), strict=True))
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    stack_settings.cache_clear()
    try:
        yield worker_nats_server
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        stack_settings.cache_clear()
        asyncio.run(
            _delete_streams(worker_nats_server.url, [names["FUPIN_STREAM_NAME"], names["FUPIN_DLQ_STREAM_NAME"]])
        )


async def _delete_streams(url: str, streams: list[str]) -> None:
    client = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=1)
    try:
        js = client.jetstream()
        for stream in streams:
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(stream)
    finally:
        await client.close()


@pytest.fixture
def own_nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A JetStream server of this test's own, for tests that stop, kill or wipe it."""
    server = NatsServer(tmp_path / "nats", port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


class Templates:
    """Per worker and backend, each service's database migrated once; tests get copies of it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: dict[tuple[str, str], str] = {}

    def sqlite(self, service: str) -> Path:
        key = ("sqlite", service)
        if key not in self.made:
            path = self.folder / f"template-{service}.db"
            upgrade(load_spec(service).migrations, f"sqlite:///{path}", service=service)
            self.made[key] = str(path)
        return Path(self.made[key])

    def postgres(self, server: PostgresServer, service: str) -> str:
        key = ("postgres", service)
        if key not in self.made:
            url = server.create_database(f"template_{service}")
            upgrade(load_spec(service).migrations, url, service=service)
            self.made[key] = url.rsplit("/", 1)[1]
        return self.made[key]


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def database_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, templates: Templates
) -> Callable[[str], str]:
    """Makes a database for a service on the test's backend and returns its URL: for one of the five services a
    copy of its database migrated once per worker (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on
    PostgreSQL), otherwise an empty one. Tests of the migrations themselves take ``empty_database_url``."""

    def make(service: str) -> str:
        if backend == "sqlite":
            target = tmp_path / f"{service}.db"
            if service in SERVICES:
                shutil.copyfile(templates.sqlite(service), target)
            return f"sqlite:///{target}"
        server: PostgresServer = request.getfixturevalue("postgres_server")
        if service in SERVICES:
            return server.create_database(service, template=templates.postgres(server, service))
        return server.create_database(service)

    return make


@pytest.fixture
def service_database(database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """A service's database for this test (a migrated copy), set in ``FUPIN_<SERVICE>_DATABASE_URL`` where its app
    and processes read it. ``run_jobs=False`` for tests that tick the periodic jobs themselves."""

    def make(service: str, *, run_jobs: bool = True) -> str:
        url = database_url(service)
        monkeypatch.setenv(f"FUPIN_{service.upper()}_DATABASE_URL", url)
        if not run_jobs:
            monkeypatch.setenv(f"FUPIN_{service.upper()}_RUN_JOBS", "false")
        return url

    return make


@pytest.fixture
def served_registry(service_database: Callable[..., str], stack: StackSettings, clock: Clock) -> Iterator[ServedApp]:
    """The real registry served over HTTP on a port of its own (uvicorn in a thread), on the test's backend and
    clock (a ``clock`` fixture of the test's package), its jobs off: for the services that read it."""
    from services.registry.main import create_app

    service_database("registry", run_jobs=False)
    with ServedApp(create_app(stack=stack, clock=clock)) as served:
        yield served


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], str]:
    """An empty database on the test's backend, for tests that run migrations from the start."""

    def make(service: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'{service}-empty.db'}"
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


# --- over the whole run ---------------------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need PostgreSQL carry the ``postgres`` marker (``-m "not postgres"`` runs without it)."""
    for item in items:
        params = getattr(item, "callspec", None)
        on_postgres = params is not None and params.params.get("backend") == "postgres"
        if on_postgres or "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every service log the run wrote (processes the tests started) is grepped for whole resident IDs and
    mobile numbers: personal data must never reach a log, whatever a test did."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    leaks = []
    for log in Path(factory.getbasetemp()).rglob("*.log"):
        if log.name in ("nats.log", "server.log"):  # the broker's and PostgreSQL's own, not ours
            continue
        text = log.read_text(encoding="utf-8", errors="replace")
        found = personal_data_in(text)
        if found:
            leaks.append(f"{log}: …{text[max(found.start() - 80, 0) : found.end() + 20]!r}")
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("personal data in service logs:\n" + "\n".join(leaks))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
