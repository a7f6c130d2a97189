"""Set-based reads and writes on the session's own DBAPI connection, inside its transaction.

PostgreSQL: ``COPY … FROM STDIN`` straight into the tables, and ``= ANY(array)`` look-ups. SQLite: one
``executemany`` per table and ``IN (SELECT value FROM json_each(?))`` look-ups. Either way one statement per
table and chunk, never one per row, and no ORM objects. Rows are tuples of values the driver takes as they
are: text, numbers, booleans, None, dates as ISO text, JSON as text; timestamps go through ``timestamp``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from shared.ids import new_id


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Bulk:
    """The bulk operations for one session; ``for_session`` picks the backend's."""

    placeholder = "?"

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect
        self.dbapi: Any = session.connection().connection.driver_connection

    @staticmethod
    def for_session(session: Session) -> Bulk:
        name = session.get_bind().dialect.name
        if name == "postgresql":
            return PostgresBulk(session)
        if name == "sqlite":
            return SqliteBulk(session)
        raise NotImplementedError(f"bulk import on {name}")

    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def pairs(self, sql_in: str, keys: Iterable[str]) -> dict[str, str]:
        """Run ``SELECT key, value … WHERE <column> IN :keys`` (``sql_in`` with ``{keys}`` in place); a dict."""
        raise NotImplementedError

    def timestamp(self, table: Table, column: str, value: datetime) -> Any:
        return timestamp(self.dialect, table, column, value)


def timestamp(dialect: Dialect, table: Table, column: str, value: datetime) -> Any:
    """A timestamp as the column's SQLAlchemy type hands it to this driver (UTC text on SQLite)."""
    process = table.c[column].type._cached_bind_processor(dialect)
    return process(value) if process else value


def constant(dialect: Dialect, table: Table, column: str, value: Any) -> Any:
    """A model default as a driver value (computed once per job, not per row)."""
    if isinstance(value, datetime):
        return timestamp(dialect, table, column, value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class SqliteBulk(Bulk):
    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            names = ", ".join(quoted(c) for c in columns)
            marks = ", ".join("?" * len(columns))
            self.dbapi.executemany(f"INSERT INTO {quoted(table.name)} ({names}) VALUES ({marks})", rows)

    def pairs(self, sql_in: str, keys: Iterable[str]) -> dict[str, str]:
        keys = list(keys)
        if not keys:
            return {}
        sql = sql_in.format(keys="(SELECT value FROM json_each(?))")
        return dict(self.dbapi.execute(sql, (json.dumps(keys),)).fetchall())


class PostgresBulk(Bulk):
    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = ", ".join(quoted(c) for c in columns)
        with self.dbapi.cursor() as cursor, cursor.copy(f"COPY {quoted(table.name)} ({names}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)

    def pairs(self, sql_in: str, keys: Iterable[str]) -> dict[str, str]:
        keys = list(keys)
        if not keys:
            return {}
        with self.dbapi.cursor() as cursor:  # one JSON text: cheaper to send than a text[] of 20,000 items
            cursor.execute(sql_in.format(keys="(SELECT json_array_elements_text(%s::json))"), (json.dumps(keys),))
            return dict(cursor.fetchall())


class TimeOrderedIds:
    """Ids for the rows of a chunk in the one id scheme (``shared.ids``, UUIDv7), at a fraction of its cost.

    Each ``take`` asks ``new_id`` for one id and counts up in its random low bits: the ids keep its time and
    sequence, so they sort after every id made before and before every id made after, in this process and with
    ``new_id``'s own; new rows' keys land at the right edge of the primary-key B-tree, as a raw load's do
    (uuid4 keys cost SQLite and PostgreSQL a third more on 300,000 rows). The low 32 bits count (up to 2**32 ids
    a take); the 30 random bits above them keep two processes' takes in one millisecond apart.
    """

    def take(self, n: int) -> list[str]:
        base = new_id()
        prefix, low = base[:24], int(base[24:], 16) & ~0xFFFFFFFF  # the last 12 hex digits: the low 48 bits
        return [f"{prefix}{low + i:012x}" for i in range(n)]
