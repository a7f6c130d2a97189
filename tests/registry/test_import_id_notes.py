"""An import keeps the same note on a resident ID that a registration keeps (an area code not in the division
list for the birth year: 522301, 兴义市, was 兴义县 under another code in 1970): recorded, never a refusal, on both
paths of the import (read in line, and by the parser process)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.registry.imports import reading
from tests.registry.files import member_row, write_csv
from tests.registry.files import run_import as run

RENAMED = "522301197003155525"  # checksum-valid; its area code is not listed for 1970
NOTE = "地址码522301在1970年的行政区划中未见（可能已撤并或更名），请核对"


@pytest.mark.parametrize("parallel_from", [10**9, 0], ids=["in-line", "parser"])
def test_an_imported_id_with_a_renamed_area_code_lands_with_its_note(
    api: Any, county: dict[str, str], sql: Any, tmp_path: Any, monkeypatch: Any, parallel_from: int
) -> None:
    monkeypatch.setattr(reading, "PARALLEL_FROM", parallel_from)
    rows = [
        member_row("HK-NOTE", "张兴", "户主", born=date(1970, 3, 15), sex="女", 身份证号=RENAMED),
        member_row("HK-NOTE", "张小兴", "子女", born=date(1995, 6, 1)),
    ]
    job = run(api, county, write_csv(tmp_path / "notes.csv", rows))
    assert (job["status"], job["members_created"], job["error_count"]) == ("done", 2, 0), job
    notes = dict(sql.rows("SELECT name, id_warning FROM member"))
    assert notes == {"张兴": NOTE, "张小兴": None}
    household = api.get("/api/v1/households", headers=county).json()["items"][0]["id"]
    members = api.get(f"/api/v1/households/{household}", headers=county).json()["members"]
    assert {m["name"]: m["id_warning"] for m in members} == {"张兴": NOTE, "张小兴": None}
