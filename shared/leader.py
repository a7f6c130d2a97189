"""Leadership among replicas: one relay (or periodic job) per service runs at a time.

On PostgreSQL a session-level advisory lock, held on a dedicated connection, marks the leader;
if the leader's process dies its connection closes and the lock passes to the next replica.
SQLite is one file on one machine, so there the single process is always the leader.
"""

from __future__ import annotations

import zlib

from sqlalchemy import Connection, Engine, text


class LeaderLock:
    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.key = zlib.crc32(name.encode())
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self.engine.dialect.name != "postgresql" or self._conn is not None

    def try_acquire(self) -> bool:
        """Become the leader if nobody is; cheap to call again while leading."""
        if self.held:
            return True
        conn = self.engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        conn.commit()
        if got:
            self._conn = conn
        else:
            conn.close()
        return bool(got)

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
