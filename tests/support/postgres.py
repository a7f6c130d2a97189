"""A throwaway PostgreSQL server started from the local binaries (initdb, pg_ctl)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support.ports import free_port


def pg_binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise FileNotFoundError(f"{name} not found: install PostgreSQL (Debian: apt-get install postgresql)")
    return found


def _run_as() -> list[str]:
    """PostgreSQL refuses to run as root; as root we run its binaries as an unprivileged user."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as")


class PostgresServer:
    """A cluster in a fresh temporary folder; ``durable=False`` (tests) turns fsync off for speed,
    benchmarks keep PostgreSQL's defaults so they measure what production pays."""

    def __init__(self, *, durable: bool = False) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="fupin-pg-"))
        self.data = self.home / "data"
        self.port = free_port()
        self.prefix = _run_as()
        self.durable = durable

    @property
    def url(self) -> str:
        """The server URL without a database name (what FUPIN_POSTGRES_URL takes)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.prefix:
            user = self.prefix[2]
            pw = pwd.getpwnam(user)
            os.chown(self.home, pw.pw_uid, pw.pw_gid)
        self.home.chmod(0o755)
        subprocess.run(
            [
                *self.prefix,
                pg_binary("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c max_connections=300"
        options += " -c log_error_verbosity=terse"
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        subprocess.run(
            [
                *self.prefix,
                pg_binary("pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.home / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
        )

    def create_database(self, prefix: str = "t", *, template: str | None = None) -> str:
        """A new database, empty or a copy of ``template`` (a database name); returns its full SQLAlchemy URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        engine = create_engine(f"{self.url}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        engine.dispose()
        return f"{self.url}/{name}"

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, pg_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.home, ignore_errors=True)
