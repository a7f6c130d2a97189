"""The HTTP contract every service keeps: auth, problem+json, nothing half-written, Idempotency-Key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from services.registry.main import create_app
from shared.auth import CurrentPrincipal
from shared.errors import install_problem_handlers
from shared.idempotency import IdempotencyDep
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
        assert response.json()["errors"] == [{"field": "members.2.id_number", "message": "身份证号第18位校验码不符"}]
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

    def test_ten_concurrent_requests_with_one_key_make_one_household_and_no_500(self, registry, token) -> None:
        headers = {**token("county_office"), "Idempotency-Key": "burst-1"}
        body = household_body()
        with ThreadPoolExecutor(max_workers=10) as pool:
            responses = list(pool.map(lambda _: registry.post(URL, json=body, headers=headers), range(10)))
        statuses = sorted(r.status_code for r in responses)
        assert set(statuses) <= {201, 409}, statuses
        assert statuses.count(201) >= 1
        created = {r.json()["id"] for r in responses if r.status_code == 201}
        assert len(created) == 1  # every 201 is the first response, replayed
        assert all(r.headers["content-type"] == "application/problem+json" for r in responses if r.status_code == 409)
        assert count(registry, "household") == 1
        assert count(registry, "outbox") == 1

    def test_keys_are_per_caller(self, registry, token) -> None:
        body = household_body()
        first = registry.post(URL, json=body, headers={**token("county_office", subject="a"), "Idempotency-Key": "k"})
        other = registry.post(URL, json=body, headers={**token("county_office", subject="b"), "Idempotency-Key": "k"})
        assert first.status_code == 201
        assert other.status_code == 409  # not a replay of a's response: b's request ran, and the person exists
        assert "idempotent-replayed" not in other.headers

    def test_a_replay_goes_only_to_the_same_subject_roles_and_scope(self, registry, token) -> None:
        body = household_body()
        county = {**token("county_office", region="522323", subject="same-name"), "Idempotency-Key": "k-9"}
        first = registry.post(URL + "?reveal=true", json=body, headers=county)
        assert first.status_code == 201 and "*" not in first.json()["members"][0]["id_number"]
        # Another token of the same subject, a village cadre of another township, sends the same key and body.
        cadre = {
            **token("village_cadre", region="522323101001", subject="same-name"),
            "Idempotency-Key": "k-9",
        }
        other = registry.post(URL + "?reveal=true", json=body, headers=cadre)
        assert "idempotent-replayed" not in other.headers
        assert other.status_code in (403, 404, 409) and first.json()["id"] not in other.text

    def test_the_stored_response_is_masked_and_a_replay_too(self, registry, token) -> None:
        body = household_body()
        headers = {**token("county_office"), "Idempotency-Key": "k-mask"}
        first = registry.post(URL + "?reveal=true", json=body, headers=headers)
        whole = first.json()["members"][0]["id_number"]
        assert "*" not in whole
        engine = create_engine(registry.db_url)  # type: ignore[attr-defined]
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT response_body FROM idempotency_key")).scalar_one()
        engine.dispose()
        assert whole not in stored
        replay = registry.post(URL + "?reveal=true", json=body, headers=headers)
        assert replay.headers["idempotent-replayed"] == "true" and whole not in replay.text

    def test_the_same_json_reindented_is_the_same_request(self, registry, token) -> None:
        body = household_body()
        headers = {**token("county_office"), "Idempotency-Key": "k-indent", "content-type": "application/json"}
        compact = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        pretty = json.dumps(dict(reversed(list(body.items()))), indent=4, ensure_ascii=False).encode()
        assert registry.post(URL, content=compact, headers=headers).status_code == 201
        again = registry.post(URL, content=pretty, headers=headers)
        assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"

    def test_without_a_key_a_repeat_is_a_conflict_not_a_duplicate(self, registry, token) -> None:
        body = household_body()
        assert registry.post(URL, json=body, headers=token("county_office")).status_code == 201
        response = registry.post(URL, json=body, headers=token("county_office"))
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"
        assert count(registry, "household") == 1


class TestRaces:
    """Clients racing to register the same people: a 201 for one, the pre-check's 409 for the rest, never a 500."""

    def race(self, registry: TestClient, token, bodies: list[dict]) -> list:  # type: ignore[no-untyped-def,type-arg]
        headers = token("county_office")
        with ThreadPoolExecutor(max_workers=20) as pool:
            return list(pool.map(lambda body: registry.post(URL, json=body, headers=headers), bodies))

    def test_twenty_clients_with_overlapping_members(self, registry, token) -> None:
        body = household_body()
        bodies = [{**body, "hukou_number": f"522323-R{i:03}"} for i in range(20)]  # the same people, 20 households
        responses = self.race(registry, token, bodies)
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {201, 409}, [(r.status_code, r.text[:200]) for r in responses if r.status_code >= 500]
        assert statuses.count(201) == 1
        assert all(is_conflict_problem(r) for r in responses if r.status_code == 409)
        assert count(registry, "household") == 1

    def test_twenty_clients_with_one_hukou_number(self, registry, token) -> None:
        bodies = [household_body(hukou_number="522323-SAME") for _ in range(20)]
        responses = self.race(registry, token, bodies)
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {201, 409}, [(r.status_code, r.text[:200]) for r in responses if r.status_code >= 500]
        assert statuses.count(201) == 1
        assert all(is_conflict_problem(r) for r in responses if r.status_code == 409)
        assert count(registry, "household") == 1


def is_conflict_problem(response) -> bool:  # type: ignore[no-untyped-def]
    body = response.json()
    return (
        response.headers["content-type"] == "application/problem+json"
        and body["code"] == "conflict"
        and bool(body["errors"][0]["field"])
    )


def test_the_key_is_filed_under_the_caller_whatever_the_dependency_order(token) -> None:
    """The idempotency dependency asks for the principal itself, so the order handlers list them in is moot."""
    app = FastAPI()
    install_problem_handlers(app)
    app.state.stack = StackSettings(jwt_secret=__import__("os").environ["FUPIN_JWT_SECRET"])

    @app.post("/key-first")
    def key_first(idem: IdempotencyDep, principal: CurrentPrincipal) -> dict[str, str]:
        return {"filed_under": idem.principal}

    @app.post("/principal-first")
    def principal_first(principal: CurrentPrincipal, idem: IdempotencyDep) -> dict[str, str]:
        return {"filed_under": idem.principal}

    with TestClient(app) as client:
        headers = {**token("county_office", subject="clerk-7"), "Idempotency-Key": "k"}
        for path in ("/key-first", "/principal-first"):
            assert client.post(path, headers=headers).json()["filed_under"].startswith("clerk-7#")
        assert client.post("/key-first", headers={"Idempotency-Key": "k"}).status_code == 401
