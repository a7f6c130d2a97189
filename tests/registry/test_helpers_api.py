"""Helpers, helping units and work teams on SQLite and PostgreSQL: update, end, fetch, lists; helper coverage."""

from __future__ import annotations

from typing import Any

import pytest

from tests.registry.conftest import OTHER_TOWNSHIP_VILLAGE, VILLAGE
from tests.support.builders import household_body
from tests.support.http import field_of

pytestmark = pytest.mark.integration
API = "/api/v1"
H = f"{API}/households"


def post(api: Any, path: str, body: dict[str, Any], headers: dict[str, str], status: int = 201) -> dict[str, Any]:
    response = api.post(f"{API}{path}", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def household(api: Any, headers: dict[str, str], **kw: Any) -> dict[str, Any]:
    return post(api, "/households", household_body(**kw) | {"registered_on": "2024-01-10"}, headers)


def unit(api: Any, headers: dict[str, str], name: str = "县水务局", region: str = "522323") -> dict[str, Any]:
    return post(api, "/units", {"name": name, "region_code": region}, headers)


def helper(
    api: Any, headers: dict[str, str], *, rank: str = "staff", unit_id: str | None = None, name: str = "李帮扶"
) -> dict[str, Any]:
    body = {"name": name, "unit_id": unit_id, "rank": rank, "phone": "13912345678", "region_code": "522323"}
    return post(api, "/helpers", body, headers)


def pair(api: Any, headers: dict[str, str], helper_id: str, household_id: str) -> dict[str, Any]:
    return post(
        api, "/pairings", {"helper_id": helper_id, "household_id": household_id, "start_date": "2025-01-01"}, headers
    )


def walk(api: Any, path: str, headers: dict[str, str], **params: str) -> list[str]:
    """Every id of a cursor-paginated list, two at a time."""
    seen: list[str] = []
    cursor = None
    while True:
        page = api.get(
            f"{API}{path}", params=params | {"limit": "2"} | ({"cursor": cursor} if cursor else {}), headers=headers
        )
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return seen


class TestHelpers:
    def test_fetch_update_and_rank_must_carry_the_load(self, api, county, token, sql):
        office = unit(api, county)
        li = helper(api, county, rank="section_chief", unit_id=office["id"])
        for _ in range(3):
            pair(api, county, li["id"], household(api, county)["id"])
        one = api.get(f"{API}/helpers/{li['id']}", headers=county).json()
        assert (one["active_pairings"], one["phone"], one["end_date"]) == (3, "139****5678", None)

        demoted = api.patch(f"{API}/helpers/{li['id']}", json={"rank": "staff"}, headers=county)
        assert (demoted.status_code, field_of(demoted)) == (409, "rank")
        bad_phone = api.patch(f"{API}/helpers/{li['id']}", json={"phone": "10000000000"}, headers=county)
        assert (bad_phone.status_code, field_of(bad_phone)) == (422, "phone")
        blank = api.patch(f"{API}/helpers/{li['id']}", json={"name": None}, headers=county)
        assert (blank.status_code, field_of(blank)) == (422, "name")
        moved = api.patch(
            f"{API}/helpers/{li['id']}",
            json={"rank": "county_deputy", "phone": "137 0000 1111", "name": "李明"},
            headers=county,
        )
        assert moved.status_code == 200, moved.text
        assert (moved.json()["rank"], moved.json()["name"], moved.json()["active_pairings"]) == (
            "county_deputy",
            "李明",
            3,
        )
        assert sql("SELECT phone FROM helper WHERE id = :h", h=li["id"]) == "13700001111"

        other_township = token("township_reviewer", region="522323101")
        assert api.get(f"{API}/helpers/{li['id']}", headers=other_township).status_code == 404
        cadre = token("village_cadre", region=VILLAGE)
        assert api.patch(f"{API}/helpers/{li['id']}", json={"name": "x"}, headers=cadre).status_code == 403

    def test_a_helper_ends_only_by_handing_over_households_still_poor(self, api, county, sql):
        li = helper(api, county, rank="section_chief")
        poor, exited = household(api, county), household(api, county)
        pair(api, county, li["id"], poor["id"])
        pair(api, county, li["id"], exited["id"])
        patched = api.patch(f"{H}/{exited['id']}", json={"reason": "脱贫验收", "status": "exited"}, headers=county)
        assert patched.status_code == 200, patched.text

        refused = api.post(
            f"{API}/helpers/{li['id']}/end", json={"end_date": "2025-06-01", "reason": "调岗"}, headers=county
        )
        assert (refused.status_code, field_of(refused)) == (409, "successor_helper_id")
        assert poor["id"] in refused.json()["detail"] and exited["id"] not in refused.json()["detail"]

        wang = helper(api, county, name="王接任")
        ended = post(
            api,
            f"/helpers/{li['id']}/end",
            {"end_date": "2025-06-01", "reason": "调岗", "successor_helper_id": wang["id"]},
            county,
            status=200,
        )
        assert (ended["end_date"], ended["end_reason"], ended["active_pairings"]) == ("2025-06-01", "调岗", 0)
        pairings = api.get(f"{H}/{poor['id']}/pairings", headers=county).json()["items"]
        assert [(p["helper_id"], p["end_date"]) for p in pairings] == [(li["id"], "2025-06-01"), (wang["id"], None)]
        assert api.get(f"{H}/{exited['id']}/pairings", headers=county).json()["items"][0]["end_date"] == "2025-06-01"
        assert sql("SELECT count(*) FROM outbox WHERE event_type = 'helper.released'") == 2

        again = api.post(
            f"{API}/helpers/{li['id']}/end", json={"end_date": "2025-06-02", "reason": "x"}, headers=county
        )
        assert again.status_code == 409
        late = api.post(
            f"{API}/pairings",
            json={"helper_id": li["id"], "household_id": household(api, county)["id"], "start_date": "2025-06-10"},
            headers=county,
        )
        assert (late.status_code, field_of(late)) == (409, "helper_id")
        assert walk(api, "/helpers", county) == [wang["id"]]
        assert set(walk(api, "/helpers", county, include_ended="true")) == {li["id"], wang["id"]}


class TestUnitsAndWorkTeams:
    def test_units_list_update_and_end(self, api, county, token):
        made = [unit(api, county, name=f"单位{i}") for i in range(3)]
        township_unit = unit(api, county, name="乡农业站", region="522323101")
        everything = walk(api, "/units", county)  # by name, in the database's collation
        assert sorted(everything) == sorted(u["id"] for u in [*made, township_unit])
        assert walk(api, "/units", token("township_reviewer", region="522323101")) == [township_unit["id"]]
        assert walk(api, "/units", county, region="522323101") == [township_unit["id"]]
        assert api.get(f"{API}/units", params={"cursor": "nope"}, headers=county).status_code == 422

        renamed = api.patch(f"{API}/units/{made[0]['id']}", json={"name": "县水利局"}, headers=county)
        assert (renamed.status_code, renamed.json()["name"]) == (200, "县水利局")
        assert api.get(f"{API}/units/{made[0]['id']}", headers=county).json()["name"] == "县水利局"

        staffed = made[1]
        li = helper(api, county, unit_id=staffed["id"])
        refused = api.post(
            f"{API}/units/{staffed['id']}/end", json={"end_date": "2025-06-01", "reason": "撤并"}, headers=county
        )
        assert (refused.status_code, field_of(refused)) == (409, "unit_id")
        assert (
            api.patch(f"{API}/helpers/{li['id']}", json={"unit_id": made[2]["id"]}, headers=county).status_code == 200
        )
        ended = post(
            api, f"/units/{staffed['id']}/end", {"end_date": "2025-06-01", "reason": "撤并"}, county, status=200
        )
        assert (ended["end_date"], ended["end_reason"]) == ("2025-06-01", "撤并")
        assert staffed["id"] not in walk(api, "/units", county)
        assert staffed["id"] in walk(api, "/units", county, include_ended="true")
        joined = api.post(
            f"{API}/helpers",
            json={
                "name": "赵",
                "unit_id": staffed["id"],
                "rank": "staff",
                "phone": "13912345678",
                "region_code": "522323",
            },
            headers=county,
        )
        assert (joined.status_code, field_of(joined)) == (409, "unit_id")
        future = api.post(
            f"{API}/units/{made[2]['id']}/end", json={"end_date": "2025-07-01", "reason": "x"}, headers=county
        )
        assert (future.status_code, field_of(future)) == (422, "end_date")

    def test_work_teams_list_update_and_end(self, api, county, token):
        office = unit(api, county)
        secretary, leader = helper(api, county, name="第一书记"), helper(api, county, name="队长")
        ours = [
            post(
                api,
                "/work-teams",
                {"village_code": VILLAGE, "unit_id": office["id"], "start_date": "2024-03-01"},
                county,
            )
            for _ in range(3)
        ]
        theirs = post(api, "/work-teams", {"village_code": OTHER_TOWNSHIP_VILLAGE, "start_date": "2024-03-01"}, county)
        assert set(walk(api, "/work-teams", county)) == {t["id"] for t in [*ours, theirs]}
        qingshan = token("township_reviewer", region="522323109")
        assert set(walk(api, "/work-teams", qingshan)) == {t["id"] for t in ours}
        assert api.get(f"{API}/work-teams/{theirs['id']}", headers=qingshan).status_code == 404

        updated = api.patch(
            f"{API}/work-teams/{ours[0]['id']}",
            json={"leader_id": leader["id"], "first_secretary_id": secretary["id"]},
            headers=county,
        )
        assert updated.status_code == 200, updated.text
        assert (
            api.get(f"{API}/work-teams/{ours[0]['id']}", headers=county).json()["first_secretary_id"] == secretary["id"]
        )
        unknown = api.patch(f"{API}/work-teams/{ours[0]['id']}", json={"leader_id": "nobody"}, headers=county)
        assert (unknown.status_code, field_of(unknown)) == (422, "leader_id")

        early = api.post(
            f"{API}/work-teams/{ours[1]['id']}/end", json={"end_date": "2024-01-01", "reason": "x"}, headers=county
        )
        assert (early.status_code, field_of(early)) == (422, "end_date")
        ended = post(
            api, f"/work-teams/{ours[1]['id']}/end", {"end_date": "2025-05-31", "reason": "轮换"}, county, status=200
        )
        assert (ended["end_date"], ended["end_reason"]) == ("2025-05-31", "轮换")
        assert ours[1]["id"] not in walk(api, "/work-teams", county)
        changed_after = api.patch(f"{API}/work-teams/{ours[1]['id']}", json={"unit_id": None}, headers=county)
        assert changed_after.status_code == 409


class TestEveryPoorHouseholdHasAHelper:
    def test_household_read_list_filter_and_coverage_agree(self, api, county):
        li = helper(api, county, rank="county_deputy")
        paired, alone = household(api, county), household(api, county)
        exited = household(api, county) | {}
        assert (
            api.patch(f"{H}/{exited['id']}", json={"reason": "脱贫", "status": "exited"}, headers=county).status_code
            == 200
        )
        pairing = pair(api, county, li["id"], paired["id"])

        def read(household_id: str, **params: str) -> dict[str, Any]:
            return api.get(f"{H}/{household_id}", params=params, headers=county).json()

        assert (read(paired["id"])["active_helper_ids"], read(paired["id"])["needs_helper"]) == ([li["id"]], False)
        assert (read(alone["id"])["active_helper_ids"], read(alone["id"])["needs_helper"]) == ([], True)
        assert read(exited["id"])["needs_helper"] is False
        assert read(paired["id"], as_of="2024-12-31")["needs_helper"] is True  # paired from 2025-01-01

        listed = {h["id"]: h["needs_helper"] for h in api.get(H, headers=county).json()["items"]}
        assert listed == {paired["id"]: False, alone["id"]: True, exited["id"]: False}
        lacking = api.get(H, params={"without_helper": "true"}, headers=county).json()["items"]
        assert [h["id"] for h in lacking] == [alone["id"]]
        report = api.get(f"{API}/contacts/coverage", headers=county).json()
        assert [r["household_id"] for r in report["items"] if not r["helper_ids"]] == [alone["id"]]

        assert (
            api.patch(f"{H}/{paired['id']}", json={"reason": "脱贫", "status": "exited"}, headers=county).status_code
            == 200
        )
        released = post(
            api,
            f"/pairings/{pairing['id']}/release",
            {"end_date": "2025-06-10", "reason": "已脱贫"},
            county,
            status=200,
        )
        assert released["end_date"] == "2025-06-10"
        assert read(paired["id"])["active_helper_ids"] == []
        assert read(paired["id"], as_of="2025-06-09")["active_helper_ids"] == [li["id"]]
