"""Loans fixtures: the app in-process on the test's backend with a frozen clock, tokens, and the builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from services.loans.main import create_app
from shared.clock import FrozenClock
from shared.settings import StackSettings
from tests.loans.builders import COUNTY, OTHER_COUNTY, TODAY, VILLAGE, Loans
from tests.support.sql import Sql


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
def loans_url(service_database: Callable[..., str]) -> str:
    return service_database("loans", run_jobs=False)  # the tests run the nightly job for the day they choose


@pytest.fixture
def api(loans_url: str, stack: StackSettings, clock: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(stack=stack, clock=clock)) as client:
        yield client


@pytest.fixture
def sql(loans_url: str) -> Iterator[Sql]:
    with Sql(loans_url) as run:
        yield run


@pytest.fixture
def officer(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("bank_officer", region=COUNTY, subject="officer-wang")


@pytest.fixture
def county(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("county_office", region=COUNTY, subject="county-finance")


@pytest.fixture
def cadre(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("village_cadre", region=VILLAGE, subject="cadre-xiajie")


@pytest.fixture
def outsider(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("bank_officer", "county_office", region=OTHER_COUNTY, subject="officer-elsewhere")


@pytest.fixture
def loans(
    api: TestClient,
    stack: StackSettings,
    sql: Sql,
    officer: dict[str, str],
    county: dict[str, str],
    clock: FrozenClock,
) -> Loans:
    return Loans(api, stack, sql, officer, county, clock)
