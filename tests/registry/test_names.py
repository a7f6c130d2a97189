"""Names and addresses are normalised (NFC, trimmed) and refused when they carry control or invisible
characters, naming the field; CJK extension characters are kept."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.text import REFUSED_CATEGORIES, clean_name, clean_text
from tests.support.builders import household_body

URL = "/api/v1/households"
HOSTILE = {
    "blank": "   ",
    "NUL": "张\x00三",
    "ANSI escape": "\x1b[31m张三",
    "right-to-left override": "张\u202e三",
    "zero width space": "张\u200b三",
    "BOM": "\ufeff张三",
    "line feed": "张\n三",
}


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_member_name_is_422_naming_the_field(api, county, name: str) -> None:  # type: ignore[no-untyped-def]
    body = household_body()
    body["members"][0]["name"] = name
    response = api.post(URL, json=body, headers=county)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "members.0.name"
    assert api.get(URL, headers=county).json()["items"] == []


def test_a_hostile_address_is_422(api, county) -> None:  # type: ignore[no-untyped-def]
    response = api.post(URL, json=household_body() | {"address": "青山镇\u202e"}, headers=county)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "address"


def test_names_are_normalised_and_cjk_extensions_kept(api, county) -> None:  # type: ignore[no-untyped-def]
    body = household_body()
    body["members"][0]["name"] = "  𠀀明  "
    body["members"][1]["name"] = unicodedata.normalize("NFD", "阿卜杜·热合曼é")
    created = api.post(URL, json=body, headers=county)
    assert created.status_code == 201, created.text
    names = [m["name"] for m in created.json()["members"]]
    assert names[0] == "𠀀明"
    assert names[1] == unicodedata.normalize("NFC", "阿卜杜·热合曼é")


@pytest.mark.parametrize(("value", "ok"), [("王小明", True), ("𠀀", True), ("a\tb", False), ("\u2066x", False)])
def test_clean_name_table(value: str, ok: bool) -> None:
    if ok:
        assert clean_name(value) == value
    else:
        with pytest.raises(ValueError):
            clean_name(value)


def test_free_text_may_have_lines_but_nothing_invisible() -> None:
    assert clean_text(" 第一行\n第二行 ") == "第一行\n第二行"
    with pytest.raises(ValueError):
        clean_text("第一行\u200d")


@pytest.mark.parametrize("q", ["%", "_", "成员%"], ids=["percent", "underscore", "prefix and percent"])
def test_search_metacharacters_are_literal(api, county, q: str) -> None:  # type: ignore[no-untyped-def]
    assert api.post(URL, json=household_body(), headers=county).status_code == 201
    found = api.get(URL, params={"q": q}, headers=county)
    assert found.status_code == 200 and found.json()["items"] == []


def test_a_search_with_nul_is_422(api, county) -> None:  # type: ignore[no-untyped-def]
    refused = api.get(URL, params={"q": "成\x00"}, headers=county)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "q"


def test_a_region_claim_of_wildcards_lists_nothing(api, county, token) -> None:  # type: ignore[no-untyped-def]
    assert api.post(URL, json=household_body(), headers=county).status_code == 201
    for region in ("%", "_", "52232310_"):
        assert api.get(URL, headers=token("county_office", region=region)).status_code == 401


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=30))
def test_clean_name_refuses_exactly_the_invisible_and_control_characters(value: str) -> None:
    """The fast path (``str.isprintable``) decides as the character-by-character rule does."""
    text = unicodedata.normalize("NFC", value).strip()
    refused = not text or any(unicodedata.category(c) in REFUSED_CATEGORIES for c in text)
    try:
        assert clean_name(value) == text and not refused
    except ValueError:
        assert refused
