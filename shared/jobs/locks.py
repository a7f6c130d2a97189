"""Named locks across processes: who leads the relay, who runs a periodic job, which job a runner still works on.

- PostgreSQL: a session advisory lock on a dedicated connection. The lock lives exactly as long as that
  connection, so ``held`` asks the connection every time (a leader whose connection was dropped stops
  leading at its next check, instead of going on beside the replica that took the lock over).
- SQLite (one machine by nature): an exclusive ``flock`` on a file in a folder beside the database, which
  the kernel releases when the process dies. A database in memory has one process: always held.

``probe_free`` asks whether anybody holds a lock without taking it for long (for recovering abandoned jobs).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _lock_folder(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}.locks")


def _lock_path(engine: Engine, name: str) -> Path | None:
    folder = _lock_folder(engine)
    if folder is None:
        return None
    return folder / f"{hashlib.sha1(name.encode()).hexdigest()[:20]}.lock"


class AdvisoryLock:
    """A lock named ``name`` in ``engine``'s database, held by this object until ``release``.

    Safe to share between threads (a job's thread checks ``held`` while the service's shutdown releases it):
    the lock's connection is used by one thread at a time.
    """

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = lock_key(name)
        self._conn: Connection | None = None
        self._fd: int | None = None
        self._memory = False
        self._guard = threading.RLock()  # a SQLAlchemy connection is not for two threads at once

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True if this object holds it now."""
        with self._guard:
            if self.held:
                return True
            if self.postgres:
                return self._try_pg()
            return self._try_file(block=False)

    def acquire(self) -> None:
        """Wait until the lock is ours."""
        if self.held:
            return
        if self.postgres:
            conn = self.engine.connect()  # waits for the lock outside the guard: a release can go on meanwhile
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
            conn.commit()
            with self._guard:
                self._conn = conn
        else:
            self._try_file(block=True)

    def _try_pg(self) -> bool:
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
            conn.commit()
        except DBAPIError:
            conn.close()
            return False
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def _try_file(self, *, block: bool) -> bool:
        path = _lock_path(self.engine, self.name)
        if path is None:
            self._memory = True
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if block else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    @property
    def held(self) -> bool:
        """Whether the lock is still ours. On PostgreSQL this asks the server, over the lock's own connection."""
        with self._guard:
            if self._memory or self._fd is not None:
                return True
            if self._conn is None:
                return False
            try:
                self._conn.execute(text("SELECT 1")).scalar()
                self._conn.commit()
                return True
            except Exception:
                log.warning("lost the connection holding lock %s: no longer holding it", self.name)
                self._drop_connection()
                return False

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()
                conn.close()

    def release(self) -> None:
        with self._guard:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                    self._conn.commit()
                except Exception:
                    log.warning("could not unlock %s; closing its connection releases it", self.name)
                finally:
                    self._drop_connection()
            if self._fd is not None:
                fd, self._fd = self._fd, None
                os.close(fd)
            self._memory = False

    def backend_pid(self) -> int | None:
        """The PostgreSQL backend holding the lock (tests kill it to prove a lost lock is noticed)."""
        with self._guard:
            if self._conn is None:
                return None
            return int(self._conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


@contextlib.contextmanager
def holding(engine: Engine, name: str) -> Iterator[AdvisoryLock]:
    """Hold ``name`` (waiting for it) while the block runs."""
    lock = AdvisoryLock(engine, name)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()


def probe_free(engine: Engine, name: str) -> bool:
    """Nobody holds ``name`` right now."""
    lock = AdvisoryLock(engine, name)
    if not lock.try_acquire():
        return False
    lock.release()
    return True
