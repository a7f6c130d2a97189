"""Bodies are bounded: a JSON body or an upload over its limit is a 413 problem+json, refused as soon as its size is
known or reached, leaving nothing behind and holding no more memory than the limit; a CSV line past the
reader's bound is a 422, not a 500."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.natsserver import NatsServer
from tests.support.builders import household_body
from tests.support.procs import ServiceProcess
from tests.support.stack import QUICK

pytestmark = pytest.mark.integration
SMALL_BODY = 16 << 10
SMALL_UPLOAD = 4 << 20


@pytest.fixture(params=["sqlite"])
def registry(
    request: pytest.FixtureRequest, tmp_path: Path, nats_server: NatsServer, database_url
) -> Iterator[ServiceProcess]:  # type: ignore[no-untyped-def]
    env = {
        "FUPIN_NATS_URL": nats_server.url,
        "FUPIN_DATA_DIR": str(tmp_path / "var"),
        "FUPIN_JWT_SECRET": os.environ["FUPIN_JWT_SECRET"],
        "FUPIN_MAX_BODY_BYTES": str(SMALL_BODY),
        "FUPIN_MAX_UPLOAD_BYTES": str(SMALL_UPLOAD),
        "FUPIN_REGISTRY_DATABASE_URL": database_url("registry"),
        **QUICK,
    }
    process = ServiceProcess("registry", env, tmp_path)
    process.start()
    process.data_dir = tmp_path / "var"  # type: ignore[attr-defined]
    yield process
    process.stop()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def assert_too_large(response: httpx.Response, field: str) -> None:
    assert response.status_code == 413, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "too_large" and body["errors"][0]["field"] == field


def test_a_json_body_over_the_limit_is_413_and_writes_nothing(registry: ServiceProcess, token) -> None:  # type: ignore[no-untyped-def]
    county = token("county_office")
    body = household_body()
    body["address"] = "青山镇" * (SMALL_BODY // 3)
    declared = httpx.post(f"{registry.url}/api/v1/households", json=body, headers=county, timeout=30)
    assert_too_large(declared, "body")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        payload = httpx.Request("POST", "http://x", json=body).content
        for i in range(0, len(payload), 4096):
            yield payload[i : i + 4096]

    chunked = httpx.post(f"{registry.url}/api/v1/households", content=chunks(), headers=county, timeout=30)
    assert_too_large(chunked, "body")
    listed = httpx.get(f"{registry.url}/api/v1/households", headers=county, timeout=30).json()
    assert listed["items"] == []


def test_a_huge_streamed_upload_is_refused_with_flat_memory(registry: ServiceProcess, token) -> None:  # type: ignore[no-untyped-def]
    assert registry.proc is not None
    before = rss_mb(registry.proc.pid)
    boundary = "fupin-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    line = ("x" * 1023 + "\n").encode()

    def upload() -> Iterator[bytes]:  # 200 MB of one CSV, never in this process's memory at once either
        yield head
        for _ in range(200 * 1024):
            yield line
        yield f"\r\n--{boundary}--\r\n".encode()

    response = httpx.post(
        f"{registry.url}/api/v1/imports",
        content=upload(),
        headers={**token("county_office"), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=120,
    )
    assert_too_large(response, "file")
    grown = rss_mb(registry.proc.pid) - before
    assert grown < 60, f"the refusal cost {grown:.0f} MB"
    spooled = list((registry.data_dir / "registry").rglob("*.csv"))  # type: ignore[attr-defined]
    assert spooled == []


def test_a_csv_line_past_the_readers_bound_is_422(registry: ServiceProcess, token, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "regions.csv"
    path.write_text("code," + "名" * (1 << 20) + "\n522323,普安县\n", encoding="utf-8")
    with path.open("rb") as fh:
        response = httpx.post(
            f"{registry.url}/api/v1/regions/import",
            files={"file": ("regions.csv", fh, "text/csv")},
            headers=token("system", region=""),
            timeout=60,
        )
    assert response.status_code == 422, response.text[:300]
    assert response.json()["errors"][0]["field"] == "file"
