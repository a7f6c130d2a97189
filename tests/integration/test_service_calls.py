"""Calls between services (shared.calls) against a real registry served over HTTP: lists followed to their end,
a route's client dependency, and place names for documents."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from shared import calls
from shared.calls import ServiceClient, ServiceUnavailable
from shared.clock import FrozenClock
from shared.places import place_name, region_code_of
from shared.settings import StackSettings
from tests.support.builders import household_body
from tests.support.served import ServedApp

VILLAGE = "522323109001"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2025, 6, 16, 10, 0))


@pytest.fixture
def registry(served_registry: ServedApp, stack: StackSettings) -> Iterator[ServiceClient]:
    near = stack.model_copy(update={"service_urls": {"registry": served_registry.url}})
    client = ServiceClient(near, "registry", caller="identification")
    yield client
    client.close()


def register(served: ServedApp, headers: dict[str, str], count: int) -> list[str]:
    with httpx.Client(base_url=served.url, timeout=30) as http:
        ids = []
        for _ in range(count):
            answer = http.post("/api/v1/households", json=household_body(region_code=VILLAGE), headers=headers)
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
        return ids


def test_a_list_is_followed_page_by_page_to_its_end(
    registry: ServiceClient, served_registry: ServedApp, token: Callable[..., dict[str, str]], monkeypatch: Any
) -> None:
    ids = register(served_registry, token("county_office", region="522323"), 5)
    monkeypatch.setattr(calls, "PAGE_SIZE", 2)
    pages = list(registry.pages("/households", {"region": VILLAGE}))
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert sorted(h["id"] for h in registry.items("/households", {"region": VILLAGE})) == sorted(ids)
    assert list(registry.items("/households", {"region": "522323101001"})) == []  # an empty list: one page


PLACES = [
    ("522323109001", "普安县青山镇下街社区居民委员会"),
    ("522323109", "普安县青山镇"),  # a township given by its prefix
    ("522323", "普安县"),
    ("522323999999", "522323999999"),  # not in the region tree: the code
]


def test_a_place_is_named_with_its_county_and_township(registry: ServiceClient) -> None:
    assert [place_name(registry, code) for code, _ in PLACES] == [name for _, name in PLACES]


def test_a_place_name_needs_the_registry_to_answer(stack: StackSettings) -> None:
    down = stack.model_copy(update={"service_urls": {"registry": "http://127.0.0.1:9"}, "service_call_attempts": 1})
    client = ServiceClient(down, "registry", caller="funds")
    with pytest.raises(ServiceUnavailable, match="registry"):
        place_name(client, VILLAGE)
    client.close()


def test_region_codes_are_padded_to_twelve_digits() -> None:
    assert [region_code_of(p) for p in ("522323", "522323109", VILLAGE)] == [
        "522323000000",
        "522323109000",
        VILLAGE,
    ]
