"""Reading spreadsheets the county office produces: CSV (UTF-8 or GB18030) and XLSX, row by row."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from python_calamine import CalamineWorkbook

XLSX_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells as text)
    total: int | None = None  # data rows, for progress (blank rows included); None when unknown


def open_table(path: Path, *, strip: bool = True) -> Table:
    """The header row and a stream of the rows below it; XLSX takes the first sheet.

    Blank rows are skipped. Cells are stripped of surrounding space unless ``strip`` is false (a caller that
    strips only the cells it reads, in its own hot loop).
    """
    if path.suffix.lower() in XLSX_SUFFIXES:
        return _xlsx(path)
    return _csv(path, strip=strip)


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return max(lines - 1, 0)


def _encoding(path: Path) -> str:
    # Excel on a Chinese Windows saves CSV in GBK; anything that is not valid UTF-8 is read as GB18030.
    with path.open("rb") as fh:
        sample = fh.read(1 << 16)
    try:
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # a cut multi-byte character at the end is not evidence
            return "gb18030"
    return "utf-8-sig"


def _csv(path: Path, *, strip: bool) -> Table:
    fh = open(path, encoding=_encoding(path), newline="", buffering=1 << 20)  # noqa: SIM115 - closed at the end
    reader = csv.reader(fh)
    headers = [h.strip() for h in next(reader, [])]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, row in enumerate(reader, start=2):
                if (row and row[0].strip()) or any(cell.strip() for cell in row):  # blank rows are skipped
                    yield number, [cell.strip() for cell in row] if strip else row
        finally:
            fh.close()

    return Table(headers=headers, rows=rows(), total=_count_lines(path))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps numbers as floats: 1.0 is the group number 1
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _xlsx(path: Path) -> Table:
    """The first sheet through calamine's row iterator: cells become Python objects one row at a time.

    calamine keeps the sheet's cells in its own compact (Rust) form while the iterator runs; XLSX has no
    streaming read without it (the shared-strings table alone is as large as the text of the file).
    """
    book = CalamineWorkbook.from_path(str(path))
    sheet = book.get_sheet_by_index(0)
    stream = iter(sheet.iter_rows())
    headers = [_cell(h) for h in next(stream, [])]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, row in enumerate(stream, start=2):
                cells = [_cell(v) for v in row]
                if any(cells):
                    yield number, cells
        finally:
            book.close()

    return Table(headers=headers, rows=rows(), total=max(sheet.height - 1, 0))
