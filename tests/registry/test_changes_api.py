"""Dynamic management: member changes with evidence, events, as-of reads; incomes; helpers and pairings."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.support.builders import household_body, resident_id
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration
H = "/api/v1/households"


def register(api: Any, headers: dict[str, str], **kw: Any) -> dict[str, Any]:
    body = household_body(**kw) | {"registered_on": "2024-01-10"}
    response = api.post(H, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def change(api: Any, headers: dict[str, str], household_id: str, **body: Any) -> Any:
    body = {"evidence": "死亡证明 No. 2025-17", "reason": "reported by the village", **body}
    return api.post(f"{H}/{household_id}/changes", json=body, headers=headers)


def get(api: Any, headers: dict[str, str], household_id: str, **params: str) -> dict[str, Any]:
    response = api.get(f"{H}/{household_id}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


class TestDeath:
    def test_death_emits_member_deceased_and_the_member_drops_out_from_that_day(self, api, cadre, sql):
        household = register(api, cadre)
        spouse = household["members"][1]["id"]
        response = change(api, cadre, household["id"], kind="death", member_id=spouse, effective_date="2025-03-01")
        assert response.status_code == 201, response.text
        [recorded] = response.json()
        assert (recorded["kind"], recorded["actor"], recorded["household_version"]) == ("death", "cadre-xiajie", 2)

        assert get(api, cadre, household["id"])["member_count"] == 2
        assert get(api, cadre, household["id"], as_of="2025-02-28")["member_count"] == 3
        on_the_day = get(api, cadre, household["id"], as_of="2025-03-01")
        assert on_the_day["member_count"] == 2
        assert spouse not in {m["id"] for m in on_the_day["members"]}

        payload = sql(
            "SELECT payload FROM outbox WHERE event_type = 'member.deceased' AND aggregate_id = :h", h=household["id"]
        )
        assert '"effective_date":"2025-03-01"' in payload and spouse in payload
        assert sql("SELECT count(*) FROM outbox WHERE event_type = 'household.updated'") == 1

    def test_the_event_reaches_the_bus(self, api, cadre, sql):
        household = register(api, cadre)
        change(
            api,
            cadre,
            household["id"],
            kind="death",
            member_id=household["members"][2]["id"],
            effective_date="2025-05-01",
        )
        # sent_at is set only after JetStream acknowledged the publish
        wait_until(
            lambda: (
                sql("SELECT count(*) FROM outbox WHERE event_type = 'member.deceased' AND sent_at IS NOT NULL") == 1
            ),
            what="member.deceased published to JetStream",
        )

    def test_the_head_leaving_needs_a_new_head(self, api, cadre):
        household = register(api, cadre)
        head, spouse = household["members"][0]["id"], household["members"][1]["id"]
        response = change(api, cadre, household["id"], kind="death", member_id=head, effective_date="2025-03-01")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "new_head_member_id"
        assert get(api, cadre, household["id"])["version"] == 1  # nothing half-written
        response = change(
            api,
            cadre,
            household["id"],
            kind="death",
            member_id=head,
            new_head_member_id=spouse,
            effective_date="2025-03-01",
        )
        assert response.status_code == 201
        now = get(api, cadre, household["id"])
        assert now["head_member_id"] == spouse
        assert get(api, cadre, household["id"], as_of="2025-02-01")["head_member_id"] == head

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            pytest.param({"effective_date": "2025-07-01"}, "effective_date", id="未来 future date"),
            pytest.param({"effective_date": "2023-01-01"}, "effective_date", id="建档前 before registration"),
            pytest.param(
                {"effective_date": "2025-03-01", "member_id": "nobody"}, "member_id", id="非成员 unknown member"
            ),
            pytest.param({"effective_date": "2025-03-01", "evidence": ""}, "evidence", id="无证明 no evidence"),
        ],
    )
    def test_bad_changes_name_the_field(self, api, cadre, body, field):
        household = register(api, cadre)
        body = {"kind": "moved_away", "member_id": household["members"][2]["id"]} | body
        response = change(api, cadre, household["id"], **body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field


class TestJoinsAndMoves:
    def test_birth_adds_a_member_from_the_birth_date(self, api, cadre, sql):
        household = register(api, cadre)
        baby = {
            "name": "新生儿",
            "relation": "grandchild",
            "id_number": resident_id(born=date(2025, 4, 2), sex="female"),
        }
        response = change(api, cadre, household["id"], kind="birth", member=baby, effective_date="2025-04-02")
        assert response.status_code == 201, response.text
        assert get(api, cadre, household["id"])["member_count"] == 4
        assert get(api, cadre, household["id"], as_of="2025-04-01")["member_count"] == 3
        assert sql("SELECT count(*) FROM outbox WHERE event_type = 'member.changed'") == 1

    def test_a_birth_on_another_day_than_the_id_says_is_refused(self, api, cadre):
        household = register(api, cadre)
        baby = {"name": "新生儿", "relation": "child", "id_number": resident_id(born=date(2025, 4, 2))}
        response = change(api, cadre, household["id"], kind="birth", member=baby, effective_date="2025-04-03")
        assert response.status_code == 422

    def test_marriage_in_of_someone_active_elsewhere_is_409(self, api, cadre):
        second = register(api, cadre)
        other = household_body()
        taken = other["members"][0]["id_number"]
        api.post(H, json=other, headers=cadre)
        response = change(
            api,
            cadre,
            second["id"],
            kind="marriage_in",
            member={"name": "新娘", "relation": "spouse", "id_number": taken},
            effective_date="2025-05-01",
        )
        assert response.status_code == 409
        assert "conflicting_household_id" in response.json()

    def test_split_then_merge(self, api, cadre, sql):
        household = register(api, cadre, members=4)
        child, grandchild = household["members"][2]["id"], household["members"][3]["id"]
        response = change(
            api,
            cadre,
            household["id"],
            kind="split",
            effective_date="2025-02-01",
            split={"member_ids": [child, grandchild], "hukou_number": "HK-SPLIT-1", "head_member_id": child},
        )
        assert response.status_code == 201, response.text
        new_id = response.json()[0]["other_household_id"]
        assert get(api, cadre, household["id"])["member_count"] == 2
        split_off = get(api, cadre, new_id)
        assert (split_off["member_count"], split_off["hukou_number"], split_off["registered_on"]) == (
            2,
            "HK-SPLIT-1",
            "2025-02-01",
        )
        assert sql("SELECT count(*) FROM outbox WHERE event_type = 'member.changed'") == 2

        response = change(
            api, cadre, household["id"], kind="merge", effective_date="2025-05-01", merge_from_household_id=new_id
        )
        assert response.status_code == 201, response.text
        assert get(api, cadre, household["id"])["member_count"] == 4
        assert get(api, cadre, new_id)["dissolved_on"] == "2025-05-01"
        assert get(api, cadre, new_id, as_of="2025-04-30")["member_count"] == 2
        listed = api.get(H, headers=cadre).json()["items"]
        assert new_id not in {h["id"] for h in listed}


class TestVersionedEdits:
    def test_patch_is_a_new_version_and_as_of_reads_the_old_one(self, api, cadre, sql):
        household = register(api, cadre)
        response = api.patch(
            f"{H}/{household['id']}",
            json={"reason": "危房改造 completed", "effective_date": "2025-05-20", "housing": {"grade": "B"}},
            headers=cadre,
        )
        assert response.status_code == 200, response.text
        assert response.json()["housing"]["grade"] == "B" and response.json()["version"] == 2
        before = get(api, cadre, household["id"], as_of="2025-05-19")
        assert (before["housing"]["grade"], before["version"]) == (None, 1)
        assert api.get(f"{H}/{household['id']}", params={"as_of": "2023-12-31"}, headers=cadre).status_code == 404
        assert sql("SELECT count(*) FROM householdversion") == 1

    def test_a_patch_without_reason_is_422(self, api, cadre):
        household = register(api, cadre)
        response = api.patch(f"{H}/{household['id']}", json={"address": "新址"}, headers=cadre)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "reason"


class TestIncome:
    def test_per_capita_counts_members_at_year_end(self, api, cadre):
        household = register(api, cadre)
        change(
            api,
            cadre,
            household["id"],
            kind="death",
            member_id=household["members"][2]["id"],
            effective_date="2024-09-01",
        )
        body = {
            "year": 2024,
            "wages": "9000",
            "production_gross": "5000",
            "production_costs": "2000",
            "transfers": "1200",
        }
        response = api.post(f"{H}/{household['id']}/incomes", json=body, headers=cadre)
        assert response.status_code == 201, response.text
        income = response.json()
        assert (income["household_size"], income["net_income"], income["per_capita_net_income"]) == (
            2,
            "13200.00",
            "6600.00",
        )
        again = api.post(f"{H}/{household['id']}/incomes", json=body, headers=cadre)
        assert again.status_code == 409


class TestHelpers:
    def helper(self, api: Any, county: dict[str, str], rank: str = "staff") -> dict[str, Any]:
        unit = api.post("/api/v1/units", json={"name": "县水务局", "region_code": "522323"}, headers=county).json()
        body = {"name": "李帮扶", "unit_id": unit["id"], "rank": rank, "phone": "13912345678", "region_code": "522323"}
        response = api.post("/api/v1/helpers", json=body, headers=county)
        assert response.status_code == 201, response.text
        return response.json()

    def test_pairing_within_the_load_and_release_only_on_exit_or_handover(self, api, county, sql):
        helper = self.helper(api, county)
        assert helper["phone"] == "139****5678"
        households = [register(api, county) for _ in range(3)]
        pairings = []
        for h in households[:2]:
            response = api.post(
                "/api/v1/pairings",
                json={"helper_id": helper["id"], "household_id": h["id"], "start_date": "2025-01-01"},
                headers=county,
            )
            assert response.status_code == 201, response.text
            pairings.append(response.json())
        third = api.post(
            "/api/v1/pairings",
            json={"helper_id": helper["id"], "household_id": households[2]["id"], "start_date": "2025-01-01"},
            headers=county,
        )
        assert third.status_code == 409 and "at most 2" in third.json()["detail"]
        assert sql("SELECT count(*) FROM outbox WHERE event_type = 'helper.assigned'") == 2

        release = {"end_date": "2025-06-01", "reason": "调岗"}
        refused = api.post(f"/api/v1/pairings/{pairings[0]['id']}/release", json=release, headers=county)
        assert refused.status_code == 409
        successor = self.helper(api, county, rank="section_chief")
        handed = api.post(
            f"/api/v1/pairings/{pairings[0]['id']}/release",
            json=release | {"successor_helper_id": successor["id"]},
            headers=county,
        )
        assert handed.status_code == 200, handed.text
        assert sql("SELECT count(*) FROM outbox WHERE event_type = 'helper.released'") == 1
        by_successor = api.get(H, params={"helper_id": successor["id"]}, headers=county).json()["items"]
        assert [h["id"] for h in by_successor] == [households[0]["id"]]

    def test_coverage_reports_households_without_helper_or_contact(self, api, county):
        helper = self.helper(api, county)
        paired, alone = register(api, county), register(api, county)
        api.post(
            "/api/v1/pairings",
            json={"helper_id": helper["id"], "household_id": paired["id"], "start_date": "2025-01-01"},
            headers=county,
        )
        contact = {"helper_id": helper["id"], "kind": "visit", "contacted_on": "2025-06-03", "note": "入户走访"}
        assert api.post(f"{H}/{paired['id']}/contacts", json=contact, headers=county).status_code == 201
        report = api.get("/api/v1/contacts/coverage", headers=county).json()
        assert (report["households"], report["without_helper"], report["duties_met"]) == (2, 1, 1)
        rows = {r["household_id"]: r for r in report["items"]}
        assert rows[alone["id"]]["helper_ids"] == []
