"""``./fupin up`` on an empty data folder brings all five services to ready; a second run keeps the data."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from shared.settings import SERVICE_PORTS
from tests.support.builders import household_body
from tests.support.ports import free_port
from tests.support.procs import ROOT, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def start_stack(data_dir: Path, env: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    log = (data_dir.parent / "up.log").open("ab")
    return subprocess.Popen(
        [str(ROOT / "fupin"), "up", "--data-dir", str(data_dir), *options],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_stack(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


def all_ready(base: int) -> bool:
    return all(
        httpx.get(f"http://127.0.0.1:{base + i + 1}/readyz", timeout=2).status_code == 200
        for i in range(len(SERVICE_PORTS))
    )


def test_up_starts_everything_and_a_second_run_keeps_the_data(tmp_path: Path, token, backend, request) -> None:
    data_dir = tmp_path / "var"
    base = free_port() // 10 * 10 % 50000 + 10000  # a block of six ports, away from the defaults
    env = {**os.environ, "FUPIN_PORT_BASE": str(base), "FUPIN_NATS_PORT": str(free_port())}
    env.pop("FUPIN_POSTGRES_URL", None)
    options = ("--postgres", request.getfixturevalue("postgres_server").url) if backend == "postgres" else ()

    proc = start_stack(data_dir, env, *options)
    try:
        wait_until(lambda: all_ready(base), timeout=120, what="all five services ready")
        created = httpx.post(
            f"http://127.0.0.1:{base + 1}/api/v1/households",
            json=household_body(),
            headers=token("county_office"),
            timeout=10,
        )
        assert created.status_code == 201, created.text
        household_id = created.json()["id"]
        wait_until(
            lambda: (
                httpx.get(
                    f"http://127.0.0.1:{base + 2}/api/v1/households/{household_id}", headers=token("county_office")
                ).status_code
                == 200
            ),
            what="identification saw the household",
        )
    finally:
        assert stop_stack(proc) == 0
    expected_files = [] if backend == "postgres" else sorted(f"{s}.db" for s in SERVICE_PORTS)
    assert sorted(p.name for p in data_dir.glob("*.db")) == expected_files

    proc = start_stack(data_dir, env, *options)
    try:
        wait_until(lambda: all_ready(base), timeout=120, what="all five services ready again")
        again = httpx.get(
            f"http://127.0.0.1:{base + 1}/api/v1/households/{household_id}", headers=token("county_office")
        )
        assert again.status_code == 200
        assert again.json()["hukou_number"] == created.json()["hukou_number"]
    finally:
        assert stop_stack(proc) == 0
