"""The members of a region as one file, read through one raw DBAPI cursor: no ORM object, no Python value per
field, never every row in memory at once.

The database formats every value as text (booleans ``true``/``false``, dates ``YYYY-MM-DD``). On PostgreSQL the
CSV itself comes from ``COPY (SELECT …) TO STDOUT WITH (FORMAT csv)``, streamed through the driver in chunks of
``CHUNK`` bytes. On SQLite each row comes back as its finished CSV line (``printf``, as bytes), ``PAGE`` rows a
round trip. Rows come in no particular order (an ``ORDER BY`` would sort millions of rows for a reader that does
not care).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import ColumnElement, Dialect, LargeBinary, case, cast, func, literal, select
from sqlalchemy.sql import Select
from sqlmodel import col

from services.registry.models import Household, Member
from services.registry.snapshot.schemas import COLUMNS, PARQUET_TYPES
from shared.db import Database
from shared.ids import new_id
from shared.scope import prefix_condition

PAGE = 20_000  # SQLite rows per fetch, about 3 MB: one chunk of the streamed response
CHUNK = 1 << 20  # PostgreSQL bytes per chunk (COPY hands over one row at a time)
HEADER = (",".join(COLUMNS) + "\n").encode()


def _csv_field(value: Any) -> ColumnElement[Any]:
    """A text value as CSV writes it on SQLite: quoted only when it holds a comma, quote or line break (as COPY
    does). Used for the resident ID, the one value from outside; the validated registry never stores such a one,
    but a line of the file must never break because of an old row."""
    specials = [func.instr(value, c) > 0 for c in (",", '"', "\n", "\r")]
    quoted = literal('"') + func.replace(value, '"', '""') + literal('"')
    return case((specials[0] | specials[1] | specials[2] | specials[3], quoted), else_=value)


def _values(dialect: str) -> list[Any]:
    """The snapshot's columns (``COLUMNS``) as text expressions for this database."""

    def day(column: Any) -> Any:
        return func.to_char(column, "YYYY-MM-DD") if dialect == "postgresql" else column  # SQLite: ISO text already

    resident_id = col(Member.id_number) if dialect == "postgresql" else _csv_field(col(Member.id_number))
    return [
        col(Member.id),
        col(Member.household_id),
        resident_id,
        col(Household.region_code),
        col(Household.status),
        case((col(Member.active), literal("true")), else_=literal("false")),
        day(Household.registered_on),
        day(Member.joined_on),
        day(Member.left_on),
    ]


def _select(region: str, values: Sequence[Any], changed_since: datetime | None = None) -> Select[Any]:
    """Every member (active or not) of the region's households; with ``changed_since``, only those of households
    whose row changed at or after it (every member edit, birth, death, move, split and merge starts a new household
    version, which moves ``updated_at``)."""
    query = select(*values).select_from(Member).join(Household, col(Household.id) == col(Member.household_id))
    if changed_since is not None:
        query = query.where(col(Household.updated_at) >= changed_since)
    return query.where(prefix_condition(Household.region_code, region)) if region else query


def _compiled(query: Select[Any], dialect: Dialect) -> tuple[str, Any]:
    """SQL text and parameters for the dialect's own driver (named for psycopg, positional for sqlite3)."""
    compiled = query.compile(dialect=dialect)

    def bound(name: str) -> Any:  # as the column's type stores it (an aware time as its stored text on SQLite)
        process = compiled.binds[name].type.bind_processor(dialect)
        return process(compiled.params[name]) if process else compiled.params[name]

    if compiled.positiontup is None:
        return str(compiled), {name: bound(name) for name in compiled.params}
    return str(compiled), [bound(name) for name in compiled.positiontup]


def _sqlite_lines(raw: Any, region: str, dialect: Dialect, changed_since: datetime | None) -> Iterator[bytes]:
    values = _values("sqlite")
    # as a BLOB the line comes back as the UTF-8 bytes SQLite holds, never decoded into a str and encoded again
    line = cast(func.printf(",".join(["%s"] * len(values)) + "\n", *values), LargeBinary)
    sql, params = _compiled(_select(region, [line], changed_since), dialect)
    cursor = raw.cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(PAGE):
            yield b"".join([r[0] for r in rows])
    finally:
        cursor.close()


def _postgres_copy(raw: Any, region: str, dialect: Dialect, changed_since: datetime | None) -> Iterator[bytes]:
    values = [v.label(name) for v, name in zip(_values("postgresql"), COLUMNS, strict=True)]
    sql, params = _compiled(_select(region, values, changed_since), dialect)
    buffer = bytearray()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        for row in copy:
            buffer += row
            if len(buffer) >= CHUNK:
                yield bytes(buffer)
                buffer.clear()
    if buffer:
        yield bytes(buffer)


def watermark(db: Database) -> datetime:
    """The time to ask ``changed_since`` next: the clock that stamps ``updated_at``, read before the rows are."""
    return db.clock.now()


def csv_stream(db: Database, region: str | None, changed_since: datetime | None = None) -> Generator[bytes]:
    """The snapshot as CSV bytes: a header, then one line per member, in chunks of a few MB.

    ``region`` is the prefix already narrowed to the caller's scope; None (no overlap) gives the header only.
    ``changed_since`` keeps only the members of households changed at or after it.
    """
    yield HEADER
    if region is None:
        return
    engine = db.read_engine
    raw = engine.raw_connection()
    finished = False
    try:
        lines = _postgres_copy if engine.dialect.name == "postgresql" else _sqlite_lines
        yield from lines(raw, region, engine.dialect, changed_since)
        finished = True
    finally:
        if not finished:  # the reader went away mid-stream: the connection may be mid-COPY, do not reuse it
            raw.invalidate()
        raw.close()


def parquet_file(db: Database, region: str | None, folder: Path, changed_since: datetime | None = None) -> Path:
    """The snapshot as a Parquet file in ``folder`` (typed columns): the CSV stream spooled to disk, then
    converted by DuckDB."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    spooled = folder / f"snapshot-{new_id()}.csv"
    target = spooled.with_suffix(".parquet")
    try:
        with spooled.open("wb") as fh:
            for chunk in csv_stream(db, region, changed_since):
                fh.write(chunk)
        with duckdb.connect() as con:
            con.read_csv(str(spooled), header=True, dtype=dict(PARQUET_TYPES)).write_parquet(str(target))
    finally:
        spooled.unlink(missing_ok=True)
    return target
