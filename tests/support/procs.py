"""Services and brokers as real processes, for the tests that kill them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def stop_process(proc: subprocess.Popen[bytes], *, timeout: float = 30) -> None:
    """SIGTERM (a graceful stop: a supervisor takes its workers with it), SIGKILL after ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until(check: Callable[[], Any], *, timeout: float = 30, interval: float = 0.1, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as exc:  # a service still starting, a table not there yet
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


class ServiceProcess:
    """One service under uvicorn, in its own process, with its own environment."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.env = env
        self.port = free_port()
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, faults: str = "", extra_env: dict[str, str] | None = None, wait: bool = True) -> None:
        env = {**os.environ, **self.env, **(extra_env or {}), "FUPIN_FAULTS": faults}
        cmd = [
            sys.executable,
            "-m",
            "shared.serve",
            f"services.{self.name}.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        log = (self.log_dir / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}")
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200

        wait_until(ready, timeout=timeout, what=f"{self.name} ready")

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc, timeout=15)

    def metric(self, name: str, **labels: str) -> float:
        """The value of one sample on the service's /metrics page (0 when absent)."""
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in httpx.get(f"{self.url}/metrics", timeout=5).text.splitlines():
            if line.startswith("#"):
                continue
            key, _, value = line.rpartition(" ")
            metric, _, label_part = key.partition("{")
            got = ",".join(sorted(label_part.rstrip("}").split(","))) if label_part else ""
            if metric == name and got == want:
                return float(value)
        return 0.0

    def log_tail(self, lines: int = 30) -> str:
        path = self.log_dir / f"{self.name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
