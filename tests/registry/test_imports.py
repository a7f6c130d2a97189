"""Bulk import: bad rows reported by row, column and reason; good rows land; the same file twice is a no-op."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from services.registry.imports.template import COLUMNS
from tests.registry.files import household_rows, member_row, write_csv, write_xlsx
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def run(api: Any, headers: dict[str, str], path: Path) -> dict[str, Any]:
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


def errors(api: Any, headers: dict[str, str], job_id: str) -> set[tuple[int, str]]:
    page = api.get(f"/api/v1/imports/{job_id}/errors", headers=headers).json()
    return {(e["row"], e["column"]) for e in page["items"]}


def mixed_file() -> list[dict[str, str]]:
    """Rows 2–4 and 5–6 are good households; rows 7–12 each carry one fault."""
    bad_checksum = member_row("HK-BAD-1", "赵一", "户主", born=date(1970, 1, 1))
    bad_checksum["身份证号"] = bad_checksum["身份证号"][:17] + ("0" if bad_checksum["身份证号"][-1] != "0" else "1")
    wrong_birth = member_row("HK-BAD-2", "钱二", "户主", born=date(1971, 1, 1)) | {"出生日期": "1971-01-02"}
    nowhere = member_row("HK-BAD-3", "孙三", "户主", born=date(1972, 1, 1)) | {"区划代码": "522323109999"}
    no_name = member_row("HK-BAD-4", "", "户主", born=date(1973, 1, 1))
    bad_cause = member_row("HK-BAD-5", "周五", "户主", born=date(1974, 1, 1)) | {"主要致贫原因": "穷"}
    two_heads_a = member_row("HK-BAD-6", "吴六", "户主", born=date(1975, 1, 1))
    return [
        *household_rows("HK-GOOD-1", 3),
        *household_rows("HK-GOOD-2", 2),
        bad_checksum,
        wrong_birth,
        nowhere,
        no_name,
        bad_cause,
        two_heads_a,
        member_row("HK-BAD-6", "吴七", "户主", born=date(1976, 1, 1)),
    ]


class TestImport:
    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_bad_rows_reported_good_rows_land_and_a_second_run_changes_nothing(
        self, api, county, sql, tmp_path, suffix
    ):
        rows = mixed_file()
        path = tmp_path / f"households{suffix}"
        write = write_csv if suffix == ".csv" else write_xlsx
        write(path, rows)
        job = run(api, county, path)
        assert job["status"] == "done", job
        assert (job["rows_total"], job["rows_done"]) == (12, 12)
        assert (job["households_created"], job["members_created"]) == (2, 5)
        assert errors(api, county, job["id"]) == {
            (7, "身份证号"),
            (8, "身份证号"),
            (9, "区划代码"),
            (10, "姓名"),
            (11, "主要致贫原因"),
            (12, "与户主关系"),
            (13, "与户主关系"),
        }
        reasons = api.get(f"/api/v1/imports/{job['id']}/errors", headers=county).json()["items"]
        assert any("校验码" in e["reason"] for e in reasons)
        assert sql("SELECT count(*) FROM household") == 2
        assert sql("SELECT count(*) FROM member") == 5
        assert sql("SELECT count(*) FROM outbox WHERE event_type = 'household.registered'") == 2

        write(path, rows)
        again = run(api, county, path)
        assert (again["households_created"], again["members_created"], again["rows_unchanged"]) == (0, 0, 5)
        assert errors(api, county, again["id"]) == errors(api, county, job["id"])
        assert sql("SELECT count(*) FROM household") == 2
        assert sql("SELECT count(*) FROM member") == 5
        assert sql("SELECT count(*) FROM outbox") == 2

        listed = api.get("/api/v1/households", params={"q": "王大山"}, headers=county).json()["items"]
        assert {h["hukou_number"] for h in listed} == {"HK-GOOD-1", "HK-GOOD-2"}

    def test_a_member_already_active_elsewhere_keeps_the_household_out(self, api, county, sql, tmp_path):
        first = household_rows("HK-A", 2)
        write_csv(tmp_path / "a.csv", first)
        run(api, county, tmp_path / "a.csv")
        clash = household_rows("HK-B", 2)
        clash[1]["身份证号"] = first[1]["身份证号"]
        job = run(api, county, write_csv(tmp_path / "b.csv", clash))
        assert job["households_created"] == 0
        assert errors(api, county, job["id"]) == {(3, "身份证号"), (2, "户编号")}
        assert sql("SELECT count(*) FROM household") == 1

    def test_gb18030_csv_from_excel_is_read(self, api, county, sql, tmp_path):
        job = run(api, county, write_csv(tmp_path / "gbk.csv", household_rows("HK-GBK", 3), encoding="gb18030"))
        assert (job["households_created"], job["error_count"]) == (1, 0)

    def test_rows_outside_the_cadres_village_are_refused(self, api, cadre, tmp_path):
        rows = [r | {"区划代码": "522323109002"} for r in household_rows("HK-ELSEWHERE", 2)]
        job = run(api, cadre, write_csv(tmp_path / "x.csv", rows))
        assert job["households_created"] == 0
        assert (2, "区划代码") in errors(api, cadre, job["id"])

    def test_a_file_without_the_required_columns_fails_with_a_message(self, api, county, tmp_path):
        path = tmp_path / "wrong.csv"
        path.write_text("name,id\n张三,1\n", encoding="utf-8")
        job = run(api, county, path)
        assert job["status"] == "failed" and "户编号" in job["message"]

    def test_the_template_has_the_documented_headers(self, api, county):
        response = api.get("/api/v1/imports/template.xlsx", headers=county)
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
        assert sheet[0] == [c.header for c in COLUMNS]
        csv_text = api.get("/api/v1/imports/template.csv", headers=county).content.decode("utf-8-sig")
        assert csv_text.splitlines()[0].split(",")[:3] == ["户编号", "区划代码", "村民小组"]
