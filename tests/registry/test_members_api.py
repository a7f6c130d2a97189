"""Member details on SQLite and PostgreSQL: versioned edits with reason, who and when; as-of reads; masking."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.builders import household_body
from tests.support.http import field_of

pytestmark = pytest.mark.integration
H = "/api/v1/households"


def register(api: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = api.post(H, json=household_body() | {"registered_on": "2024-01-10"}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def edit(api: Any, headers: dict[str, str], household: dict[str, Any], index: int, **body: Any) -> Any:
    member_id = household["members"][index]["id"]
    return api.patch(f"{H}/{household['id']}/members/{member_id}", json={"reason": "入户核实", **body}, headers=headers)


def member(api: Any, headers: dict[str, str], household_id: str, index: int, **params: str) -> dict[str, Any]:
    response = api.get(f"{H}/{household_id}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["members"][index]


BAD_EDITS = [
    ("手机号 bad mobile", {"phone": "1234"}, "phone"),
    ("村干部 flag blanked", {"village_cadre": None}, "village_cadre"),
    ("残疾等级 without 残疾", {"health": "healthy", "disability_grade": 3}, "disability_grade"),
    ("未来 future", {"effective_date": "2025-07-01", "skills": "电焊"}, "effective_date"),
    ("入户前 before joining", {"effective_date": "2023-12-31", "skills": "电焊"}, "effective_date"),
    ("姓名 not a detail", {"name": "改名"}, "name"),
    ("无原因 no reason", {"skills": "电焊", "reason": ""}, "reason"),
    ("无变化 nothing to change", {}, "body"),
]


class TestDetailsEdit:
    def test_an_edit_is_a_version_and_as_of_reads_return_the_old_details(self, api, cadre, county, sql):
        household = register(api, cadre)
        first = edit(
            api,
            cadre,
            household,
            1,
            effective_date="2025-03-01",
            health="disabled",
            disability_grade=2,
            medical_insurance=True,
            phone="13812345678",
        )
        assert first.status_code == 200, first.text
        assert (first.json()["health"], first.json()["disability_grade"]) == ("disabled", 2)
        assert first.json()["phone"] == "138****5678"
        second = edit(
            api, cadre, household, 1, effective_date="2025-05-10", employment="public_welfare_post", party_member=True
        )
        assert second.status_code == 200, second.text

        now = api.get(f"{H}/{household['id']}", headers=cadre).json()
        assert now["version"] == 3
        spouse = now["members"][1]
        assert (spouse["health"], spouse["employment"], spouse["party_member"]) == (
            "disabled",
            "public_welfare_post",
            True,
        )
        before_any = member(api, cadre, household["id"], 1, as_of="2025-02-28")
        assert (before_any["health"], before_any["disability_grade"], before_any["phone"]) == (None, None, None)
        between = member(api, cadre, household["id"], 1, as_of="2025-04-01")
        assert (between["health"], between["employment"], between["party_member"]) == ("disabled", None, False)
        assert member(api, cadre, household["id"], 1, as_of="2025-05-10")["party_member"] is True
        assert member(api, cadre, household["id"], 0, as_of="2025-02-28")["id"] == household["members"][0]["id"]

        history = api.get(f"{H}/{household['id']}/members/{spouse['id']}/versions", headers=cadre).json()["items"]
        assert [(v["valid_from"], v["valid_to"], v["changed"]) for v in history] == [
            ("2024-01-10", "2025-03-01", ["disability_grade", "health", "medical_insurance", "phone"]),
            ("2025-03-01", "2025-05-10", ["employment", "party_member"]),
        ]
        assert history[1]["details"]["phone"] == "138****5678"
        assert (history[0]["replaced_by"], history[0]["replace_reason"]) == ("cadre-xiajie", "入户核实")
        assert sql("SELECT count(*) FROM outbox WHERE event_type = 'household.updated'") == 2

        url = f"{H}/{household['id']}/members/{spouse['id']}/versions"
        assert api.get(url, params={"reveal": "true"}, headers=cadre).status_code == 403
        before = sql("SELECT count(*) FROM audit_log")
        whole = api.get(url, params={"reveal": "true"}, headers=county).json()["items"]
        assert whole[1]["details"]["phone"] == "13812345678"
        assert sql("SELECT count(*) FROM audit_log") == before + 1

    def test_bad_edits_name_the_field_and_write_nothing(self, api, cadre, sql):
        household = register(api, cadre)
        for case, body, field in BAD_EDITS:  # one app for the table: each case is refused on its own
            response = edit(api, cadre, household, 2, **body)
            assert (response.status_code, field_of(response)) == (422, field), case
        assert api.get(f"{H}/{household['id']}", headers=cadre).json()["version"] == 1
        assert sql("SELECT count(*) FROM memberversion") == 0

    def test_who_may_edit_which_members(self, api, cadre, token):
        household = register(api, cadre)
        other = register(api, cadre)
        helper = token("helper", region="522323")
        assert edit(api, helper, household, 0, skills="养殖").status_code == 403
        elsewhere = token("village_cadre", region="522323101001")
        assert edit(api, elsewhere, household, 0, skills="养殖").status_code == 404
        stranger = other["members"][0]["id"]
        response = api.patch(
            f"{H}/{household['id']}/members/{stranger}", json={"reason": "x", "skills": "养殖"}, headers=cadre
        )
        assert response.status_code == 404

        change = {
            "kind": "moved_away",
            "member_id": household["members"][2]["id"],
            "effective_date": "2025-02-01",
            "evidence": "迁移证",
            "reason": "外迁",
        }
        assert api.post(f"{H}/{household['id']}/changes", json=change, headers=cadre).status_code == 201
        response = edit(api, cadre, household, 2, skills="养殖")
        assert (response.status_code, field_of(response)) == (409, "member_id")
