"""SQLite under concurrency: a process's writers queue for the write lock and every one commits, the queue lets go
of a transaction however it ends, and the read pool keeps its connections instead of opening new ones."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

from shared.cli.stack import ROOT
from shared.db import READ_POOL, Database, make_engine

WRITERS = 8
WRITES_EACH = 25


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who INTEGER, n INTEGER)"))
    yield engine
    engine.dispose()


def in_threads(work: Callable[[int], None], count: int) -> list[BaseException]:
    """Run ``work(i)`` in ``count`` threads at once; the errors they raised."""
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # collected, asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)  # a hang guard, not a measure: a stuck queue leaves a thread alive
    assert not any(t.is_alive() for t in threads), "a writer never got the write lock"
    return errors


def count(engine: Engine, sql: str = "SELECT count(*) FROM t") -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_concurrent_writers_all_commit_in_turn(writer: Engine) -> None:
    def write(who: int) -> None:
        for _ in range(WRITES_EACH):
            with writer.begin() as conn:  # read-then-write: safe only because BEGIN IMMEDIATE holds the lock
                last = conn.execute(text("SELECT coalesce(max(n), -1) FROM t WHERE who = :w"), {"w": who}).scalar()
                conn.execute(text("INSERT INTO t VALUES (:w, :n)"), {"w": who, "n": last + 1})

    assert in_threads(write, WRITERS) == []
    assert count(writer) == WRITERS * WRITES_EACH
    assert count(writer, "SELECT count(DISTINCT who || '-' || n) FROM t") == WRITERS * WRITES_EACH


@pytest.mark.parametrize(
    "ending",
    ["error in the block", "closed without commit", "connection invalidated"],
)
def test_the_queue_lets_go_however_a_transaction_ends(writer: Engine, ending: str) -> None:
    if ending == "error in the block":
        with pytest.raises(RuntimeError), writer.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (0, 0)"))
            raise RuntimeError("the handler failed")
    else:
        conn = writer.connect()
        conn.execute(text("INSERT INTO t VALUES (0, 0)"))
        if ending == "connection invalidated":  # the driver connection is dropped, as on a broken link
            conn.invalidate()
            conn.rollback()
        conn.close()

    def write(_: int) -> None:
        with writer.begin() as c:
            c.execute(text("INSERT INTO t VALUES (1, 1)"))

    assert in_threads(write, 2) == []  # another thread gets the lock: nothing was left holding it
    assert count(writer) == 2  # the abandoned insert rolled back


def test_the_read_pool_keeps_its_connections(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}", service="test")
    opened: list[object] = []
    event.listen(db.read_engine, "connect", lambda dbapi, _record: opened.append(dbapi))
    barrier = threading.Barrier(READ_POOL // 2)

    def read(_: int) -> None:
        with db.connection() as conn:
            barrier.wait(timeout=60)  # all of them hold a connection at once
            conn.execute(text("SELECT 1"))

    try:
        assert in_threads(read, READ_POOL // 2) == []
        first = len(opened)
        assert first == READ_POOL // 2
        for _ in range(3):  # the same load again opens nothing new: the pool kept them
            barrier.reset()
            assert in_threads(read, READ_POOL // 2) == []
        assert len(opened) == first
    finally:
        db.dispose()


def test_a_core_read_carries_the_database_clock(tmp_path: Path) -> None:
    from datetime import datetime

    from shared.clock import SHANGHAI, FrozenClock, session_clock

    clock = FrozenClock(datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))
    db = Database(f"sqlite:///{tmp_path / 'c.db'}", service="test", clock=clock)
    try:
        with db.connection() as conn:
            assert session_clock(conn) is clock
    finally:
        db.dispose()


def test_the_next_writer_finds_the_write_lock_free(writer: Engine) -> None:
    """The queue hands the database on only after COMMIT has finished: with SQLite's own wait switched off, no
    writer of the process ever meets a held write lock (released before the COMMIT, the next one did, and slept
    in SQLite's busy handler)."""
    event.listen(writer, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout=0"))
    writer.dispose()  # connections from here on have no busy wait

    def write(who: int) -> None:
        for n in range(WRITES_EACH):
            with writer.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:w, :n)"), {"w": who, "n": n})

    assert in_threads(write, WRITERS) == []
    assert count(writer) == WRITERS * WRITES_EACH


_MEMORY_USED = """
import ctypes, sqlite3, sys
{imports}
conn = sqlite3.connect(":memory:")
conn.execute("CREATE TABLE t (x TEXT)")
conn.executemany("INSERT INTO t VALUES (?)", [("x" * 100,)] * 1000)
import _sqlite3
lib = ctypes.CDLL(_sqlite3.__file__)
lib.sqlite3_memory_used.restype = ctypes.c_int64
print(lib.sqlite3_memory_used())
"""


def _sqlite_memory_used(imports: str) -> int:
    cmd = [sys.executable, "-c", _MEMORY_USED.format(imports=imports)]
    return int(subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout)


@pytest.mark.skipif(sys.platform != "linux", reason="the switch asks Linux's SQLite library")
def test_sqlite_memory_statistics_are_off_once_shared_db_is_imported() -> None:
    """SQLite's process-wide lock around its allocation counts made threads reading at once take turns: a process
    that imports shared.db before opening a database keeps no counts (so takes no such lock)."""
    assert _sqlite_memory_used("") > 0  # counted: SQLite's default
    assert _sqlite_memory_used("import shared.db") == 0


def test_a_transaction_that_must_not_wait_is_refused_at_once(tmp_path: Path) -> None:
    """``transaction(wait=False)`` raises WriterBusy when a writer of this process or another connection holds the
    lock, having written nothing; the same pooled connection waits again for a later transaction that may."""
    import sqlite3

    from shared.db import WriterBusy

    db = Database(f"sqlite:///{tmp_path / 'b.db'}", service="test")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    in_process, let_go = threading.Event(), threading.Event()

    def hold() -> None:
        with db.transaction() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            in_process.set()
            let_go.wait(timeout=60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        in_process.wait(timeout=60)
        with pytest.raises(WriterBusy), db.transaction(wait=False) as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
    finally:
        let_go.set()
        holder.join(timeout=60)
    other = sqlite3.connect(tmp_path / "b.db", isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's writer
        with pytest.raises(WriterBusy), db.transaction(wait=False) as session:
            session.execute(text("INSERT INTO t VALUES (3)"))
        threading.Timer(0.3, other.execute, ["ROLLBACK"]).start()
        with db.transaction() as session:  # waits for the other writer, as before
            session.execute(text("INSERT INTO t VALUES (4)"))
        with db.transaction(wait=False) as session:  # the lock is free: no wait needed
            session.execute(text("INSERT INTO t VALUES (5)"))
    finally:
        other.close()
    assert count(db.engine, "SELECT group_concat(n) FROM (SELECT n FROM t ORDER BY n)") == "1,4,5"
    db.dispose()


def test_a_postgres_connection_closed_while_idle_is_replaced(
    postgres_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pooled connections are pinged only after sitting idle: one the server closed meanwhile is replaced before
    the request uses it. One used a moment ago is not pinged (no round trip per request): were it closed in that
    moment, the request fails once and the pool drops it."""
    import shared.db

    url = postgres_server.create_database("ping")
    engine, admin = make_engine(url, pool_size=1), make_engine(url, pool_size=1)

    def pid() -> Any:
        with engine.connect() as conn:
            return conn.execute(text("SELECT pg_backend_pid()")).scalar()

    def terminate(backend: Any) -> None:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

    try:
        first = pid()
        assert pid() == first  # the pooled connection, again
        terminate(first)
        with pytest.raises(OperationalError):  # used a moment ago: not pinged, so this request meets the closed one
            pid()
        second = pid()  # … and the pool made a new one
        assert second != first
        terminate(second)
        monkeypatch.setattr(shared.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # as if it had sat idle
        assert pid() not in (first, second)  # the ping found it closed; a new one answered
    finally:
        engine.dispose()
        admin.dispose()
