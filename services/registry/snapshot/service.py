"""The members of a region as one file, read through one raw DBAPI cursor: no ORM object, no Python value per
field, never every row in memory at once.

The database formats every value as text (booleans ``true``/``false``, dates ``YYYY-MM-DD``). On PostgreSQL the
CSV itself comes from ``COPY (SELECT …) TO STDOUT WITH (FORMAT csv)``, streamed through the driver in chunks of
``CHUNK`` bytes. On SQLite the lines come back finished (``printf``, as bytes): for the whole snapshot a page of
``HOUSEHOLDS`` households' lines as one value of one statement, for a delta one row per member, ``PAGE`` rows a
round trip. Rows come in no particular order (an ``ORDER BY`` would sort millions of rows for a reader that does
not care).

A reader may ask for the snapshot in ``parts`` (``part`` 0 … parts - 1), each its own request read at the same
time on its own connection: SQLite steps without Python's lock, so two parts use two cores. A part is every member
of the households whose id falls in it (``part_of``): a household is whole in one part, and every member is in
exactly one.

The compact form (``compact_stream``) is what the comparison's whole snapshot reads: ``COMPACT_COLUMNS``, a line
per active member. It is 84 % of the bytes and about 60 % of SQLite's work of the member lines: five values
formatted per member instead of nine, and no quoting test per member (on SQLite a page's lines are counted, lines
and commas, and the page is made again with the resident IDs quoted only when that shows one needs it; the
validated registry never stores such an ID).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import (
    ColumnElement,
    Dialect,
    LargeBinary,
    Table,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.sql import Select
from sqlalchemy.sql.selectable import CTE
from sqlmodel import col

from services.registry.models import Household, Member
from services.registry.snapshot.schemas import COLUMNS, PARQUET_TYPES
from shared.db import Database
from shared.ids import new_id
from shared.scope import prefix_condition

MAX_PARTS = 16
PART_CHAR = 28  # a character of the id's random bits (UUIDv7: the first of the last group's random digits)
PAGE = 20_000  # SQLite rows per fetch of a delta, about 3 MB: one chunk of the streamed response
HOUSEHOLDS = 5_000  # SQLite households per statement of a whole snapshot, about 2 MB: one chunk
CHUNK = 1 << 20  # PostgreSQL bytes per chunk (COPY hands over one row at a time)
HEADER = (",".join(COLUMNS) + "\n").encode()
Part = tuple[int, int] | None  # (part, parts): one of the parts the snapshot is asked in, or the whole
# SQLModel sets __table__ when it makes a table class; its stubs do not declare it.
HOUSEHOLD: Table = Household.__table__  # type: ignore[attr-defined]
MEMBER: Table = Member.__table__  # type: ignore[attr-defined]
COMPACT_COLUMNS = ("member_id", "household_id", "resident_id", "region_code", "registered_on")
COMPACT_HEADER = (",".join(COMPACT_COLUMNS) + "\n").encode()


def _csv_field(value: Any) -> ColumnElement[Any]:
    """A text value as CSV writes it on SQLite: quoted only when it holds a comma, quote or line break (as COPY
    does). Used for the resident ID, the one value from outside; the validated registry never stores such a one,
    but a line of the file must never break because of an old row."""
    specials = [func.instr(value, c) > 0 for c in (",", '"', "\n", "\r")]
    quoted = literal('"') + func.replace(value, '"', '""') + literal('"')
    return case((specials[0] | specials[1] | specials[2] | specials[3], quoted), else_=value)


def _values(dialect: str, household: Any = None) -> list[Any]:
    """The snapshot's columns (``COLUMNS``) as text expressions for this database (``household``: the columns
    of the household rows read, the table's own by default)."""
    h = household if household is not None else HOUSEHOLD.c

    def day(column: Any) -> Any:
        return func.to_char(column, "YYYY-MM-DD") if dialect == "postgresql" else column  # SQLite: ISO text already

    resident_id = col(Member.id_number) if dialect == "postgresql" else _csv_field(col(Member.id_number))
    return [
        col(Member.id),
        col(Member.household_id),
        resident_id,
        h.region_code,
        h.status,
        case((col(Member.active), literal("true")), else_=literal("false")),
        day(h.registered_on),
        day(Member.joined_on),
        day(Member.left_on),
    ]


def part_of(household_id: Any, dialect: str, parts: int) -> ColumnElement[Any]:
    """Which part (0 … parts - 1) a household id falls in: the code of one character of its random bits, modulo
    ``parts`` (the hex digits split evenly between two parts). Any id, whatever its form, is in exactly one part:
    an id too short for that character is in part 0."""
    char = func.substr(household_id, PART_CHAR, 1)
    code = func.ascii(char) if dialect == "postgresql" else func.coalesce(func.unicode(char), 0)
    return code % parts


def _select(
    region: str,
    values: Sequence[Any],
    changed_since: datetime | None = None,
    part: Part = None,
    dialect: str = "sqlite",
) -> Select[Any]:
    """Every member (active or not) of the region's households; with ``changed_since``, only those of households
    whose row changed at or after it (every member edit, birth, death, move, split and merge starts a new household
    version, which moves ``updated_at``); with ``part`` (part, parts), only those of that part's households."""
    query = select(*values).select_from(Member).join(Household, col(Household.id) == col(Member.household_id))
    if changed_since is not None:
        query = query.where(col(Household.updated_at) >= changed_since)
    if part is not None and part[1] > 1:
        query = query.where(part_of(col(Household.id), dialect, part[1]) == part[0])
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


def _sqlite_lines(
    raw: Any, region: str, dialect: Dialect, changed_since: datetime | None, part: Part
) -> Iterator[bytes]:
    if changed_since is None:
        yield from _sqlite_households(raw, region, dialect, part)
        return
    values = _values("sqlite")
    line = func.printf(",".join(["%s"] * len(values)) + "\n", *values)
    # as a BLOB the line comes back as the UTF-8 bytes SQLite holds, never decoded into a str and encoded again
    sql, params = _compiled(_select(region, [cast(line, LargeBinary)], changed_since, part, "sqlite"), dialect)
    cursor = raw.cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(PAGE):
            yield b"".join([r[0] for r in rows])
    finally:
        cursor.close()


def _household_page(region: str, part: Part, *more: Any) -> CTE:
    """The next ``HOUSEHOLDS`` households after the parameter ``after`` (household id order) under ``region``, of
    ``part``, as a CTE of their id, region code, registration day and ``more`` columns."""
    h = select(HOUSEHOLD.c.id, HOUSEHOLD.c.region_code, HOUSEHOLD.c.registered_on, *more).where(
        HOUSEHOLD.c.id > bindparam("after", "")
    )
    if region:
        h = h.where(prefix_condition(HOUSEHOLD.c.region_code, region))
    if part is not None and part[1] > 1:
        h = h.where(part_of(HOUSEHOLD.c.id, "sqlite", part[1]) == part[0])
    return h.order_by(HOUSEHOLD.c.id).limit(HOUSEHOLDS).cte("page")


def _sqlite_households(raw: Any, region: str, dialect: Dialect, part: Part) -> Iterator[bytes]:
    """The whole snapshot (of a part) on SQLite, ``HOUSEHOLDS`` households at a time in household id order (the
    household covering index), each page one statement that hands back its lines as one value: SQLite does the
    page's work in one step without Python's lock, so parts read at once use as many cores (a row per member
    would take the lock back per member, and two readers fight over it). One read transaction holds them all, so
    the pages are one consistent view."""
    page = _household_page(region, part, HOUSEHOLD.c.status)
    values = _values("sqlite", page.c)
    lines = func.group_concat(func.printf(",".join(["%s"] * len(values)) + "\n", *values), "")
    query = select(cast(lines, LargeBinary), select(func.max(page.c.id)).scalar_subquery()).select_from(
        page.join(Member, col(Member.household_id) == page.c.id)
    )
    sql, params = _compiled(query, dialect)
    after = _position(query, dialect, "after")
    cursor = raw.cursor()
    try:
        if not raw.in_transaction:
            cursor.execute("BEGIN")
        while True:
            found, last = cursor.execute(sql, params).fetchone()
            if last is None:
                break
            if found:
                yield found
            params[after] = last
    finally:
        if raw.in_transaction:
            cursor.execute("ROLLBACK")
        cursor.close()


def _position(query: Select[Any], dialect: Dialect, name: str) -> int:
    """Where the bound parameter ``name`` stands among a positional statement's parameters."""
    positions = query.compile(dialect=dialect).positiontup
    assert positions is not None
    return positions.index(name)


def _postgres_copy(
    raw: Any, region: str, dialect: Dialect, changed_since: datetime | None, part: Part
) -> Iterator[bytes]:
    values = [v.label(name) for v, name in zip(_values("postgresql"), COLUMNS, strict=True)]
    yield from _copy(raw, *_compiled(_select(region, values, changed_since, part, "postgresql"), dialect))


def _copy(raw: Any, sql: str, params: Any) -> Iterator[bytes]:
    """``COPY (sql) TO STDOUT WITH (FORMAT csv)`` through the driver, in chunks of about ``CHUNK`` bytes."""
    buffer = bytearray()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        for row in copy:
            buffer += row
            if len(buffer) >= CHUNK:
                yield bytes(buffer)
                buffer.clear()
    if buffer:
        yield bytes(buffer)


def _compact_values(dialect: str, household: Any, *, quoted: bool) -> list[Any]:
    """``COMPACT_COLUMNS`` as text expressions (``quoted``: the resident ID through ``_csv_field``)."""
    resident_id = _csv_field(MEMBER.c.id_number) if quoted else MEMBER.c.id_number
    day = func.to_char(household.registered_on, "YYYY-MM-DD") if dialect == "postgresql" else household.registered_on
    return [MEMBER.c.id, MEMBER.c.household_id, resident_id, household.region_code, day]


def _compact_sqlite_page(region: str, part: Part, dialect: Dialect, *, quoted: bool) -> tuple[str, list[Any], int]:
    """One page of ``HOUSEHOLDS`` households after the parameter at the returned position (household id order):
    their active members' compact lines as one value, the page's last household id, and how many lines."""
    page = _household_page(region, part)
    values = _compact_values("sqlite", page.c, quoted=quoted)
    line = func.printf(",".join(["%s"] * len(values)) + "\n", *values)
    query = (
        select(
            cast(func.group_concat(line, ""), LargeBinary),
            select(func.max(page.c.id)).scalar_subquery(),
            func.count(),
        )
        .select_from(page.join(MEMBER, MEMBER.c.household_id == page.c.id))
        .where(MEMBER.c.active)
    )
    sql, params = _compiled(query, dialect)
    return sql, params, _position(query, dialect, "after")


def _plain(lines: bytes | None, count: int) -> bool:
    """Whether ``count`` compact lines made without quoting are right: that many lines, four commas each, no
    quote or carriage return (a resident ID holding one of those, or a comma or a line break, must be quoted)."""
    if not lines:
        return count == 0
    return lines.count(b"\n") == count and lines.count(b",") == 4 * count and b'"' not in lines and b"\r" not in lines


def _compact_sqlite(raw: Any, region: str, dialect: Dialect, part: Part) -> Iterator[bytes]:
    """The compact form on SQLite, a page of households a statement, as ``_sqlite_households`` (one read
    transaction). The resident IDs are written as stored; a page whose lines and commas do not count up (an old
    row's ID holding a comma, quote or line break) is made again with them quoted as ``_csv_field`` quotes."""
    sql, params, after = _compact_sqlite_page(region, part, dialect, quoted=False)
    quoted_sql, quoted_params, quoted_after = _compact_sqlite_page(region, part, dialect, quoted=True)
    cursor = raw.cursor()
    try:
        if not raw.in_transaction:
            cursor.execute("BEGIN")
        while True:
            lines, last, count = cursor.execute(sql, params).fetchone()
            if last is None:
                break
            if not _plain(lines, count):
                quoted_params[quoted_after] = params[after]
                lines = cursor.execute(quoted_sql, quoted_params).fetchone()[0]
            if lines:
                yield lines
            params[after] = last
    finally:
        if raw.in_transaction:
            cursor.execute("ROLLBACK")
        cursor.close()


def _compact_postgres(raw: Any, region: str, dialect: Dialect, part: Part) -> Iterator[bytes]:
    """The compact form on PostgreSQL: ``COPY (SELECT …) TO STDOUT WITH (FORMAT csv)``, which quotes as
    ``_csv_field`` does."""
    values = [
        v.label(name)
        for v, name in zip(_compact_values("postgresql", HOUSEHOLD.c, quoted=False), COMPACT_COLUMNS, strict=True)
    ]
    query = _select(region, values, None, part, "postgresql").where(MEMBER.c.active)
    yield from _copy(raw, *_compiled(query, dialect))


def watermark(db: Database) -> datetime:
    """The time to ask ``changed_since`` next: the clock that stamps ``updated_at``, read before the rows are."""
    return db.clock.now()


def csv_stream(
    db: Database, region: str | None, changed_since: datetime | None = None, part: Part = None
) -> Generator[bytes]:
    """The snapshot as CSV bytes: a header, then one line per member, in chunks of a few MB.

    ``region`` is the prefix already narrowed to the caller's scope; None (no overlap) gives the header only.
    ``changed_since`` keeps only the members of households changed at or after it; ``part`` (part, parts) only
    those of one part's households.
    """
    yield HEADER
    if region is not None:
        yield from _streamed(db, region, changed_since, part, compact=False)


def compact_stream(db: Database, region: str | None, part: Part = None) -> Generator[bytes]:
    """The compact form (``COMPACT_COLUMNS``, a line per active member; see the module), a header first, narrowed
    as ``csv_stream`` is (a whole snapshot: a reader of changes needs the inactive members too)."""
    yield COMPACT_HEADER
    if region is not None:
        yield from _streamed(db, region, None, part, compact=True)


def _streamed(
    db: Database, region: str, changed_since: datetime | None, part: Part, *, compact: bool
) -> Generator[bytes]:
    engine = db.read_engine
    raw = engine.raw_connection()
    finished = False
    try:
        if compact:
            compact_lines = _compact_postgres if engine.dialect.name == "postgresql" else _compact_sqlite
            yield from compact_lines(raw, region, engine.dialect, part)
        else:
            lines = _postgres_copy if engine.dialect.name == "postgresql" else _sqlite_lines
            yield from lines(raw, region, engine.dialect, changed_since, part)
        finished = True
    finally:
        if not finished:  # the reader went away mid-stream: the connection may be mid-COPY, do not reuse it
            raw.invalidate()
        raw.close()


def parquet_file(
    db: Database, region: str | None, folder: Path, changed_since: datetime | None = None, part: Part = None
) -> Path:
    """The snapshot as a Parquet file in ``folder`` (typed columns): the CSV stream spooled to disk, then
    converted by DuckDB."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    spooled = folder / f"snapshot-{new_id()}.csv"
    target = spooled.with_suffix(".parquet")
    try:
        with spooled.open("wb") as fh:
            for chunk in csv_stream(db, region, changed_since, part):
                fh.write(chunk)
        with duckdb.connect() as con:
            con.read_csv(str(spooled), header=True, dtype=dict(PARQUET_TYPES)).write_parquet(str(target))
    finally:
        spooled.unlink(missing_ok=True)
    return target
