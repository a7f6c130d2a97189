"""Poverty assets with restrictions (the 阳寨 sheep case), reports, and publicity PDF/XLSX."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

from shared.ids import new_id
from tests.funds.flows import API, VILLAGE, make_project, ok, payment_body
from tests.support.bus import decision, publish
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration
NEXT_VILLAGE = "522323109002"


def sheep(api, county, funded, owner: str, tag: str) -> dict:
    return ok(
        api.post(
            f"{API}/assets",
            headers=county,
            json={
                "project_id": funded.project["id"],
                "tag": tag,
                "name": "能繁母羊",
                "owner_household_id": owner,
                "value": "1350.00",
                "funding_shares": [{"source_id": funded.source["id"], "amount": "1150.00"}],
                "restrictions": {
                    "scope": "village",
                    "poor_households_only": True,
                    "locked_until": "2028-03-01",
                    "disposal_needs_approval": True,
                },
            },
        )
    )


class TestSheepCase:
    def test_restrictions_enforced_and_logged(self, api, county, token, stack, sql):
        owner, neighbour, outsider = new_id(), new_id(), new_id()
        events = [decision("household.approved", h, when="2024-03-01") for h in (owner, neighbour)]
        publish(stack, *events)
        wait_until(lambda: sql("SELECT count(*) FROM household_status") == 2, what="decisions consumed")
        funded = make_project(api, county, kind="industry", households=(owner,), to_poor_only=False)
        ewe = sheep(api, county, funded, owner, "YZ-0001")
        url = f"{API}/assets/{ewe['id']}/movements"

        def move(body: dict, headers=county):
            return api.post(url, json={"on": "2025-06-16"} | body, headers=headers)

        response = move({"movement": "transfer", "to_household_id": outsider, "to_region_code": NEXT_VILLAGE})
        assert response.status_code == 422
        assert [e["code"] for e in response.json()["errors"]] == ["outside_transfer_scope", "recipient_not_poor"]
        response = move({"movement": "disposal"})
        assert [e["code"] for e in response.json()["errors"]] == ["locked_up", "approval_required"]
        moved = ok(move({"movement": "transfer", "to_household_id": neighbour}))
        assert moved["to_region_code"] == VILLAGE
        assert ok(api.get(f"{API}/assets/{ewe['id']}", headers=county), 200)["owner_household_id"] == neighbour

        cadre = token("village_cadre", region=VILLAGE, subject="cadre-xiajie")
        ok(api.post(f"{API}/assets/{ewe['id']}/approvals", json={"on": "2028-03-02", "note": "查验"}, headers=cadre))
        ok(move({"movement": "disposal", "on": "2028-03-02", "note": "期满出售"}))
        assert ok(api.get(f"{API}/assets/{ewe['id']}", headers=county), 200)["status"] == "disposed"
        log = ok(api.get(url, headers=county), 200)["items"]
        assert [m["movement"] for m in log] == ["transfer", "disposal_approved", "disposal"]
        assert log[-1]["approved_by"] == "cadre-xiajie"
        assert move({"movement": "natural_loss"}).status_code == 409

    def test_self_approval_and_natural_loss(self, api, county, token):
        owner = new_id()
        funded = make_project(api, county, households=(owner,), to_poor_only=False)
        ewe = sheep(api, county, funded, owner, "YZ-0002")
        ok(api.post(f"{API}/assets/{ewe['id']}/approvals", json={"on": "2028-03-02"}, headers=county))
        response = api.post(
            f"{API}/assets/{ewe['id']}/movements", headers=county, json={"movement": "disposal", "on": "2028-03-02"}
        )
        assert response.json()["errors"][0]["code"] == "self_approval"
        ok(
            api.post(
                f"{API}/assets/{ewe['id']}/movements",
                headers=county,
                json={"movement": "natural_loss", "on": "2025-01-01", "note": "自然死亡"},
            )
        )
        other = token("county_office", region="522324")
        assert api.get(f"{API}/assets/{ewe['id']}", headers=other).status_code == 404
        assert (
            api.post(
                f"{API}/assets",
                headers=county,
                json={"project_id": funded.project["id"], "tag": "YZ-0002", "name": "x", "value": "1.00"},
            ).status_code
            == 409
        )


def pdf_text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


class TestReportsAndPublicity:
    def test_a_notice_names_its_place_in_words_from_the_registry(self, api_beside_registry, county, tmp_path):
        api = api_beside_registry
        funded = make_project(api, county, households=(new_id(),), to_poor_only=False)
        project = pdf_text(api.get(f"{API}/publicity/projects/{funded.project['id']}.pdf", headers=county))
        assert f"普安县青山镇下街社区居民委员会（{VILLAGE}）" in project
        answer = api.get(f"{API}/publicity/villages/{VILLAGE}/2025.pdf", headers=county)
        (tmp_path / "village.pdf").write_bytes(answer.content)
        village = pdf_text(answer)
        assert "2025年度村级扶贫资金到户公示（普安县青山镇下街社区居民委员会）" in village and VILLAGE in village
        sheet = api.get(f"{API}/publicity/villages/{VILLAGE}/2025.xlsx", headers=county)
        (tmp_path / "village.xlsx").write_bytes(sheet.content)
        rows = CalamineWorkbook.from_path(str(tmp_path / "village.xlsx")).get_sheet_by_name("到户资金").to_python()
        assert rows[0][0] == "2025年度村级扶贫资金到户公示（普安县青山镇下街社区居民委员会）"
        assert VILLAGE in sheet.headers["content-disposition"]

    def test_execution_report_and_publicity_files(self, api, county, bank, tmp_path):
        households = [new_id(), new_id()]
        funded = make_project(
            api, county, households=tuple(households), to_poor_only=False, planned="80000.00", allocate="50000.00"
        )
        batch = ok(api.post(f"{API}/disbursements", json={"project_id": funded.project["id"]}, headers=county))
        payments = [
            ok(
                api.post(
                    f"{API}/disbursements/{batch['id']}/payments",
                    headers=county,
                    json=payment_body(funded.line["id"], h, "3000.00", payee_name=name),
                )
            )
            for h, name in zip(households, ["王小明", "李秀英"], strict=True)
        ]
        ok(api.post(f"{API}/disbursements/{batch['id']}/send", headers=county), 200)
        statement = "业务参考号,金额,交易状态\n" + "\n".join(f"{p['reference']},3000.00,成功" for p in payments)
        ok(
            api.post(
                f"{API}/disbursements/{batch['id']}/reconciliations",
                headers=bank,
                files={"file": ("statement.csv", statement.encode(), "text/csv")},
            )
        )

        report = ok(api.get(f"{API}/reports/execution", headers=county, params={"year": 2025}), 200)
        source_row = report["by_source"][0]
        assert (source_row["planned"], source_row["arrived"], source_row["allocated"], source_row["spent"]) == (
            "100000.00",
            "100000.00",
            "50000.00",
            "6000.00",
        )
        assert report["by_region"][0]["key"] == "522323109"
        shares = ok(api.get(f"{API}/reports/shares", headers=county, params={"year": 2025, "region": "522323"}), 200)
        assert {s["code"] for s in shares} == {"industry_share", "industry_to_households"}

        pdf = api.get(f"{API}/publicity/projects/{funded.project['id']}.pdf", headers=county)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        (tmp_path / "project.pdf").write_bytes(pdf.content)
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "扶贫项目资金公示" in text and "王小明" in text and "6217002870012345678" not in text
        assert "已批复" in text and "approved" not in text  # the board says the status in words
        sheet = api.get(f"{API}/publicity/projects/{funded.project['id']}.xlsx", headers=county)
        path = tmp_path / "project.xlsx"
        path.write_bytes(sheet.content)
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("资金发放").to_python()
        assert rows[0][:3] == ["收款人", "账号", "金额(元)"] and rows[1][1] == "***************5678"
        village = api.get(f"{API}/publicity/villages/{VILLAGE}/2025.pdf", headers=county)
        assert village.status_code == 200
        (tmp_path / "village.pdf").write_bytes(village.content)
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(village.content)).pages)
        assert f"到户公示（{VILLAGE}）" in text  # no registry answered: the notice names the village by its code
        other = {"Authorization": county["Authorization"]}
        assert api.get(f"{API}/publicity/villages/522324001001/2025.pdf", headers=other).status_code == 404
