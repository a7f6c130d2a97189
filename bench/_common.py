"""Pieces every benchmark shares: argument parsing, a temporary nats-server and PostgreSQL,
free ports, peak RSS, timing, and the final JSON line.

Importing this module puts the repository root on ``sys.path``, so ``python bench/<name>.py``
works from anywhere without installing the project. Scripts import it before any ``shared`` or
``services`` module; ruff's import sorting already does that (``_common`` sorts with the
third-party block, which comes before the project's own):

    import _common
    from _common import emit_result, say
    from shared.db import Database
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared import metrics  # noqa: E402
from shared.natsserver import NatsServer  # noqa: E402
from shared.settings import StackSettings  # noqa: E402
from tests.support.ports import free_port  # noqa: E402  (re-exported for the scripts)
from tests.support.postgres import PostgresServer  # noqa: E402


def parser(name: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark has."""
    p = argparse.ArgumentParser(prog=f"bench/{name}.py", description=description)
    p.add_argument("--quick", action="store_true", help="the small case (well under a minute)")
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder (databases, nats store, logs) and print where it is",
    )
    return p


def say(*parts: object) -> None:
    """A human progress line (stderr is left for tracebacks; these go to stdout before the JSON)."""
    print(*parts, flush=True)


def peak_rss_mb() -> float:
    """Peak resident set size of this Python process, in MiB (Linux reports KiB)."""
    return round(metrics.peak_rss_mb(), 1)


def emit_result(result: dict[str, Any]) -> None:
    """Print the benchmark's figures as the LAST line of output: one JSON object."""
    sys.stdout.flush()
    print(json.dumps(result, ensure_ascii=False, sort_keys=False), flush=True)


def ratio(measured: float, limit: float) -> float:
    """``measured / limit`` rounded for reporting (0 when the limit is 0)."""
    return round(measured / limit, 3) if limit else 0.0


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``; uses the monotonic perf counter."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


@contextlib.contextmanager
def workdir(name: str, *, keep: bool = False) -> Iterator[Path]:
    """A temporary folder for one run; removed afterwards unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix=f"fupin-bench-{name}-"))
    try:
        yield path
    finally:
        if keep:
            say(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def temp_nats(home: Path) -> Iterator[NatsServer]:
    """A JetStream nats-server (file store, ``sync_interval: always``) on a free port in ``home``."""
    server = NatsServer(home / "nats", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def bench_settings(home: Path, nats_url: str, **overrides: Any) -> StackSettings:
    """Stack settings pointing at the temporary server and folder; defaults otherwise."""
    return StackSettings(nats_url=nats_url, data_dir=home / "data", **overrides)


def sqlite_url(home: Path, name: str) -> str:
    return f"sqlite:///{(home / f'{name}.db').resolve()}"


# --- PostgreSQL --------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_server(url: str | None) -> Iterator[str | None]:
    """Yield a PostgreSQL server URL: ``url`` as given, a temporary cluster for ``auto``, else None."""
    if not url:
        yield None
        return
    if url != "auto":
        yield url.rstrip("/")
        return
    server = PostgresServer(durable=True)
    try:
        server.start()
        yield server.url
    finally:
        server.stop()


def drop_database(url: str) -> None:
    """Drop the PostgreSQL database named in ``url`` (used to start each phase from empty)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        admin.dispose()
