"""Registry fixtures: the app in-process on the test's backend, a frozen clock, and API helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from services.registry.main import create_app
from shared.clock import FrozenClock
from shared.settings import StackSettings

TODAY = datetime(2025, 6, 16, 10, 0)
VILLAGE = "522323109001"  # 下街社区, 青山镇, 普安县
OTHER_TOWNSHIP_VILLAGE = "522323101001"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
def registry_url(database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch) -> str:
    url = database_url("registry")
    monkeypatch.setenv("FUPIN_REGISTRY_DATABASE_URL", url)
    return url


@pytest.fixture
def api(registry_url: str, stack: StackSettings, clock: FrozenClock) -> Iterator[TestClient]:
    """The registry app with its real database and NATS, migrated at start."""
    with TestClient(create_app(stack=stack, clock=clock)) as client:
        yield client


@pytest.fixture
def sql(registry_url: str) -> Iterator[Callable[..., Any]]:
    """Run one SQL statement against the registry's database and return the scalar (for outbox checks)."""
    engine = create_engine(registry_url)

    def run(statement: str, **params: Any) -> Any:
        with engine.connect() as conn:
            return conn.execute(text(statement), params).scalar()

    yield run
    engine.dispose()


@pytest.fixture
def county(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("county_office", region="522323", subject="county-clerk")


@pytest.fixture
def cadre(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("village_cadre", region=VILLAGE, subject="cadre-xiajie")


@pytest.fixture
def system(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("system", region="", subject="registry-tests")
