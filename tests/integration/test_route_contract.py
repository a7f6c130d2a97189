"""The contract every route of every service keeps, read off each service's own OpenAPI so that a new route is
covered the day it exists: a bearer token is required (401), a token without a fitting role is refused (403),
both as problem+json; a JSON body that is not JSON or not the right shape is a 422 problem+json naming the field; no
list returns unbounded rows (every GET that lists answers a ``Page``); and a record in one township, seeded through
the service's own API and events (seeders.py), is invisible to a token of another (404 on its reads, absent from
every list and report)."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shared.auth import Role
from shared.cli.services import SERVICES, load_spec
from shared.clock import FrozenClock
from shared.service import build_app
from shared.settings import StackSettings
from tests.integration.seeders import SEEDERS, Seeding
from tests.loans.builders import TODAY
from tests.support.served import ServedApp

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
    """A service's app on a frozen clock (seeders move it to end a notice period, as the services' own tests do)."""
    return build_app(load_spec(name), stack=stack, clock=FrozenClock(TODAY))


@dataclass
class Subject:
    """One service under test: its client, and what a seeder needs to put records into it."""

    name: str
    client: TestClient
    seeding: Seeding


@pytest.fixture(params=SERVICES)
def service(
    request: pytest.FixtureRequest, stack: StackSettings, database_url, monkeypatch, token
) -> Iterator[Subject]:  # type: ignore[no-untyped-def]
    name = request.param
    url = database_url(name)
    monkeypatch.setenv(f"FUPIN_{name.upper()}_DATABASE_URL", url)
    with contextlib.ExitStack() as peers:
        registry = None
        if name == "identification":  # it reads households from the registry over HTTP
            monkeypatch.setenv("FUPIN_REGISTRY_DATABASE_URL", database_url("registry"))
            served = peers.enter_context(ServedApp(service_app("registry", stack)))
            stack = stack.model_copy(update={"service_urls": {"registry": served.url}})
            registry = peers.enter_context(httpx.Client(base_url=served.url, timeout=30))
        client = peers.enter_context(TestClient(service_app(name, stack)))
        yield Subject(name, client, Seeding(client, stack, url, token, registry))


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
    name, client = service.name, service.client
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
    name, client = service.name, service.client
    bare = set()
    for method, path, op in operations(client):
        if method != "GET" or ("*", path) in BOUNDED_LISTS or (name, path) in BOUNDED_LISTS:
            continue
        schema = op.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") == "array":
            bare.add((name, path))
    assert bare == set(), f"lists without pagination: {sorted(bare)}"


def json_body_operations(client: TestClient) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path, op in operations(client)
        if "application/json" in op.get("requestBody", {}).get("content", {})
    ]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_json_body_is_checked_before_anything_runs(service, token) -> None:  # type: ignore[no-untyped-def]
    """With every role a person holds: a body that is not JSON, and one of the wrong shape, are each a 422
    problem+json whose errors name a field, on every route that takes a JSON body."""
    name, client = service.name, service.client
    everyone = token(*[r for r in Role if r is not Role.system], region="522323", subject="validator")
    wrong, bodies = [], json_body_operations(client)
    assert bodies, f"{name} takes no JSON body?"
    for method, path in bodies:
        url = concrete(path, "01a23833-0000-7000-8000-000000000000")
        for body in (b"{not json", b"[1, 2]"):
            response = client.request(
                method, url, content=body, headers=everyone | {"content-type": "application/json"}
            )
            errors = response.json().get("errors", []) if is_problem(response) else []
            if response.status_code == 404:
                continue  # the path's record is looked up first and does not exist: nothing ran either
            if response.status_code != 422 or not errors or not all("field" in e for e in errors):
                wrong.append(f"{method} {path} {body[:9]!r} -> {response.status_code} {response.text[:120]}")
    assert wrong == [], f"{name}: bodies not refused as a 422 naming the field"


OUTSIDER_ROLES = [role for role in Role if role is not Role.system]  # every role a person holds


def concrete_for(path: str, params: dict[str, str]) -> str:
    """The path with each parameter a seeded record's id where there is one (``0`` for the others)."""
    return re.sub(r"\{([^}]+)\}", lambda m: params.get(m.group(1), "0"), path)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_record_is_invisible_outside_its_region(service, token) -> None:  # type: ignore[no-untyped-def]
    """Records of township 109, made through the service's API and events, against a token of township 101
    holding every role: 404 on every read by id, absent from every list and report, never a 500."""
    seeded = SEEDERS[service.name](service.seeding)
    assert seeded.hidden, "the seeder made nothing to hide"
    outsider = token(*OUTSIDER_ROLES, region="522323101", subject="elsewhere")
    leaks = []
    for method, path, _ in operations(service.client):
        if method != "GET":
            continue
        has_params = "{" in path
        url = concrete_for(path, seeded.params)
        response = service.client.get(url, headers=outsider)
        if response.status_code >= 500:
            leaks.append(f"GET {url} -> {response.status_code}")
        elif response.status_code == 200 and (shown := [i for i in seeded.hidden if i in response.text]):
            leaks.append(f"GET {path} shows {shown} of another township")
        elif has_params and response.status_code not in (404, 422, 403):
            leaks.append(f"GET {path} -> {response.status_code}, not 404")
    assert leaks == []


def test_the_suite_key_is_set() -> None:
    assert os.environ["FUPIN_JWT_SECRET"]
