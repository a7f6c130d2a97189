"""Every registry list is a page (shared.pagination): a cursor it did not hand out is a 422 on ``cursor``, a walk
sees every row once, a cursor survives inserts, and the contact coverage counts a whole scope in one statement."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from shared.pagination import encode_cursor
from tests.registry.conftest import VILLAGE
from tests.registry.files import household_rows, write_csv
from tests.registry.files import run_import as run
from tests.support.builders import household_body

pytestmark = pytest.mark.integration
API = "/api/v1"


def post(api: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = api.post(f"{API}{path}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def walk(api: Any, path: str, headers: dict[str, str], **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a list, two at a time."""
    cursor = None
    while True:
        query = params | {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = api.get(f"{API}{path}", params=query, headers=headers)
        assert response.status_code == 200, response.text
        yield from response.json()["items"]
        cursor = response.json()["next_cursor"]
        if not cursor:
            return


def raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# Cursors no list hands out: not base64 JSON, not a list, elements of no column's type, nested, too long.
MALFORMED = {
    "not base64": "%%%not-a-cursor",
    "not json": raw("{nope"),
    "not a list": encode_cursor({"a": 1}),  # type: ignore[arg-type]
    "null": encode_cursor([None]),
    "object": encode_cursor([{"a": 1}]),
    "nested": encode_cursor([["522323109001"]]),
    "infinite number": raw("[1e309]"),
    "too long": encode_cursor(["a", "b", "c"]),
    "boolean": encode_cursor([True]),
}
# Well-formed for a list ordered by one text column (regions, by code), of the wrong type or length for every other.
WRONG_SHAPE = {"text": encode_cursor(["abc"]), "huge number as text": encode_cursor(["1e309"])}


@pytest.fixture
def lists(api: Any, county: dict[str, str], tmp_path: Any) -> list[str]:
    """One of each record, and the path of every list the registry serves."""
    household = post(api, "/households", household_body() | {"registered_on": "2024-01-10"}, county)
    member = household["members"][1]["id"]
    h = household["id"]
    unit = post(api, "/units", {"name": "县水务局", "region_code": "522323"}, county)
    helper = post(
        api,
        "/helpers",
        {"name": "李", "unit_id": unit["id"], "rank": "staff", "phone": "13912345678", "region_code": "522323"},
        county,
    )
    post(api, "/work-teams", {"village_code": VILLAGE, "unit_id": unit["id"], "start_date": "2024-03-01"}, county)
    post(api, "/pairings", {"helper_id": helper["id"], "household_id": h, "start_date": "2025-01-01"}, county)
    post(
        api,
        f"/households/{h}/contacts",
        {"helper_id": helper["id"], "kind": "visit", "contacted_on": "2025-06-01"},
        county,
    )
    post(api, f"/households/{h}/incomes", {"year": 2024, "wages": "1000.00"}, county)
    api.patch(f"{API}/households/{h}", json={"reason": "核实", "address": "新址"}, headers=county)
    api.patch(f"{API}/households/{h}/members/{member}", json={"reason": "核实", "party_member": True}, headers=county)
    post(
        api,
        f"/households/{h}/changes",
        {
            "kind": "death",
            "member_id": household["members"][2]["id"],
            "effective_date": "2025-03-01",
            "evidence": "证明",
            "reason": "死亡",
        },
        county,
    )
    api.put(f"{API}/regions/{VILLAGE}/groups/1", json={"name": "一组"}, headers=county)
    bad = household_rows("HK-BAD", 1)
    bad[0]["身份证号"] = "123"
    job = run(api, county, write_csv(tmp_path / "bad.csv", bad))
    return [
        "/households",
        f"/households/{h}/versions",
        f"/households/{h}/members/{member}/versions",
        f"/households/{h}/changes",
        f"/households/{h}/incomes",
        f"/households/{h}/pairings",
        f"/households/{h}/contacts",
        "/helpers",
        "/units",
        "/work-teams",
        "/helper-loads",
        "/regions",
        f"/regions/{VILLAGE}/groups",
        "/contacts/coverage",
        f"/imports/{job['id']}/errors",
    ]


class TestEveryList:
    def test_each_has_a_row_and_refuses_a_cursor_it_did_not_hand_out(self, api, county, lists):
        for path in lists:
            page = api.get(f"{API}{path}", headers=county)
            assert page.status_code == 200, (path, page.text)
            assert page.json()["items"], path
            assert set(page.json()) >= {"items", "next_cursor"}, path
            wrong = MALFORMED | (WRONG_SHAPE if path != "/regions" else {})
            for name, cursor in wrong.items():
                response = api.get(f"{API}{path}", params={"cursor": cursor}, headers=county)
                assert response.status_code == 422, (path, name, response.text)
                assert response.json()["errors"][0]["field"] == "cursor", (path, name)

    def test_a_limit_outside_one_to_five_hundred_is_refused(self, api, county, lists):
        for path in lists:
            for limit in (0, 501):
                response = api.get(f"{API}{path}", params={"limit": limit}, headers=county)
                assert response.status_code == 422, path
                assert response.json()["errors"][0]["field"].endswith("limit"), path


class TestWalking:
    def test_a_walk_sees_every_row_once_and_a_cursor_survives_inserts(self, api, county):
        h = post(api, "/households", household_body() | {"registered_on": "2024-01-10"}, county)["id"]
        helper = post(
            api, "/helpers", {"name": "李", "rank": "staff", "phone": "13912345678", "region_code": "522323"}, county
        )
        for day in ("2025-01-05", "2025-02-05", "2025-03-05"):
            post(
                api,
                f"/households/{h}/contacts",
                {"helper_id": helper["id"], "kind": "call", "contacted_on": day},
                county,
            )
        first = api.get(f"{API}/households/{h}/contacts", params={"limit": 2}, headers=county).json()
        assert [c["contacted_on"] for c in first["items"]] == ["2025-01-05", "2025-02-05"]
        post(
            api,
            f"/households/{h}/contacts",
            {"helper_id": helper["id"], "kind": "visit", "contacted_on": "2025-01-01"},
            county,
        )  # before the cursor: not seen again
        post(
            api,
            f"/households/{h}/contacts",
            {"helper_id": helper["id"], "kind": "visit", "contacted_on": "2025-06-01"},
            county,
        )  # after it: seen
        rest = api.get(f"{API}/households/{h}/contacts", params={"cursor": first["next_cursor"]}, headers=county).json()
        assert [c["contacted_on"] for c in rest["items"]] == ["2025-03-05", "2025-06-01"]
        assert rest["next_cursor"] is None

        loads = [row["rank"] for row in walk(api, "/helper-loads", county)]
        assert loads == ["county_deputy", "section_chief", "deputy_section_chief", "staff"]
        townships = [r["code"] for r in walk(api, "/regions", county, parent="522323000000")]
        assert len(townships) == len(set(townships)) == 14 and townships == sorted(townships)


class TestCoverage:
    def test_totals_count_the_scope_rows_come_a_page_at_a_time_and_no_statement_lists_its_households(self, api, county):
        households = [post(api, "/households", household_body(), county)["id"] for _ in range(15)]
        helper = post(
            api,
            "/helpers",
            {"name": "李", "rank": "county_deputy", "phone": "13912345678", "region_code": "522323"},
            county,
        )
        post(
            api,
            "/pairings",
            {"helper_id": helper["id"], "household_id": households[0], "start_date": "2025-01-01"},
            county,
        )
        for kind in ("visit", "call"):
            post(
                api,
                f"/households/{households[0]}/contacts",
                {"helper_id": helper["id"], "kind": kind, "contacted_on": "2025-06-02"},
                county,
            )

        widest: list[int] = []

        def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if "household" in statement:
                widest.append(len(parameters or ()))

        engine = api.app.state.db.read_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            rows = list(walk(api, "/contacts/coverage", county))
            report = api.get(f"{API}/contacts/coverage", params={"limit": 5}, headers=county).json()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert sorted(r["household_id"] for r in rows) == sorted(households)
        assert (report["households"], report["without_helper"], report["duties_met"]) == (15, 14, 1)
        assert len(report["items"]) == 5 and report["next_cursor"]
        assert max(widest) < 15, "a statement carried the scope's households one by one"
        met = next(r for r in rows if r["household_id"] == households[0])
        assert (met["helper_ids"], met["contacted_this_month"], met["visited_this_quarter"]) == (
            [helper["id"]],
            True,
            True,
        )
        elsewhere = api.get(f"{API}/contacts/coverage", params={"region": "522323101"}, headers=county).json()
        assert (elsewhere["households"], elsewhere["items"]) == (0, [])
        assert json.dumps(elsewhere).count("household_id") == 0
