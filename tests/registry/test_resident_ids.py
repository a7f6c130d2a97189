"""Resident IDs at the registry's door: genuine IDs with renamed area codes are registered (the note kept on the
member), impossible birth dates are refused in Chinese naming the part, on the clock's today."""

from __future__ import annotations

from tests.support.builders import household_body

URL = "/api/v1/households"


def with_head_id(number: str, born: str, sex: str) -> dict:  # type: ignore[type-arg]
    body = household_body(members=1)
    body["members"][0] |= {"id_number": number, "birth_date": born, "sex": sex}
    return body


def test_a_genuine_id_whose_area_code_was_renamed_is_registered(api, county) -> None:  # type: ignore[no-untyped-def]
    created = api.post(
        URL + "?reveal=true", json=with_head_id("522301197003155525", "1970-03-15", "female"), headers=county
    )
    assert created.status_code == 201, created.text
    head = created.json()["members"][0]
    assert head["id_number"] == "522301197003155525"
    assert head["id_warning"] == "地址码522301在1970年的行政区划中未见（可能已撤并或更名），请核对"


def test_a_birth_date_after_today_is_refused(api, county) -> None:  # type: ignore[no-untyped-def]
    refused = api.post(URL, json=with_head_id("522323262010150016", "2620-10-15", "female"), headers=county)
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert error["field"] == "members.0.id_number" and "出生日期晚于今天" in error["message"]


def test_a_wrong_check_digit_names_the_eighteenth_character(api, county) -> None:  # type: ignore[no-untyped-def]
    refused = api.post(URL, json=with_head_id("522301197003155526", "1970-03-15", "female"), headers=county)
    assert refused.status_code == 422 and "第18位校验码不符" in refused.json()["errors"][0]["message"]
