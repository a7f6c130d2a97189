"""Set-based writes: COPY on PostgreSQL, one executemany per table on SQLite."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows of one table in one round of work; every row has the same keys."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, table, rows)
    else:
        session.execute(insert(table), list(rows))


def _copy(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    columns = list(rows[0])
    dbapi = session.connection().connection.driver_connection
    quoted = ", ".join(f'"{c}"' for c in columns)
    statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row([_copy_value(row[c]) for c in columns])


def _copy_value(value: Any) -> Any:
    # COPY bypasses SQLAlchemy's type processing: JSON columns take their text.
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value
