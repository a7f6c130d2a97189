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
from typing import Annotated

import httpx
import typer

from shared.cli.services import SERVICES, service_cli
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
) -> None:
    """Start NATS (JetStream) and the five services; Ctrl-C stops everything, data stays in DATA_DIR."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
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
            port = settings.service_port(name)
            cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"services.{name}.main:create_app",
                "--host",
                host,
                "--port",
                str(port),
                "--no-access-log",
            ]
            log = (data_dir / f"{name}.log").open("ab")
            children.append((name, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)))
        _wait_ready(settings, children, ready_timeout, lambda: stopping)
        for name in SERVICES:
            port = settings.service_port(name)
            typer.echo(f"{name:<15} http://{host}:{port}  docs http://{host}:{port}/docs")
        if demo and not stopping:
            _import_demo(settings, data_dir, demo_households, lambda: stopping)
        typer.echo(f"ready. logs in {data_dir}/*.log; Ctrl-C stops the stack.")
        while not stopping:
            for name, proc in children:
                if proc.poll() is not None:
                    typer.echo(f"{name} exited with {proc.returncode}; stopping the stack", err=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        _stop_all([p for _, p in children])
        nats.stop()
        typer.echo("stopped.")


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
    if not (shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))):
        _install_postgres()
    if not ctx.args:  # the whole run (CI's): the type checker first, over the files pyproject.toml lists
        typer.echo("mypy …")
        if subprocess.call([sys.executable, "-m", "mypy"], cwd=ROOT):
            raise typer.Exit(1)
    cmd = [sys.executable, "-m", "pytest"]
    if workers not in ("0", ""):
        cmd += ["-n", workers, "--dist", "loadfile"]
    cmd += list(ctx.args)
    raise typer.Exit(subprocess.call(cmd, cwd=ROOT))


def _install_postgres() -> None:
    """The integration tests start PostgreSQL from its binaries; fetch them from Debian when root."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        typer.echo("PostgreSQL binaries (initdb, pg_ctl) not found; install postgresql to run every test", err=True)
        return
    typer.echo("installing PostgreSQL binaries for the integration tests…")
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "postgresql"],
        check=False,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
