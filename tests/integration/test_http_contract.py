"""The HTTP contract every service keeps: auth, problem+json, nothing half-written, Idempotency-Key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from services.registry.main import create_app
from shared.settings import StackSettings
from tests.support.builders import household_body
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration
URL = "/api/v1/households"


@pytest.fixture
def registry(stack: StackSettings, database_url, monkeypatch) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    url = database_url("registry")
    monkeypatch.setenv("FUPIN_REGISTRY_DATABASE_URL", url)
    with TestClient(create_app(stack=stack)) as client:
        client.db_url = url  # type: ignore[attr-defined]
        wait_until(lambda: client.get("/readyz").status_code == 200, what="registry ready")
        yield client


def count(client: TestClient, table: str) -> int:
    engine = create_engine(client.db_url)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        value = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return value


def assert_nothing_written(client: TestClient) -> None:
    assert (count(client, "household"), count(client, "member"), count(client, "outbox")) == (0, 0, 0)


class TestAuthentication:
    def test_no_token_is_401_problem(self, registry) -> None:
        response = registry.post(URL, json=household_body())
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
        assert_nothing_written(registry)

    def test_forged_token_is_401(self, registry, token) -> None:
        headers = token("county_office")
        headers["Authorization"] = headers["Authorization"][:-4] + "AAAA"
        assert registry.post(URL, json=household_body(), headers=headers).status_code == 401

    def test_health_and_metrics_need_no_token(self, registry) -> None:
        assert registry.get("/healthz").status_code == 200
        assert registry.get("/readyz").json() == {"ready": True, "checks": {"database": True, "nats": True}}
        assert "fupin_http_requests_total" in registry.get("/metrics").text


class TestAuthorisation:
    def test_role_that_may_not_register_is_403(self, registry, token) -> None:
        response = registry.post(URL, json=household_body(), headers=token("helper"))
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        assert_nothing_written(registry)

    def test_region_outside_scope_is_403_naming_the_field(self, registry, token) -> None:
        other_township = token("village_cadre", region="522323101")
        response = registry.post(URL, json=household_body(region_code="522323109001"), headers=other_township)
        assert response.status_code == 403
        assert response.json()["errors"][0]["field"] == "region_code"
        assert_nothing_written(registry)

    def test_household_outside_scope_is_invisible(self, registry, token) -> None:
        created = registry.post(URL, json=household_body(), headers=token("county_office")).json()
        assert registry.get(f"{URL}/{created['id']}", headers=token("county_office")).status_code == 200
        assert registry.get(f"{URL}/{created['id']}", headers=token("auditor", region="522324")).status_code == 404


class TestValidation:
    @pytest.mark.parametrize(
        ("mutate", "field"),
        [
            (lambda b: b.pop("address"), "address"),
            (lambda b: b.update(region_code="52232310900"), "region_code"),
            (lambda b: b.update(members=[]), "members"),
            (lambda b: b["members"][0].update(relation="cousin"), "members.0.relation"),
        ],
        ids=["missing address", "11-digit region", "no members", "unknown relation"],
    )
    def test_malformed_body_is_422_naming_the_field(self, registry, token, mutate, field) -> None:
        body = household_body()
        mutate(body)
        response = registry.post(URL, json=body, headers=token("county_office"))
        assert response.status_code == 422
        problem = response.json()
        assert problem["code"] == "validation_error"
        assert field in [e["field"] for e in problem["errors"]]
        assert_nothing_written(registry)

    def test_bad_id_checksum_in_third_member_leaves_no_row(self, registry, token) -> None:
        body = household_body(members=3)
        number = body["members"][2]["id_number"]
        body["members"][2]["id_number"] = number[:-1] + ("0" if number[-1] != "0" else "1")
        response = registry.post(URL, json=body, headers=token("county_office"))
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"field": "members.2.id_number", "message": "resident ID check digit does not match (校验码错误)"}
        ]
        assert_nothing_written(registry)

    def test_not_json_is_422(self, registry, token) -> None:
        headers = {**token("county_office"), "content-type": "application/json"}
        response = registry.post(URL, content=b"{not json", headers=headers)
        assert response.status_code == 422
        assert_nothing_written(registry)


class TestIdempotencyKey:
    def test_same_post_twice_creates_one_household_and_one_event(self, registry, token) -> None:
        headers = {**token("county_office"), "Idempotency-Key": "import-2026-11-23-row-17"}
        body = household_body()
        first = registry.post(URL, json=body, headers=headers)
        second = registry.post(URL, json=body, headers=headers)
        assert (first.status_code, second.status_code) == (201, 201)
        assert second.json() == first.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert count(registry, "household") == 1
        assert count(registry, "outbox") == 1

    def test_same_key_with_another_body_is_refused(self, registry, token) -> None:
        headers = {**token("county_office"), "Idempotency-Key": "k-1"}
        assert registry.post(URL, json=household_body(), headers=headers).status_code == 201
        response = registry.post(URL, json=household_body(), headers=headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "Idempotency-Key"
        assert count(registry, "household") == 1

    def test_without_a_key_a_repeat_is_a_conflict_not_a_duplicate(self, registry, token) -> None:
        body = household_body()
        assert registry.post(URL, json=body, headers=token("county_office")).status_code == 201
        response = registry.post(URL, json=body, headers=token("county_office"))
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"
        assert count(registry, "household") == 1
