"""The household API on SQLite and PostgreSQL: validation, duplicates, scope, search, masking, audit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.registry.conftest import OTHER_TOWNSHIP_VILLAGE, VILLAGE
from tests.support.builders import household_body
from tests.support.http import field_of

pytestmark = pytest.mark.integration
H = "/api/v1/households"


def register(api: Any, headers: dict[str, str], body: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    response = api.post(H, json=body or household_body(**kw), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


class TestRegistration:
    def test_bad_check_digit_is_422_naming_the_member(self, api, cadre, sql):
        body = household_body()
        good = body["members"][1]["id_number"]
        body["members"][1]["id_number"] = good[:17] + ("0" if good[-1] != "0" else "1")
        response = api.post(H, json=body, headers=cadre)
        assert response.status_code == 422
        assert field_of(response) == "members.1.id_number"
        assert "校验码" in response.json()["detail"]
        assert sql("SELECT count(*) FROM household") == 0

    def test_birth_date_that_disagrees_with_the_id_is_422(self, api, cadre):
        body = household_body()
        body["members"][0]["birth_date"] = "1961-01-01"
        response = api.post(H, json=body, headers=cadre)
        assert response.status_code == 422
        assert field_of(response) == "members.0.id_number"
        assert "birth date" in response.json()["detail"]

    def test_sex_that_disagrees_with_the_id_is_422(self, api, cadre):
        body = household_body()
        body["members"][0]["sex"] = "female"
        response = api.post(H, json=body, headers=cadre)
        assert (response.status_code, field_of(response)) == (422, "members.0.id_number")

    def test_an_active_member_cannot_join_a_second_household(self, api, cadre, sql):
        taken = household_body()
        first = register(api, cadre, taken)
        body = household_body()
        body["members"][2] = {"name": "重复", "relation": "child", "id_number": taken["members"][1]["id_number"]}
        response = api.post(H, json=body, headers=cadre)
        assert response.status_code == 409
        assert response.json()["conflicting_household_id"] == first["id"]
        assert first["id"] in response.json()["detail"]
        assert field_of(response) == "members.2.id_number"
        assert sql("SELECT count(*) FROM household") == 1
        assert sql("SELECT count(*) FROM member") == 3

    def test_same_hukou_number_is_409(self, api, cadre):
        first = register(api, cadre)
        response = api.post(H, json=household_body(hukou_number=first["hukou_number"]), headers=cadre)
        assert response.status_code == 409
        assert response.json()["conflicting_household_id"] == first["id"]

    def test_unknown_village_is_422(self, api, county):
        response = api.post(H, json=household_body(region_code="522323109999"), headers=county)
        assert (response.status_code, field_of(response)) == (422, "region_code")

    def test_registering_outside_ones_village_is_403(self, api, cadre):
        response = api.post(H, json=household_body(region_code="522323109002"), headers=cadre)
        assert response.status_code == 403

    def test_idempotency_key_replays_the_first_response(self, api, cadre, sql):
        body = household_body()
        headers = cadre | {"Idempotency-Key": "k-1"}
        first = api.post(H, json=body, headers=headers)
        again = api.post(H, json=body, headers=headers)
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["Idempotent-Replayed"] == "true"
        assert sql("SELECT count(*) FROM household") == 1

    def test_registration_announces_the_household(self, api, cadre, sql):
        household = register(api, cadre)
        assert (
            sql(
                "SELECT count(*) FROM outbox WHERE event_type = 'household.registered' AND aggregate_id = :h",
                h=household["id"],
            )
            == 1
        )


class TestScopeAndSearch:
    def test_a_township_reviewer_does_not_see_another_townships_households(self, api, county, token):
        ours = register(api, county, region_code=VILLAGE)
        theirs = register(api, county, region_code=OTHER_TOWNSHIP_VILLAGE)
        qingshan = token("township_reviewer", region="522323109")
        assert api.get(f"{H}/{theirs['id']}", headers=qingshan).status_code == 404
        assert api.get(f"{H}/{ours['id']}", headers=qingshan).status_code == 200
        listed = api.get(H, headers=qingshan).json()["items"]
        assert [h["id"] for h in listed] == [ours["id"]]
        assert api.get(H, params={"region": "522323101"}, headers=qingshan).json()["items"] == []

    def test_filters(self, api, county):
        ill = household_body() | {
            "primary_cause": "ILL",
            "categories": [{"category": "dibao", "start_date": "2024-01-01"}],
        }
        edu = household_body() | {"primary_cause": "NO_SKILL", "secondary_causes": ["ILL", "EDU"], "status": "exited"}
        a, b = register(api, county, ill), register(api, county, edu)
        named = household_body()
        named["members"][0]["name"] = "王小明"
        c = register(api, county, named)

        def ids(**params: str) -> set[str]:
            return {h["id"] for h in api.get(H, params=params, headers=county).json()["items"]}

        assert ids(cause="ILL") == {a["id"], b["id"]}
        assert ids(cause="EDU") == {b["id"]}
        assert ids(status="exited") == {b["id"]}
        assert ids(category="dibao") == {a["id"]}
        assert ids(q="小明") == {c["id"]}
        assert api.get(H, params={"cause": "POOR"}, headers=county).status_code == 422

    def test_cursor_walks_every_household_once(self, api, county):
        made = {register(api, county, hukou_number=f"HK-{i:03d}")["id"] for i in range(5)}
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
            page = api.get(H, params=params, headers=county).json()
            seen += [h["id"] for h in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == 5 and set(seen) == made
        assert api.get(H, params={"cursor": "garbage!"}, headers=county).status_code == 422


class TestMaskingAndAudit:
    def test_masked_by_default_and_reveal_is_refused_to_a_cadre(self, api, cadre):
        household = register(api, cadre)
        member = api.get(f"{H}/{household['id']}", headers=cadre).json()["members"][0]
        assert "*" in member["id_number"] and len(member["id_number"]) == 18
        response = api.get(f"{H}/{household['id']}", params={"reveal": "true"}, headers=cadre)
        assert (response.status_code, field_of(response)) == (403, "reveal")

    def test_a_whole_read_is_audited(self, api, cadre, county, sql):
        body = household_body()
        body["members"][0]["phone"] = "13812345678"
        household = register(api, cadre, body)
        assert household["members"][0]["phone"] == "138****5678"
        before = sql("SELECT count(*) FROM audit_log")
        whole = api.get(f"{H}/{household['id']}", params={"reveal": "true"}, headers=county).json()
        assert whole["members"][0]["id_number"] == body["members"][0]["id_number"]
        assert whole["members"][0]["phone"] == "13812345678"
        assert sql("SELECT count(*) FROM audit_log") == before + 1
        assert sql("SELECT resource FROM audit_log ORDER BY seq DESC LIMIT 1") == f"household/{household['id']}"
        assert sql("SELECT actor FROM audit_log ORDER BY seq DESC LIMIT 1") == "county-clerk"
        assert api.get("/api/v1/audit/verify", headers=county).json()["valid"] is True


class TestReadPath:
    def test_the_token_is_decoded_once_per_request(self, api, cadre, monkeypatch):
        """Reader, Disclosure and the access log all need the caller: one decode, kept on request.state."""
        import shared.auth

        household = register(api, cadre)
        decoded: list[str] = []
        real = shared.auth.decode_token

        def counting(settings: Any, token: str) -> Any:
            decoded.append(token)
            return real(settings, token)

        monkeypatch.setattr(shared.auth, "decode_token", counting)
        assert api.get(f"{H}/{household['id']}", headers=cadre).status_code == 200
        assert len(decoded) == 1

    def test_one_read_carries_categories_members_and_helpers(self, api, county):
        """The read the registry's hottest endpoint makes: household, categories and helpers, then members."""
        body = household_body(members=4) | {
            "registered_on": "2024-01-10",
            "categories": [
                {"category": "dibao", "start_date": "2024-01-10"},
                {"category": "blue_card", "start_date": "2024-01-10", "end_date": "2025-01-01"},
            ],
            "housing": {"grade": "D", "structure": "adobe"},
            "land": {"cultivated_mu": "1.5", "forest_mu": "12"},
            "secondary_causes": ["ILL"],
        }
        household = register(api, county, body)
        read = api.get(f"{H}/{household['id']}", headers=county).json()
        assert read == household  # POST answers with the rows as written; GET reads them back: the same
        assert (read["land"]["cultivated_mu"], read["land"]["forest_mu"]) == ("1.50", "12.00")  # the column's scale
        assert [m["relation"] for m in read["members"]] == ["head", "spouse", "child", "child"]
        assert {c["category"] for c in read["categories"]} == {"dibao", "blue_card"}
        assert read["housing"] == {"grade": "D", "structure": "adobe", "relocation": "none", "renovated_year": None}
        assert (read["active_helper_ids"], read["needs_helper"]) == ([], True)
        then = api.get(f"{H}/{household['id']}", params={"as_of": "2025-01-01"}, headers=county).json()
        assert [c["category"] for c in then["categories"]] == ["dibao"]
        assert api.get(f"{H}/no-such-household", headers=county).status_code == 404
