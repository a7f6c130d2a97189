"""Duty rules as data: the selection rule (most specific jurisdiction, then latest start), its refusals, and
the API where a county office sets versions and a township's own rule overrides the county's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifications.domain.duties import (
    DutyRule,
    Frequency,
    RuleVersion,
    effective_rules,
    reminder_due,
    rule_refusals,
)
from services.notifications.duties import by_rule
from tests.notifications.conftest import TOWNSHIP, VILLAGE, Service
from tests.support.http import field_of, ok

HTTP = httpx.Client(timeout=30)  # a loaded CI machine answers slowly; this is not a hang

COUNTY = VILLAGE[:6]
OTHER_TOWNSHIP_VILLAGE = "522323101001"


def version(region: str, start: str, remind_day: int, *, code: str = "monthly_contact", on: bool = True) -> RuleVersion:
    rule = DutyRule(code, "每月联系", Frequency.monthly, remind_day=remind_day)
    return RuleVersion(region, date.fromisoformat(start), rule, enabled=on)


BUILT_IN = version("", "2000-01-01", 20)
PROVINCE = version("52", "2024-01-01", 18)
COUNTY_RULE = version(COUNTY, "2025-01-01", 10)
COUNTY_LATER = version(COUNTY, "2025-07-01", 12)
TOWNSHIP_RULE = version(TOWNSHIP, "2024-06-01", 15)
VILLAGE_OFF = version(VILLAGE, "2025-03-01", 5, on=False)


@pytest.mark.parametrize(
    ("versions", "region", "day", "remind_day"),
    [
        pytest.param([BUILT_IN], VILLAGE, "2025-06-20", 20, id="内置默认: only the built-in calendar"),
        pytest.param([BUILT_IN, PROVINCE], VILLAGE, "2025-06-20", 18, id="省级: the province beats the built-in"),
        pytest.param([BUILT_IN, PROVINCE, COUNTY_RULE], VILLAGE, "2025-06-20", 10, id="县级: county beats province"),
        pytest.param(
            [BUILT_IN, COUNTY_RULE, TOWNSHIP_RULE], VILLAGE, "2025-06-20", 15, id="乡镇: township beats county"
        ),
        pytest.param(
            [BUILT_IN, COUNTY_RULE, TOWNSHIP_RULE],
            OTHER_TOWNSHIP_VILLAGE,
            "2025-06-20",
            10,
            id="乡镇: another township's village keeps the county's",
        ),
        pytest.param([BUILT_IN, COUNTY_RULE], VILLAGE, "2024-12-31", 20, id="生效日: not yet in force"),
        pytest.param([BUILT_IN, COUNTY_RULE, COUNTY_LATER], VILLAGE, "2025-06-30", 10, id="版本: the older one"),
        pytest.param([BUILT_IN, COUNTY_RULE, COUNTY_LATER], VILLAGE, "2025-07-01", 12, id="版本: the newer one"),
        pytest.param(
            [BUILT_IN, TOWNSHIP_RULE, COUNTY_LATER],
            VILLAGE,
            "2025-08-01",
            15,
            id="层级优先: an older township rule beats a newer county one",
        ),
        pytest.param([BUILT_IN, COUNTY_RULE, VILLAGE_OFF], VILLAGE, "2025-06-20", None, id="停用: a village off"),
    ],
)
def test_the_most_specific_jurisdiction_wins(
    versions: list[RuleVersion], region: str, day: str, remind_day: int | None
) -> None:
    chosen = effective_rules(versions, region_code=region, day=date.fromisoformat(day)).get("monthly_contact")
    assert (chosen.rule.remind_day if chosen else None) == remind_day


def test_each_duty_is_chosen_on_its_own() -> None:
    visit = version(COUNTY, "2025-01-01", 60, code="quarterly_visit")
    chosen = effective_rules([BUILT_IN, TOWNSHIP_RULE, visit], region_code=VILLAGE, day=date(2025, 6, 20))
    assert {code: v.region_code for code, v in chosen.items()} == {
        "monthly_contact": TOWNSHIP,
        "quarterly_visit": COUNTY,
    }


levels = st.sampled_from(["", "52", COUNTY, TOWNSHIP, VILLAGE])
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31))


@given(st.lists(st.tuples(levels, starts), min_size=1, max_size=12), starts)
def test_the_winner_is_in_force_and_no_other_is_more_specific_or_newer(
    drawn: list[tuple[str, date]], day: date
) -> None:
    versions = [version(region, start.isoformat(), 1 + n % 28) for n, (region, start) in enumerate(drawn)]
    chosen = effective_rules(versions, region_code=VILLAGE, day=day).get("monthly_contact")
    started = [v for v in versions if v.effective_from <= day]
    if not started:
        assert chosen is None
        return
    assert chosen is not None and chosen.effective_from <= day
    assert all(
        (len(v.region_code), v.effective_from) <= (len(chosen.region_code), chosen.effective_from) for v in started
    )


@pytest.mark.parametrize(
    ("region", "frequency", "remind", "escalate", "fields"),
    [
        pytest.param(COUNTY, Frequency.monthly, 28, 1, [], id="每月: the 28th is in every month"),
        pytest.param(COUNTY, Frequency.monthly, 29, 0, ["remind_day"], id="每月: no 29th in February"),
        pytest.param(COUNTY, Frequency.quarterly, 90, 91, ["escalate_day"], id="每季: Q1 has 90 days"),
        pytest.param(COUNTY, Frequency.yearly, 365, 0, [], id="每年: the 365th"),
        pytest.param("5223", Frequency.yearly, 60, 0, ["region_code"], id="辖区: not a level"),
    ],
)
def test_rule_refusals(region: str, frequency: Frequency, remind: int, escalate: int, fields: list[str]) -> None:
    refusals = rule_refusals(region_code=region, frequency=frequency, remind_day=remind, escalate_day=escalate)
    assert [r.field for r in refusals] == fields


# --- the API --------------------------------------------------------------------------------------------------


def rule_body(region: str, remind_day: int, effective_from: str = "2025-01-01") -> dict[str, Any]:
    return {
        "code": "monthly_contact",
        "region_code": region,
        "effective_from": effective_from,
        "title": "每月电话联系帮扶户",
        "frequency": "monthly",
        "remind_day": remind_day,
        "escalate_day": 1,
    }


def in_force(svc: Service, headers: dict[str, str], region: str, on: str) -> dict[str, int]:
    url = f"{svc.url}/api/v1/duty-rules/in-force"
    page = ok(HTTP.get(url, params={"region": region, "on": on}, headers=headers))
    return {r["code"]: r["remind_day"] for r in page["items"]}


@pytest.mark.integration
def test_a_townships_rule_overrides_the_countys(svc: Service, token: Callable[..., dict[str, str]]) -> None:
    county = token("county_office", region=COUNTY)
    rules = f"{svc.url}/api/v1/duty-rules"
    ok(HTTP.post(rules, json=rule_body(COUNTY, 10), headers=county), 201)
    ok(HTTP.post(rules, json=rule_body(TOWNSHIP, 15, "2025-03-01"), headers=county), 201)

    assert in_force(svc, county, VILLAGE, "2025-06-20")["monthly_contact"] == 15
    assert in_force(svc, county, VILLAGE, "2025-02-20")["monthly_contact"] == 10  # the township's not yet
    assert in_force(svc, county, OTHER_TOWNSHIP_VILLAGE, "2025-06-20")["monthly_contact"] == 10
    assert in_force(svc, county, VILLAGE, "2024-06-20") == {
        "monthly_contact": 20,
        "quarterly_visit": 60,
        "yearly_medical_insurance": 60,
        "yearly_microloan": 60,
        "yearly_schooling": 245,
    }
    listed = ok(
        HTTP.get(rules, params={"code": "monthly_contact"}, headers=token("township_reviewer", region=TOWNSHIP))
    )
    assert [(r["region_code"], r["built_in"]) for r in listed["items"]] == [
        ("", True),
        (COUNTY, False),
        (TOWNSHIP, False),
    ]


@pytest.mark.integration
def test_rule_writes_are_for_the_county_and_checked(svc: Service, token: Callable[..., dict[str, str]]) -> None:
    rules = f"{svc.url}/api/v1/duty-rules"
    township = token("township_reviewer", region=TOWNSHIP)
    assert HTTP.post(rules, json=rule_body(TOWNSHIP, 15), headers=township).status_code == 403
    county = token("county_office", region=COUNTY)
    assert field_of(HTTP.post(rules, json=rule_body(COUNTY, 29), headers=county)) == "remind_day"
    assert field_of(HTTP.post(rules, json=rule_body("522324", 10), headers=county)) == "region_code"
    unknown = rule_body(COUNTY, 10) | {"template_code": "no_such_template"}
    assert field_of(HTTP.post(rules, json=unknown, headers=county)) == "template_code"
    ok(HTTP.post(rules, json=rule_body(COUNTY, 10), headers=county), 201)
    again = HTTP.post(rules, json=rule_body(COUNTY, 11), headers=county)
    assert again.status_code == 409 and field_of(again) == "effective_from"


def test_the_job_reminds_each_village_on_its_own_rules_day() -> None:
    rows = [{"region_code": VILLAGE, "n": 1}, {"region_code": OTHER_TOWNSHIP_VILLAGE, "n": 2}]
    versions = [BUILT_IN, TOWNSHIP_RULE]
    on_15th = by_rule(versions, rows, date(2025, 6, 15), reminder_due)
    on_20th = by_rule(versions, rows, date(2025, 6, 20), reminder_due)
    assert [[r["n"] for r in group] for group in on_15th.values()] == [[1]]  # the township's day
    assert [[r["n"] for r in group] for group in on_20th.values()] == [[2]]  # the built-in day elsewhere
