"""Identification fixtures: the app in-process beside a real registry served over HTTP, one frozen clock, tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.identification.main import create_app
from shared.clock import FrozenClock
from shared.settings import StackSettings
from tests.support.builders import household_body
from tests.support.served import ServedApp

TODAY = datetime(2025, 6, 16, 10, 0)
VILLAGE = "522323109001"  # 下街社区, 青山镇, 普安县
TOWNSHIP = VILLAGE[:9]
OTHER_VILLAGE = "522323101001"
CHUZHOU_VILLAGE = "341102001001"
YONGZHOU_VILLAGE = "431102001001"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
def registry(served_registry: ServedApp) -> ServedApp:
    return served_registry


@pytest.fixture
def ident_stack(stack: StackSettings, registry: ServedApp) -> StackSettings:
    return stack.model_copy(update={"service_urls": {"registry": registry.url}, "service_call_attempts": 2})


@pytest.fixture
def api(service_database: Callable[..., str], ident_stack: StackSettings, clock: FrozenClock) -> Iterator[TestClient]:
    """The identification app with its real database and NATS, migrated at start; jobs ticked by the tests."""
    service_database("identification", run_jobs=False)
    with TestClient(create_app(stack=ident_stack, clock=clock)) as client:
        yield client


@pytest.fixture
def reg(registry: ServedApp) -> Iterator[Any]:
    import httpx

    with httpx.Client(base_url=registry.url, timeout=30) as client:  # a loaded CI machine, not a hang
        yield client


@pytest.fixture
def county(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("county_office", region="522323", subject="county-clerk")


@pytest.fixture
def township(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("township_reviewer", region=TOWNSHIP, subject="township-reviewer")


@pytest.fixture
def cadre(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("village_cadre", region=VILLAGE, subject="cadre-xiajie")


def register(reg: Any, headers: dict[str, str], *, region_code: str = VILLAGE, **facts: Any) -> str:
    """A household in the real registry; its id."""
    body = household_body(region_code=region_code) | {"registered_on": "2024-01-10", "status": "non_poor"} | facts
    response = reg.post("/api/v1/households", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def declare_income(reg: Any, headers: dict[str, str], household_id: str, year: int, wages: str) -> None:
    response = reg.post(
        f"/api/v1/households/{household_id}/incomes", json={"year": year, "wages": wages}, headers=headers
    )
    assert response.status_code == 201, response.text
