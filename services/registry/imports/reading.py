"""Reading an import file into chunks of households, streaming: only the current chunk is ever held.

A file of ``PARALLEL_FROM`` rows or more is read in a parser process (``parallel``) while the job lands
what it has read; a smaller one in line, where a process would cost more than it saves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from services.registry.imports.template import HUKOU_NUMBER, ROW, ParsedRow, RowReader
from shared.files.tabular import open_table

log = logging.getLogger(__name__)
CHUNK_ROWS = 20_000
FIRST_ROWS = 2_000  # the parser process's first chunk: what the job waits for before it has work
PARALLEL_FROM = 40_000  # rows (as the file states them) from which a parser process reads the file
Households = list[tuple[ParsedRow, ...]]  # a chunk: each household's rows (tuples: untracked by the GC)


def chunk(
    rows: Iterator[tuple[int, list[str]]],
    read: Callable[[int, list[str]], ParsedRow],
    size: int,
    *,
    first: int | None = None,
) -> Iterator[tuple[Households, bool]]:
    """Households in chunks of about ``size`` rows (the first of ``first``, if given), and whether the chunk
    is the last.

    Rows of one household sit together; a chunk's last household waits for the next chunk (it may go on
    there), and the last chunk has them all. Rows without a hukou number stand alone.
    """
    parsed = (read(n, cells) for n, cells in rows)
    tail: tuple[ParsedRow, ...] = ()
    ahead = next(parsed, None)
    take = first or size
    while ahead is not None:
        batch = [ahead, *islice(parsed, take - 1)]
        take = size
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
class Reading:
    """How a file's rows are read: the tables' column defaults (what an empty cell means) and the day that
    bounds registration dates. The same in the job and in a parser process."""

    today: date
    household_defaults: dict[str, Any]
    member_defaults: dict[str, Any]

    def reader(self, headers: list[str]) -> RowReader:
        """The file's columns compiled (MissingColumns first)."""
        return RowReader(
            headers, today=self.today, household_defaults=self.household_defaults, member_defaults=self.member_defaults
        )


@dataclass(frozen=True)
class File:
    total: int | None  # data rows, for progress
    chunks: Iterator[tuple[Households, bool]]
    filled: set[int]  # the household columns past H_CORE that some row read so far has filled (H_REST indexes)
    close: Callable[[], None]  # stops and joins the parser process, if any


def _nothing() -> None:
    pass


def read_file(path: Path, reading: Reading, *, overlapped: bool = False) -> File:
    """The file's data rows (for progress) and its chunks; MissingColumns before any row is read.

    Chunks are CHUNK_ROWS rows. When the writing of one chunk overlaps the reading of the next
    (``overlapped``), a smaller file is cut into about eight chunks (of 2,000 rows at least), so that there
    is something to overlap. A parser process sends a small first chunk (FIRST_ROWS), so that the job
    starts landing soon. The caller calls ``close`` when done.
    """
    table = open_table(path, strip=False)
    reader = reading.reader(table.headers)
    parallel = table.total is not None and table.total >= PARALLEL_FROM
    size = CHUNK_ROWS
    if overlapped and table.total:
        size = max(1, min(CHUNK_ROWS, max(CHUNK_ROWS // 10, table.total // 8)))
    if parallel:
        from services.registry.imports.parallel import Parser  # it imports this module

        try:
            parser = Parser(path, reading, size=size, first=min(size, FIRST_ROWS), filled=reader.filled)
        except Exception:
            log.warning("could not start a parser process; reading %s in line", path.name, exc_info=True)
        else:
            close = getattr(table.rows, "close", None)
            if close is not None:
                close()  # the parser reads the file
            return File(table.total, iter(parser), reader.filled, parser.close)
    return File(table.total, chunk(table.rows, reader.read, size), reader.filled, _nothing)
