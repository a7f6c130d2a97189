"""An uncaught exception becomes our 500 problem+json: logged once, masked, with its request id, and counted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import MetaData

from shared.service import ServiceSpec, build_app
from shared.settings import StackSettings
from tests.support.leaks import personal_data_in

router = APIRouter()


@router.get("/boom")
def boom() -> None:
    # What a driver error looks like: the values of the failed statement in its text.
    raise RuntimeError("duplicate key (id_number)=(11010519491231002X) phone=(13812345678)")


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> TestClient:
    """The app is built (and its logging configured) once ``capsys`` holds stderr, so its lines are caught."""
    monkeypatch.setenv("FUPIN_REGISTRY_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("FUPIN_REGISTRY_MIGRATE_ON_START", "false")
    spec = ServiceSpec(name="registry", title="t", metadata=MetaData(), routers=[router], migrations=tmp_path)
    stack = StackSettings(data_dir=tmp_path, jwt_secret="x" * 40, nats_url="nats://127.0.0.1:1", log_level="INFO")
    return TestClient(build_app(spec, stack=stack), raise_server_exceptions=True)


def test_an_uncaught_error_is_a_problem_logged_masked_and_counted(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    response = client.get("/api/v1/boom", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal_error" and "req-42" in response.json()["detail"]
    assert response.headers["x-request-id"] == "req-42"
    captured = capsys.readouterr()
    logged = captured.err + captured.out
    assert personal_data_in(logged) is None, logged
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    errors = [line for line in lines if line.get("event") == "unhandled error"]
    assert len(errors) == 1 and errors[0]["request_id"] == "req-42"
    assert "1101**********002X" in errors[0]["exception"]
    assert (errors[0]["method"], errors[0]["path"], errors[0]["level"]) == ("GET", "/api/v1/boom", "error")
    metrics = client.get("/metrics").text
    assert re.search(r'fupin_http_requests_total\{[^}]*status="500"[^}]*\} 1\.0', metrics), metrics[:2000]


def test_a_request_id_that_is_not_a_plain_token_is_replaced(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": 'evil"\n{"forged": 1}'})
    assert re.fullmatch(r"[0-9a-f]{12}-[0-9a-f]+", response.headers["x-request-id"])
