"""Import files for the tests: rows in the template's Chinese columns, as CSV or XLSX."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import xlsxwriter

from services.registry.imports.template import COLUMNS
from tests.support.builders import resident_id
from tests.support.procs import wait_until

HEADERS = [c.header for c in COLUMNS]


def member_row(hukou: str, name: str, relation: str, *, born: date, sex: str = "男", **extra: str) -> dict[str, str]:
    row = {
        "户编号": hukou,
        "区划代码": "522323109001",
        "村民小组": "2",
        "家庭住址": "青山镇下街社区二组" if relation == "户主" else "",
        "主要致贫原因": "因病" if relation == "户主" else "",
        "姓名": name,
        "身份证号": resident_id(born=born, sex="male" if sex == "男" else "female"),
        "与户主关系": relation,
        "性别": sex,
        "出生日期": born.isoformat(),
    }
    return row | extra


def household_rows(hukou: str, size: int = 3, *, day: int = 0) -> list[dict[str, str]]:
    """One household's rows. The resident IDs of one birth date and sex run out after 250 households (the
    order digits): a file of more households gives each its own ``day``, added to the couple's birth dates."""
    shift = timedelta(days=day)
    rows = [member_row(hukou, "王大山", "户主", born=date(1965, 3, 8) + shift)]
    rows += [member_row(hukou, "李秀英", "配偶", born=date(1967, 9, 1) + shift, sex="女")][: size - 1]
    rows += [member_row(hukou, f"王小{i}", "子女", born=date(1990 + i, 1, 2)) for i in range(size - 2)]
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], *, encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, HEADERS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for i, header in enumerate(HEADERS):
        sheet.write_string(0, i, header)
        for r, row in enumerate(rows, start=1):
            value = row.get(header, "")
            if header == "村民小组" and value:
                sheet.write_number(r, i, int(value))  # Excel keeps numbers as floats
            else:
                sheet.write_string(r, i, value)
    book.close()
    return path


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def run_import(api: Any, headers: dict[str, str], path: Path) -> dict[str, Any]:
    """POST the file to /imports and wait for the job to finish; the finished job."""
    mime = "text/csv" if path.suffix == ".csv" else XLSX
    with path.open("rb") as fh:
        response = api.post("/api/v1/imports", files={"file": (path.name, fh, mime)}, headers=headers)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    return wait_until(
        lambda: (
            (j := api.get(f"/api/v1/imports/{job_id}", headers=headers).json())["status"] in ("done", "failed") and j
        ),
        what="import job finished",
    )
