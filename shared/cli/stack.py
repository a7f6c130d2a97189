"""``fupin up`` runs the whole stack; ``fupin test`` runs every test."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from shared.cli.services import SERVICES, service_cli
from shared.files.fonts import DEBIAN_FALLBACK_FONTS, FALLBACK_PACKAGE
from shared.natsserver import NatsServer
from shared.settings import StackSettings

ROOT = Path(__file__).resolve().parents[2]


def up(
    data_dir: Annotated[Path, typer.Option(envvar="FUPIN_DATA_DIR", help="where databases and NATS keep data")] = Path(
        "var"
    ),
    postgres: Annotated[
        str | None,
        typer.Option(envvar="FUPIN_POSTGRES_URL", help="PostgreSQL server URL (no database name) instead of SQLite"),
    ] = None,
    host: Annotated[str, typer.Option(help="address the services listen on")] = "127.0.0.1",
    ready_timeout: Annotated[float, typer.Option(help="seconds to wait for every service to be ready")] = 90,
    demo: Annotated[bool, typer.Option("--demo", help="once ready, import demo households (普安县)")] = False,
    demo_households: Annotated[int, typer.Option(min=1, help="how many households --demo imports")] = 400,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="FUPIN_WORKERS",
            help="uvicorn worker processes per service (about one per core); relay and consumers stay single",
        ),
    ] = 1,
) -> None:
    """Start NATS (JetStream) and the five services; Ctrl-C stops everything, data stays in DATA_DIR."""
    data_dir = data_dir.resolve()
    os.umask(0o077)  # databases, logs, uploads and the demo file (whole IDs) are the operator's alone
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data_dir.chmod(0o700)
    for path in data_dir.rglob("*"):  # a folder made by an older version: tighten what it left open
        mode = path.lstat().st_mode
        if mode & 0o077 and not path.is_symlink():
            path.chmod(mode & 0o700)
    env = {**os.environ, "FUPIN_DATA_DIR": str(data_dir)}
    if postgres:
        env["FUPIN_POSTGRES_URL"] = postgres
    settings = StackSettings(data_dir=data_dir, postgres_url=postgres)
    settings.secret()  # made once, before the services race to make it
    env["FUPIN_NATS_URL"] = f"nats://127.0.0.1:{settings.nats_port}"

    nats = NatsServer(data_dir / "nats", port=settings.nats_port)
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        nats.start()
        typer.echo(f"nats      {nats.url}  (JetStream in {nats.store_dir})")
        for name in SERVICES:
            children.append((name, _spawn(name, host, settings.service_port(name), data_dir, env, workers)))
        _wait_ready(settings, children, ready_timeout, lambda: stopping)
        for name in SERVICES:
            port = settings.service_port(name)
            typer.echo(f"{name:<15} http://{host}:{port}  docs http://{host}:{port}/docs")
        if demo and not stopping:
            _import_demo(settings, data_dir, demo_households, lambda: stopping)
        typer.echo(f"ready. logs in {data_dir}/*.log; Ctrl-C stops the stack.")
        supervised = [Supervised("nats", lambda: _start_nats(nats), lambda: nats.proc)]
        for index, (name, _) in enumerate(children):
            supervised.append(
                Supervised(
                    name, _respawner(children, index, host, settings, data_dir, env, workers), _current(children, index)
                )
            )
        _supervise(supervised, lambda: stopping)
    finally:
        _stop_all([p for _, p in children])
        nats.stop()
        typer.echo("stopped.")


def service_command(name: str, host: str, port: int, workers: int = 1) -> list[str]:
    """How one service is started: uvicorn with the service's app factory (``shared.serve``), ``workers``
    processes on one port. Every worker runs the relay and the consumers, each behind its advisory lock, so exactly
    one works at a time."""
    cmd = [sys.executable, "-m", "shared.serve", f"services.{name}.main:create_app"]
    cmd += ["--host", host, "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    return cmd


def _spawn(
    name: str, host: str, port: int, data_dir: Path, env: dict[str, str], workers: int = 1
) -> subprocess.Popen[bytes]:
    cmd = service_command(name, host, port, workers)
    log = (data_dir / f"{name}.log").open("ab")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)


def _start_nats(nats: NatsServer) -> None:
    nats.stop()  # reaps what is left of the old one
    nats.start()


Children = list[tuple[str, subprocess.Popen[bytes]]]


def _respawner(
    children: Children,
    index: int,
    host: str,
    settings: StackSettings,
    data_dir: Path,
    env: dict[str, str],
    workers: int = 1,
) -> Callable[[], None]:
    def respawn() -> None:
        name = children[index][0]
        children[index] = (name, _spawn(name, host, settings.service_port(name), data_dir, env, workers))

    return respawn


def _current(children: Children, index: int) -> Callable[[], subprocess.Popen[bytes]]:
    return lambda: children[index][1]


class Supervised:
    """One child of the stack: restarted when it exits, after a delay that doubles while it keeps failing."""

    STEADY_SECONDS = 60.0  # up this long, a crash starts the backoff afresh
    MAX_DELAY = 30.0

    def __init__(self, name: str, start: Callable[[], None], proc: Callable[[], Any]) -> None:
        self.name = name
        self.start = start
        self.proc = proc
        self.failures = 0
        self.started = time.monotonic()
        self.due: float | None = None

    def check(self, now: float) -> None:
        if self.due is not None:
            if now >= self.due:
                typer.echo(f"{self.name}: restarting (restart {self.failures})", err=True)
                try:
                    self.start()
                except Exception as exc:  # it may fail to start too: try again later
                    typer.echo(f"{self.name}: could not start: {exc}", err=True)
                    self._schedule(now)
                    return
                self.started, self.due = now, None
            return
        proc = self.proc()
        code = proc.poll() if proc is not None else None
        if code is None:
            return
        if now - self.started >= self.STEADY_SECONDS:
            self.failures = 0
        self._schedule(now, code)

    def _schedule(self, now: float, code: int | None = None) -> None:
        self.failures += 1
        delay = min(self.MAX_DELAY, 2.0 ** (self.failures - 1))
        said = f"exited with {code}" if code is not None else "is down"
        typer.echo(f"{self.name} {said}; restarting in {delay:.0f} s", err=True)
        self.due = now + delay


def _supervise(children: list[Supervised], stopping: Callable[[], bool]) -> None:
    """Keep every child running until Ctrl-C (or SIGTERM): a crash restarts that child, never stops the stack."""
    while not stopping():
        now = time.monotonic()
        for child in children:
            child.check(now)
        time.sleep(0.5)


def _import_demo(settings: StackSettings, data_dir: Path, households: int, stopping: Callable[[], bool]) -> None:
    """Each service's demo data, in the services' order, from the ``demo`` of its ``cli.py``."""
    for name in SERVICES:
        module = service_cli(name)
        if module is not None and hasattr(module, "demo") and not stopping():
            module.demo(settings, data_dir, households, stopping)


def _wait_ready(settings: StackSettings, children, timeout: float, stopping) -> None:
    deadline = time.monotonic() + timeout
    pending = {name for name, _ in children}
    while pending and not stopping():
        for name, proc in children:
            if proc.poll() is not None:
                typer.echo(f"{name} failed to start (exit {proc.returncode}); see its log", err=True)
                raise typer.Exit(1) from None
        for name in list(pending):
            try:
                response = httpx.get(f"http://127.0.0.1:{settings.service_port(name)}/readyz", timeout=1)
                if response.status_code == 200:
                    pending.discard(name)
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            typer.echo(f"not ready after {timeout}s: {', '.join(sorted(pending))}", err=True)
            raise typer.Exit(1)
        time.sleep(0.3)


def _stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 15
    for proc in procs:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()


def test(
    ctx: typer.Context,
    workers: Annotated[str, typer.Option("-n", "--workers", help="pytest-xdist workers ('auto', or 0 for none)")] = "2",
) -> None:
    """Run every test: unit, and integration against a real nats-server and PostgreSQL."""
    _install_test_packages()
    if not ctx.args:  # the whole run (CI's): the type checker first, over the files pyproject.toml lists
        typer.echo("mypy …")
        if subprocess.call([sys.executable, "-m", "mypy"], cwd=ROOT):
            raise typer.Exit(1)
    cmd = [sys.executable, "-m", "pytest"]
    if workers not in ("0", ""):
        cmd += ["-n", workers, "--dist", "loadfile"]
    cmd += list(ctx.args)
    raise typer.Exit(subprocess.call(cmd, cwd=ROOT))


def _install_test_packages() -> None:
    """What the tests need from Debian: PostgreSQL's binaries (the integration tests start their own server) and
    a font for rare characters in PDFs (生僻字, CJK Extension B); fetched with apt when root, else named."""
    missing = []
    if not (shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))):
        missing.append("postgresql")
    if not any(path.is_file() for path in DEBIAN_FALLBACK_FONTS):
        missing.append(FALLBACK_PACKAGE)
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        typer.echo(f"not installed: {', '.join(missing)}; install them to run every test", err=True)
        return
    typer.echo(f"installing {', '.join(missing)} for the tests…")
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *missing],
        check=False,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
