"""Funds fixtures: the app in-process on the test's backend and real NATS, a frozen clock, tokens, API helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from services.funds.main import create_app
from shared.clock import FrozenClock
from shared.settings import StackSettings
from tests.support.served import ServedApp
from tests.support.sql import Sql

TODAY = datetime(2025, 6, 16, 10, 0)
COUNTY = "522323"
VILLAGE = "522323109001"
OTHER_TOWNSHIP_VILLAGE = "522323101001"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
def funds_url(service_database: Callable[..., str]) -> str:
    return service_database("funds", run_jobs=False)  # the tests tick the periodic jobs on the frozen clock


DOWN = "http://127.0.0.1:9"  # nothing listens: a registry that does not answer (never a stack running nearby)


@pytest.fixture
def api(funds_url: str, stack: StackSettings, clock: FrozenClock) -> Iterator[TestClient]:
    """The funds app with its real database and NATS, migrated at start; no registry answers it."""
    alone = stack.model_copy(update={"service_urls": {"registry": DOWN}, "service_call_attempts": 1})
    with TestClient(create_app(stack=alone, clock=clock)) as client:
        yield client


@pytest.fixture
def api_beside_registry(funds_url: str, stack: StackSettings, clock: FrozenClock, served_registry: ServedApp):
    """The funds app with the real registry served beside it (for the place names of notices)."""
    beside = stack.model_copy(update={"service_urls": {"registry": served_registry.url}})
    with TestClient(create_app(stack=beside, clock=clock)) as client:
        yield client


@pytest.fixture
def sql(funds_url: str) -> Iterator[Sql]:
    """One SQL statement against the funds database; returns the scalar (rowcount for writes)."""
    with Sql(funds_url) as run:
        yield run


@pytest.fixture
def county(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("county_office", region=COUNTY, subject="county-finance")


@pytest.fixture
def auditor(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("auditor", region=COUNTY, subject="auditor-li")


@pytest.fixture
def bank(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("bank_officer", region=COUNTY, subject="bank-rcc")
