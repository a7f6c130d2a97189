"""Exports open and read back: XLSX parsed with calamine, PDF text extracted with pypdf; IDs masked."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

from tests.registry.conftest import OTHER_TOWNSHIP_VILLAGE, VILLAGE
from tests.support.builders import household_body

pytestmark = pytest.mark.integration


def sheet(content: bytes) -> list[list[Any]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


@pytest.fixture
def household(api, county) -> tuple[dict[str, Any], dict[str, Any]]:
    body = household_body(region_code=VILLAGE) | {"primary_cause": "ILL"}
    body["members"][0] |= {"name": "王大山", "phone": "13812345678", "labour": "weak", "health": "major_illness"}
    response = api.post("/api/v1/households", json=body, headers=county)
    assert response.status_code == 201
    return body, response.json()


class TestHouseholdCard:
    def test_pdf_has_chinese_text_and_masked_ids(self, api, cadre, household):
        body, made = household
        response = api.get(f"/api/v1/households/{made['id']}/card.pdf", headers=cadre)
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        assert "一户一卡" in text and "王大山" in text and "因病" in text and "下街社区" in text
        whole = body["members"][0]["id_number"]
        assert whole not in text
        assert f"{whole[:4]}**********{whole[-4:]}" in text
        for label in ("帮扶责任人", "人均纯收入", "住房安全等级", "耕地面积"):  # what the national card carries
            assert label in text

    def test_xlsx_reveals_only_for_county_and_is_audited(self, api, cadre, county, household, sql):
        body, made = household
        masked = sheet(api.get(f"/api/v1/households/{made['id']}/card.xlsx", headers=cadre).content)
        whole = body["members"][0]["id_number"]
        cells = {str(c) for row in masked for c in row}
        assert whole not in cells and "138****5678" in cells
        audits = sql("SELECT count(*) FROM audit_log")
        revealed = api.get(f"/api/v1/households/{made['id']}/card.xlsx", params={"reveal": "true"}, headers=county)
        assert whole in {str(c) for row in sheet(revealed.content) for c in row}
        assert sql("SELECT count(*) FROM audit_log") == audits + 1

    def test_codes_print_as_their_chinese_labels(self, api, cadre, household):
        _body, made = household
        rows = sheet(api.get(f"/api/v1/households/{made['id']}/card.xlsx", headers=cadre).content)
        [head] = [row for row in rows if row and row[0] == "王大山"]
        assert head[6:8] == ["弱劳动力", "大病"] and "weak" not in head and "major_illness" not in head


class TestRegisters:
    def test_village_register_lists_every_member_masked(self, api, county, household):
        body, _made = household
        api.post("/api/v1/households", json=household_body(region_code=OTHER_TOWNSHIP_VILLAGE), headers=county)
        response = api.get("/api/v1/exports/village-register.xlsx", params={"village": VILLAGE}, headers=county)
        assert response.status_code == 200
        rows = sheet(response.content)
        assert rows[0][:3] == ["户编号", "区划代码", "村名"]
        assert len(rows) == 1 + len(body["members"])
        assert rows[1][7] == "王大山" and rows[1][8] == "户主"
        assert all("*" in r[11] for r in rows[1:])

    def test_township_and_county_rolls(self, api, county, token, household):
        api.post("/api/v1/households", json=household_body(region_code=OTHER_TOWNSHIP_VILLAGE), headers=county)
        county_roll = sheet(
            api.get("/api/v1/exports/roll.xlsx", params={"region": "522323000000"}, headers=county).content
        )
        assert len(county_roll) == 3
        township = api.get("/api/v1/exports/roll.xlsx", params={"region": "522323109000"}, headers=county).content
        rows = sheet(township)
        assert len(rows) == 2 and rows[1][3] == "王大山" and "*" in rows[1][4]
        qingshan = token("township_reviewer", region="522323109")
        refused = api.get("/api/v1/exports/roll.xlsx", params={"region": "522323101000"}, headers=qingshan)
        assert refused.status_code == 403
        narrowed = sheet(
            api.get("/api/v1/exports/roll.xlsx", params={"region": "522323000000"}, headers=qingshan).content
        )
        assert len(narrowed) == 2

    def test_short_codes_as_the_docs_say_and_numbers_as_numbers(self, api, county, household):
        body, _made = household
        for code in ("522323", "522323109"):
            response = api.get("/api/v1/exports/roll.xlsx", params={"region": code}, headers=county)
            assert response.status_code == 200, response.text
        rows = sheet(api.get("/api/v1/exports/roll.xlsx", params={"region": "522323109"}, headers=county).content)
        size = rows[1][5]
        assert isinstance(size, int | float) and size == len(body["members"])  # 家庭人口 sums in Excel
        register = sheet(
            api.get("/api/v1/exports/village-register.xlsx", params={"village": VILLAGE}, headers=county).content
        )
        assert isinstance(register[1][3], int | float)  # 村民小组
        assert api.get("/api/v1/exports/roll.xlsx", params={"region": "5223"}, headers=county).status_code == 422


class TestRegions:
    def test_demo_county_is_loaded_and_a_file_adds_to_it(self, api, county, system, tmp_path):
        detail = api.get("/api/v1/regions/522323109000", headers=county).json()
        assert detail["name"] == "青山镇" and [r["name"] for r in detail["path"]][-1] == "普安县"
        assert len(api.get("/api/v1/regions", params={"parent": "522323000000"}, headers=county).json()["items"]) == 14
        path = tmp_path / "more.csv"
        path.write_text('代码,名称\n5224,"毕节市"\n522401,"七星关区"\n522323109001,"下街社区"\n', encoding="utf-8")
        with path.open("rb") as fh:
            loaded = api.post("/api/v1/regions/import", files={"file": ("more.csv", fh, "text/csv")}, headers=system)
        assert loaded.json() == {"created": 2, "updated": 1}
        bad = tmp_path / "bad.csv"
        bad.write_text("code,name\n5224123,x\n", encoding="utf-8")
        with bad.open("rb") as fh:
            refused = api.post("/api/v1/regions/import", files={"file": ("bad.csv", fh, "text/csv")}, headers=system)
        assert refused.status_code == 422 and "row 2" in refused.json()["detail"]
