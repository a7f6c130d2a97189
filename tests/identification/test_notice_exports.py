"""The notice for the board: a PDF whose text is Chinese with masked IDs, and the same list as XLSX."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

from shared.masking import mask_resident_id
from tests.identification.conftest import OTHER_VILLAGE, VILLAGE
from tests.identification.test_cases_api import RULES, VOTE, attach, ok, problem, step
from tests.support.builders import household_body

pytestmark = pytest.mark.integration


def register_body(reg: Any, headers: dict[str, str], **facts: Any) -> tuple[str, dict[str, Any]]:
    """A household in the real registry, and the body it was registered with (to know its people)."""
    body = household_body(region_code=VILLAGE) | {"registered_on": "2024-01-10", "status": "non_poor"} | facts
    response = reg.post("/api/v1/households", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"], body


def held_at_group_review(api: Any, cadre: dict[str, str], household_id: str) -> str:
    cid = ok(api.post("/api/v1/cases", json={"kind": "recognition", "household_id": household_id}, headers=cadre), 201)[
        "id"
    ]
    ok(step(api, cid, "application", cadre, application_form=attach(api, cid, cadre)))
    ok(step(api, cid, "group_review", cadre, minutes=[attach(api, cid, cadre)], attendance=9, vote=VOTE))
    return cid


class TestNoticeBoard:
    def test_pdf_and_xlsx_show_the_minimum_with_ids_masked(self, api, reg, county, cadre, token):
        ok(api.post("/api/v1/rule-sets", json=RULES, headers=county), 201)
        registered = [register_body(reg, county) for _ in range(2)]
        for household_id, _ in registered:
            held_at_group_review(api, cadre, household_id)
        notice = ok(
            api.post(
                "/api/v1/notices",
                json={
                    "kind": "recognition",
                    "step": "group_review",
                    "region_code": VILLAGE,
                    "location": "村委会公示栏",
                },
                headers=cadre,
            ),
            201,
        )
        heads = [body["members"][0] for _, body in registered]
        assert {e["head_name"] for e in notice["entries"]} == {h["name"] for h in heads}
        assert {e["head_id_masked"] for e in notice["entries"]} == {mask_resident_id(h["id_number"]) for h in heads}

        pdf = api.get(f"/api/v1/notices/{notice['id']}/notice.pdf", headers=cadre)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "新识别贫困户公示名单" in text and "村民小组评议" in text and "村委会公示栏" in text
        assert "2025年6月16日至2025年6月23日（7天）" in text
        for head in heads:
            masked = mask_resident_id(head["id_number"])
            assert head["name"] in text
            assert masked is not None and masked in text
            assert head["id_number"] not in text
        assert "成员1" not in text  # only the head is named: the board shows no other member

        xlsx = api.get(f"/api/v1/notices/{notice['id']}/notice.xlsx", headers=county)
        assert xlsx.status_code == 200
        assert xlsx.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        rows = CalamineWorkbook.from_filelike(io.BytesIO(xlsx.content)).get_sheet_by_name("公示名单").to_python()
        header = rows[2]
        assert header[:5] == ["序号", "区划代码", "村民小组", "户主姓名", "身份证号（脱敏）"]
        lines = {row[4]: row for row in rows[3:]}
        assert len(lines) == 2
        for head in heads:
            masked = mask_resident_id(head["id_number"])
            assert masked is not None
            line = lines[masked]
            assert line[1] == VILLAGE and line[2] == "1组" and line[3] == head["name"]
            assert line[5] == 3  # a number the county can sum
        flat = str(rows)
        assert all(h["id_number"] not in flat for h in heads)

    def test_exports_need_a_token_a_reader_role_and_the_region(self, api, reg, county, cadre, token):
        ok(api.post("/api/v1/rule-sets", json=RULES, headers=county), 201)
        household_id, _ = register_body(reg, county)
        held_at_group_review(api, cadre, household_id)
        notice = ok(
            api.post(
                "/api/v1/notices",
                json={"kind": "recognition", "step": "group_review", "region_code": VILLAGE},
                headers=cadre,
            ),
            201,
        )
        for suffix in ("pdf", "xlsx"):
            path = f"/api/v1/notices/{notice['id']}/notice.{suffix}"
            problem(api.get(path), 401)
            problem(api.get(path, headers=token("bank_officer", region=VILLAGE)), 403)
            problem(api.get(path, headers=token("village_cadre", region=OTHER_VILLAGE)), 404)
            assert api.get(path, headers=token("auditor", region="522323")).status_code == 200
