"""The phone directory (system role only): whole phones, keyset pages, ``updated_since``, every page audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from shared.clock import FrozenClock
from tests.registry.conftest import OTHER_TOWNSHIP_VILLAGE, VILLAGE
from tests.support.builders import household_body
from tests.support.http import field_of, ok
from tests.support.sql import Sql

pytestmark = pytest.mark.integration
API = "/api/v1"
HELPERS = f"{API}/directory/phones/helpers"
HEADS = f"{API}/directory/phones/households"


def household(api: Any, headers: dict[str, str], *, phone: str | None, region: str = VILLAGE) -> dict[str, Any]:
    body = household_body(region_code=region) | {"registered_on": "2024-01-10"}
    if phone:
        body["members"][0]["phone"] = phone
    return ok(api.post(f"{API}/households", json=body, headers=headers), 201)


def helper(api: Any, headers: dict[str, str], name: str, phone: str) -> dict[str, Any]:
    body = {"name": name, "rank": "staff", "phone": phone, "region_code": VILLAGE}
    return ok(api.post(f"{API}/helpers", json=body, headers=headers), 201)


def walk(api: Any, path: str, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    """Every row of the directory, two a page."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = params | {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = ok(api.get(path, params=query, headers=headers))
        rows += page["items"]
        if not (cursor := page["next_cursor"]):
            return rows


def test_only_the_system_role_reads_the_directory(api: Any, token: Callable[..., dict[str, str]]) -> None:
    for role in ("county_office", "township_reviewer", "auditor", "helper"):
        for path in (HELPERS, HEADS):
            assert api.get(path, headers=token(role)).status_code == 403
    assert api.get(HELPERS).status_code == 401


def test_whole_phones_paged_and_audited(api: Any, county: dict[str, str], system: dict[str, str], sql: Sql) -> None:
    first = household(api, county, phone="13912340001")
    second = household(api, county, phone=None)
    third = household(api, county, phone="13912340003", region=OTHER_TOWNSHIP_VILLAGE)
    helpers = [helper(api, county, f"帮扶{n}", f"1381234000{n}") for n in range(3)]

    heads = walk(api, HEADS, system)
    # Registered at the same moment, so in id order, which is the order they were made (UUIDv7).
    expected = [(first["id"], "13912340001"), (second["id"], None), (third["id"], "13912340003")]
    assert [(h["household_id"], h["phone"]) for h in heads] == expected
    assert heads[0]["member_id"] == first["head_member_id"] and heads[0]["name"] == "成员0"
    assert all(h["active"] for h in heads)
    rows = walk(api, HELPERS, system)
    assert [(r["id"], r["phone"]) for r in rows] == [(h["id"], f"1381234000{n}") for n, h in enumerate(helpers)]

    only_township = walk(api, HEADS, system, region=VILLAGE[:9])
    assert {h["household_id"] for h in only_township} == {first["id"], second["id"]}
    # Each page that handed out whole phones is one audit entry naming whom; the page with only a null phone
    # handed out nothing whole.
    assert sql("SELECT count(*) FROM audit_log WHERE resource = 'directory/phones/helpers'") == 2
    audited = sql("SELECT detail FROM audit_log WHERE resource = 'directory/phones/households' ORDER BY seq LIMIT 1")
    assert first["head_member_id"] in audited
    assert sql("SELECT count(*) FROM audit_log WHERE action != 'personal_data.read'") == 0


def test_updated_since_returns_what_changed(
    api: Any, county: dict[str, str], system: dict[str, str], clock: FrozenClock
) -> None:
    kept = household(api, county, phone="13912340001")
    edited = household(api, county, phone="13912340002")
    still = helper(api, county, "老帮扶", "13812340001")
    moved = helper(api, county, "新帮扶", "13812340002")
    clock.advance(timedelta(hours=1))
    since = clock.now().isoformat()  # the last sync's time: everything above is older
    change = {"reason": "换了手机号", "phone": "13700000002"}
    ok(api.patch(f"{API}/households/{edited['id']}/members/{edited['head_member_id']}", json=change, headers=county))
    ok(api.patch(f"{API}/helpers/{moved['id']}", json={"phone": "13700000009"}, headers=county))
    ok(api.post(f"{API}/helpers/{still['id']}/end", json={"end_date": "2025-06-16", "reason": "调离"}, headers=county))

    later = walk(api, HEADS, system, updated_since=since)
    assert [(h["household_id"], h["phone"]) for h in later] == [(edited["id"], "13700000002")]
    assert kept["id"] not in {h["household_id"] for h in later}
    helpers = {r["id"]: r for r in walk(api, HELPERS, system, updated_since=since)}
    assert helpers[moved["id"]]["phone"] == "13700000009" and helpers[moved["id"]]["active"]
    assert helpers[still["id"]]["active"] is False


def test_bad_updated_since_and_cursor_are_422(api: Any, system: dict[str, str]) -> None:
    assert (
        field_of(api.get(HEADS, params={"updated_since": "2025-06-16T10:00:00"}, headers=system))
        == "query.updated_since"
    )
    assert field_of(api.get(HELPERS, params={"cursor": "bm90LW91cnM"}, headers=system)) == "cursor"
