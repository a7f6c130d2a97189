"""A registrar who meets a person or hukou registered in another township learns that it is registered
elsewhere, never which household; the county office sees the conflict and resolves it."""

from __future__ import annotations

from tests.registry.conftest import OTHER_TOWNSHIP_VILLAGE, VILLAGE
from tests.support.builders import household_body

URL = "/api/v1/households"


def test_a_clash_outside_the_scope_names_no_household_and_is_recorded(api, county, token) -> None:  # type: ignore[no-untyped-def]
    existing = api.post(URL, json=household_body(region_code=OTHER_TOWNSHIP_VILLAGE), headers=county).json()
    township = token("township_reviewer", "village_cadre", region=VILLAGE[:9], subject="qingshan-clerk")
    again = household_body(region_code=VILLAGE)
    again["members"][0]["id_number"] = api.get(f"{URL}/{existing['id']}?reveal=true", headers=county).json()["members"][
        0
    ]["id_number"]
    again["members"][0] |= {k: existing["members"][0][k] for k in ("birth_date", "sex")}
    refused = api.post(URL, json=again, headers=township)
    assert refused.status_code == 409, refused.text
    assert existing["id"] not in refused.text
    assert "another region" in refused.json()["detail"]
    assert refused.json()["errors"][0]["field"] == "members.0.id_number"
    conflicts = api.get("/api/v1/conflicts", headers=county).json()["items"]
    assert [(c["existing_household_id"], c["attempted_by"], c["kind"]) for c in conflicts] == [
        (existing["id"], "qingshan-clerk", "id_number")
    ]
    assert "*" in conflicts[0]["value_masked"]
    assert api.get("/api/v1/conflicts", headers=township).status_code == 403
    resolved = api.post(
        f"/api/v1/conflicts/{conflicts[0]['id']}/resolution",
        json={"resolution": "已迁入青山镇，原户迁出"},
        headers=county,
    )
    assert resolved.status_code == 200 and resolved.json()["resolved_by"] == "county-clerk"
    assert api.get("/api/v1/conflicts", headers=county).json()["items"] == []
    assert (
        api.post(
            f"/api/v1/conflicts/{conflicts[0]['id']}/resolution", json={"resolution": "again"}, headers=county
        ).status_code
        == 409
    )


def test_a_hukou_clash_outside_the_scope_too(api, county, token) -> None:  # type: ignore[no-untyped-def]
    existing = api.post(URL, json=household_body(region_code=OTHER_TOWNSHIP_VILLAGE), headers=county).json()
    township = token("village_cadre", region=VILLAGE[:9], subject="qingshan-clerk")
    refused = api.post(
        URL, json=household_body(region_code=VILLAGE, hukou_number=existing["hukou_number"]), headers=township
    )
    assert refused.status_code == 409 and existing["id"] not in refused.text
    assert api.get("/api/v1/conflicts", headers=county).json()["items"][0]["kind"] == "hukou_number"


def test_inside_the_scope_the_household_is_still_named(api, county) -> None:  # type: ignore[no-untyped-def]
    existing = api.post(URL, json=household_body(), headers=county).json()
    refused = api.post(URL, json=household_body(hukou_number=existing["hukou_number"]), headers=county)
    assert refused.status_code == 409 and refused.json()["conflicting_household_id"] == existing["id"]
    assert api.get("/api/v1/conflicts", headers=county).json()["items"] == []
