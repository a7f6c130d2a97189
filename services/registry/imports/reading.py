"""Reading an import file into chunks of households, streaming: only the current chunk is ever held."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from services.registry.imports.template import HUKOU_NUMBER, ROW, ParsedRow, RowReader
from services.registry.tabular import open_table

CHUNK_ROWS = 20_000
Households = list[tuple[ParsedRow, ...]]  # a chunk: each household's rows (tuples: untracked by the GC)


def chunk(
    rows: Iterator[tuple[int, list[str]]], read: Callable[[int, list[str]], ParsedRow], size: int
) -> Iterator[tuple[Households, bool]]:
    """Households in chunks of about ``size`` rows, and whether the chunk is the last.

    Rows of one household sit together; a chunk's last household waits for the next chunk (it may go on
    there), and the last chunk has them all. Rows without a hukou number stand alone.
    """
    parsed = (read(n, cells) for n, cells in rows)
    tail: tuple[ParsedRow, ...] = ()
    ahead = next(parsed, None)
    while ahead is not None:
        batch = [ahead, *islice(parsed, size - 1)]
        ahead = next(parsed, None)
        groups: dict[str, list[ParsedRow]] = {}
        for r in (*tail, *batch):
            key = r[HUKOU_NUMBER] or f"\0row{r[ROW]}"
            group = groups.get(key)
            if group is None:
                groups[key] = [r]
            else:
                group.append(r)
        households = [tuple(rows) for rows in groups.values()]
        tail = households.pop() if ahead is not None else ()
        yield households, ahead is None


@dataclass(frozen=True)
class File:
    total: int | None  # data rows, for progress
    chunks: Iterator[tuple[Households, bool]]
    filled: set[int]  # the household columns past H_CORE that some row read so far has filled (H_REST indexes)


def read_file(
    path: Path,
    *,
    today: date,
    household_defaults: dict[str, Any],
    member_defaults: dict[str, Any],
    overlapped: bool = False,
) -> File:
    """The file's data rows (for progress) and its chunks; MissingColumns before any row is read.

    Chunks are CHUNK_ROWS rows. When the writing of one chunk overlaps the reading of the next
    (``overlapped``), a smaller file is cut into about eight chunks (of 2,000 rows at least), so that there
    is something to overlap.
    """
    table = open_table(path, strip=False)
    reader = RowReader(
        table.headers, today=today, household_defaults=household_defaults, member_defaults=member_defaults
    )
    size = CHUNK_ROWS
    if overlapped and table.total:
        size = max(1, min(CHUNK_ROWS, max(CHUNK_ROWS // 10, table.total // 8)))
    return File(table.total, chunk(table.rows, reader.read, size), reader.filled)
