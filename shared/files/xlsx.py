"""XLSX written cell by cell: text always as text (a cell starting ``=`` stays text, never a formula), numbers
as numbers, so the county office can sum them; and CSV cells neutralised the same way for spreadsheet users."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import xlsxwriter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Sheet:
    name: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    title: str | None = None
    widths: Sequence[float] | None = None


def write_row(sheet: Any, row: int, values: Sequence[Any], fmt: Any = None) -> None:
    """One row: ints and Decimals as numbers, everything else as text (``write_string``: no formula ever)."""
    for col, value in enumerate(values):
        if isinstance(value, bool) or value is None:
            sheet.write_string(row, col, "" if value is None else ("是" if value else "否"), fmt)
        elif isinstance(value, int | Decimal):
            sheet.write_number(row, col, value, fmt)
        else:
            sheet.write_string(row, col, str(value), fmt)


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """An XLSX of ``sheets`` (written in constant memory: rows may be a generator)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    bold = book.add_format({"bold": True})
    for spec in sheets:
        sheet = book.add_worksheet(spec.name[:31])
        for col, width in enumerate(spec.widths or ()):
            sheet.set_column(col, col, width)
        row = 0
        if spec.title:
            sheet.write_string(0, 0, spec.title, bold)
            row = 2
        write_row(sheet, row, spec.headers, bold)
        for values in spec.rows:
            row += 1
            write_row(sheet, row, values)
    book.close()
    return out.getvalue()


def csv_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will show as text, not run as a formula (a leading ``'`` where needed)."""
    if isinstance(value, int | Decimal):
        return str(value)
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text
