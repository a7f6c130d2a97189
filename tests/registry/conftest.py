"""Registry fixtures: the app in-process on the test's backend, a frozen clock, and API helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from services.registry.main import create_app
from shared.clock import FrozenClock
from shared.settings import StackSettings
from tests.support.sql import Sql

TODAY = datetime(2025, 6, 16, 10, 0)
VILLAGE = "522323109001"  # 下街社区, 青山镇, 普安县
OTHER_TOWNSHIP_VILLAGE = "522323101001"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
def registry_url(service_database: Callable[..., str]) -> str:
    return service_database("registry")


@pytest.fixture
def api(registry_url: str, stack: StackSettings, clock: FrozenClock) -> Iterator[TestClient]:
    """The registry app with its real database and NATS, migrated at start."""
    with TestClient(create_app(stack=stack, clock=clock)) as client:
        yield client


@pytest.fixture
def sql(registry_url: str) -> Iterator[Sql]:
    """One SQL statement against the registry's database, returning the scalar (for outbox checks)."""
    with Sql(registry_url) as run:
        yield run


@pytest.fixture
def county(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("county_office", region="522323", subject="county-clerk")


@pytest.fixture
def cadre(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("village_cadre", region=VILLAGE, subject="cadre-xiajie")


@pytest.fixture
def system(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("system", region="", subject="registry-tests")
