"""The contract every route of every service keeps, read off each service's own OpenAPI so that a new route is
covered the day it exists: a bearer token is required (401), a token without a fitting role is refused (403),
both as problem+json; no list returns unbounded rows (every GET that lists answers a ``Page``); and a record in one
township is invisible to a token of another (404 on its reads, absent from every list)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.cli.services import SERVICES, load_spec
from shared.service import build_app
from shared.settings import StackSettings
from tests.support.builders import household_body

pytestmark = pytest.mark.integration
OUTSIDE_BEARER_AUTH = {  # gateways cannot send our token: these check a shared secret of their own
    ("notifications", "/api/v1/receipts"),
    ("notifications", "/api/v1/inbound"),
}
BOUNDED_LISTS = {  # arrays whose length is fixed by code or by a short configuration, not by the data's size
    ("*", "/api/v1/jobs"),  # the service's declared periodic jobs
    ("funds", "/api/v1/projects/{project_id}/shares"),  # one line per share rule of the year's rule set
    ("funds", "/api/v1/reports/shares"),  # the same, for a county and year
    ("funds", "/api/v1/reports/findings"),  # counts by township and finding kind
}


def service_app(name: str, stack: StackSettings) -> Any:
    return build_app(load_spec(name), stack=stack)


@pytest.fixture(params=SERVICES)
def service(
    request: pytest.FixtureRequest, stack: StackSettings, database_url, monkeypatch
) -> Iterator[tuple[str, TestClient]]:  # type: ignore[no-untyped-def]
    name = request.param
    monkeypatch.setenv(f"FUPIN_{name.upper()}_DATABASE_URL", database_url(name))
    with TestClient(service_app(name, stack)) as client:
        yield name, client


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/openapi.json").json()
    return [
        (method.upper(), path, op)
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
        if path.startswith("/api/v1/")
    ]


def concrete(path: str, value: str = "0") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def is_problem(response: Any) -> bool:
    return response.headers.get("content-type", "").startswith("application/problem+json")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_route_needs_a_token_and_a_fitting_role(service, token) -> None:  # type: ignore[no-untyped-def]
    name, client = service
    roleless = token(region="522323", subject="nobody")
    unguarded, wrong = [], []
    for method, path, _ in operations(client):
        if (name, path) in OUTSIDE_BEARER_AUTH:
            continue
        url = concrete(path)
        anonymous = client.request(method, url)
        if anonymous.status_code != 401 or not is_problem(anonymous):
            unguarded.append(f"{method} {path} -> {anonymous.status_code}")
        no_role = client.request(method, url, headers=roleless)
        if no_role.status_code != 403 or not is_problem(no_role):
            wrong.append(f"{method} {path} -> {no_role.status_code}")
    assert unguarded == [], f"{name}: routes answering without a token"
    assert wrong == [], f"{name}: routes not checking the caller's role"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_list_is_a_page(service) -> None:  # type: ignore[no-untyped-def]
    name, client = service
    bare = set()
    for method, path, op in operations(client):
        if method != "GET" or ("*", path) in BOUNDED_LISTS or (name, path) in BOUNDED_LISTS:
            continue
        schema = op.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") == "array":
            bare.add((name, path))
    assert bare == set(), f"lists without pagination: {sorted(bare)}"


# The records each service can be seeded with through its own API, inside township 109 (青山镇) of 普安县.
Seeder = Callable[[TestClient, dict[str, str]], list[str]]


def seed_registry(client: TestClient, county: dict[str, str]) -> list[str]:
    response = client.post("/api/v1/households", json=household_body(), headers=county)
    assert response.status_code == 201, response.text
    body = response.json()
    return [body["id"], *(m["id"] for m in body["members"])]


SEEDERS: dict[str, Seeder] = {"registry": seed_registry}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_record_is_invisible_outside_its_region(service, token) -> None:  # type: ignore[no-untyped-def]
    name, client = service
    if name not in SEEDERS:
        pytest.skip(f"{name} has no seeder in this suite yet; its own tests cover its scope")
    ids = SEEDERS[name](client, token("county_office", region="522323", subject="seeder"))
    other_township = token("county_office", "township_reviewer", region="522323101", subject="elsewhere")
    leaks = []
    for method, path, _ in operations(client):
        if method != "GET":
            continue
        params = re.findall(r"\{([^}]+)\}", path)
        urls = [concrete(path, ids[0])] if params else [path]
        for url in urls:
            response = client.get(url, headers=other_township)
            if response.status_code >= 500:
                leaks.append(f"GET {url} -> {response.status_code}")
            elif response.status_code == 200 and any(i in response.text for i in ids):
                leaks.append(f"GET {url} shows a record of another township")
            elif params and response.status_code not in (404, 422, 403):
                leaks.append(f"GET {url} -> {response.status_code}, not 404")
    assert leaks == []


def test_the_suite_key_is_set() -> None:
    assert os.environ["FUPIN_JWT_SECRET"]
