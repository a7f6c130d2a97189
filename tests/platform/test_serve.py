"""``python -m shared.serve``: worker processes that each listen on their own socket, so connections opened all at
once reach every worker; a dead worker is replaced; a port already held is a failed start; SIGTERM ends it all."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.cli.stack import ROOT
from shared.serve import Options, listening_socket, parse
from tests.support.ports import free_port
from tests.support.procs import stop_process, wait_until

APP = "tests.support.tiny_app:create_app"


def start(port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "shared.serve", APP, "--port", str(port), "--workers", str(workers)]
    with log.open("ab") as fh:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=fh)


def pid_over(sock: socket.socket) -> int:
    """One keep-alive request on an open connection: the pid of the worker that holds it."""
    sock.sendall(b"GET /pid HTTP/1.1\r\nHost: t\r\n\r\n")
    answer = b""
    while b"}" not in answer:
        chunk = sock.recv(4096)
        assert chunk, answer
        answer += chunk
    return int(json.loads(answer.split(b"\r\n\r\n", 1)[1])["pid"])


def pids_of_connections(port: int, count: int) -> list[int]:
    """``count`` connections opened at once, before any of them asks anything (as wrk or a pool opens them)."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    try:
        return [pid_over(s) for s in socks]
    finally:
        for s in socks:
            s.close()


def answers(port: int) -> bool:
    try:
        return bool(pids_of_connections(port, 1))
    except OSError:
        return False


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    proc = start(port, 2, tmp_path / "serve.log")
    try:
        wait_until(lambda: answers(port), timeout=60, what="serving")
        # both workers are up when connections land on two pids
        wait_until(lambda: len(set(pids_of_connections(port, 16))) == 2, timeout=60, what="two workers answering")
        yield proc, port
    finally:
        stop_process(proc)


def test_connections_opened_at_once_are_spread_over_the_workers(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    _proc, port = two_workers
    for _ in range(3):  # with one shared socket, the first worker to wake took every connection of a burst
        pids = pids_of_connections(port, 32)
        assert len(set(pids)) == 2, pids


def test_a_dead_worker_is_replaced(two_workers: tuple[subprocess.Popen[bytes], int]) -> None:
    proc, port = two_workers
    before = set(pids_of_connections(port, 32))
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: (got := set(pids_of_connections(port, 32))) and victim not in got and len(got) == 2,
               timeout=60, what="a new second worker")  # fmt: skip
    assert proc.poll() is None


def test_sigterm_stops_the_workers_and_the_supervisor(two_workers: tuple[subprocess.Popen[bytes], int]) -> None:
    proc, port = two_workers
    workers = set(pids_of_connections(port, 32))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists() and _alive(pid)]
    assert not answers(port)


def test_workers_end_when_the_supervisor_is_killed(two_workers: tuple[subprocess.Popen[bytes], int]) -> None:
    proc, port = two_workers
    workers = set(pids_of_connections(port, 32))
    proc.kill()  # SIGKILL: the supervisor cannot stop them itself
    proc.wait()
    wait_until(lambda: not [pid for pid in workers if _alive(pid)], timeout=40, what="the workers ended")
    assert not answers(port)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_port_already_held_is_a_failed_start(tmp_path: Path, workers: int) -> None:
    port = free_port()
    held = listening_socket("127.0.0.1", port, share=False)
    try:
        proc = start(port, workers, tmp_path / "serve.log")
        assert proc.wait(timeout=60) == 3
    finally:
        held.close()
    assert "cannot listen on 127.0.0.1:" in (tmp_path / "serve.log").read_text()


def test_a_port_shared_by_another_supervisor_is_refused(
    two_workers: tuple[subprocess.Popen[bytes], int], tmp_path: Path
) -> None:
    """Two stacks started on one port would otherwise split its traffic between them without a word."""
    _proc, port = two_workers
    second = start(port, 2, tmp_path / "second.log")
    assert second.wait(timeout=60) == 3


def test_the_command_line() -> None:
    assert parse([APP, "--port", "9", "--workers", "2", "--timeout-graceful-shutdown", "20"]) == Options(
        APP, "127.0.0.1", 9, 2, 20
    )
    with pytest.raises(SystemExit):
        parse([APP, "--workers", "0"])
