"""The members of a region as one file, read in keyset pages (never every row in memory at once)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
from sqlmodel import Session, col, select

from services.registry.models import Household, Member
from services.registry.snapshot.schemas import COLUMNS
from shared.db import Database
from shared.ids import new_id
from shared.pagination import after
from shared.scope import prefix_condition

PAGE = 5000


def _query(region: str) -> Any:
    query = select(
        Member.id,
        Member.household_id,
        Member.id_number,
        Household.region_code,
        Household.status,
        Member.active,
        Household.registered_on,
        Member.joined_on,
        Member.left_on,
    ).join(Household, col(Household.id) == col(Member.household_id))
    if region:
        query = query.where(prefix_condition(Household.region_code, region))
    return query


def pages(session: Session, region: str) -> Iterator[list[tuple[Any, ...]]]:
    """The members under ``region`` (all of them when empty), ``PAGE`` rows at a time in member-id order."""
    order = [col(Member.id)]
    last: str | None = None
    while True:
        query = _query(region)
        if last is not None:
            query = query.where(after(order, [last]))
        rows = [tuple(r) for r in session.exec(query.order_by(*order).limit(PAGE))]
        if not rows:
            return
        yield rows
        if len(rows) < PAGE:
            return
        last = rows[-1][0]


def _text(value: Any) -> Any:
    return ("false", "true")[value] if isinstance(value, bool) else value


def _csv_chunk(rows: list[tuple[Any, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([_text(v) for v in row] for row in rows)
    return out.getvalue().encode()


def csv_stream(db: Database, region: str | None) -> Iterator[bytes]:
    """The snapshot as CSV bytes (a header, then one line per member), one page per chunk.

    ``region`` is the prefix already narrowed to the caller's scope; None (no overlap) gives the header only.
    """
    yield (",".join(COLUMNS) + "\n").encode()
    if region is None:
        return
    with db.reader() as session:
        for rows in pages(session, region):
            yield _csv_chunk(rows)


def parquet_file(db: Database, region: str | None, folder: Path) -> Path:
    """The snapshot as a Parquet file in ``folder``: the CSV pages spooled to disk, then converted by DuckDB."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    spooled = folder / f"snapshot-{new_id()}.csv"
    target = spooled.with_suffix(".parquet")
    try:
        with spooled.open("wb") as fh:
            for chunk in csv_stream(db, region):
                fh.write(chunk)
        types = {c: "VARCHAR" for c in COLUMNS} | {"member_active": "BOOLEAN"}
        with duckdb.connect() as con:
            con.read_csv(str(spooled), header=True, dtype=types).write_parquet(str(target))
    finally:
        spooled.unlink(missing_ok=True)
    return target
