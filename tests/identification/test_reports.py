"""Reports as of a date; the quota warning and its county acknowledgement; village exit from registry data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.identification.conftest import OTHER_VILLAGE, TOWNSHIP, VILLAGE, declare_income, register
from tests.identification.test_cases_api import RULES, VOTE, attach, fields, notice_and_end, ok, problem, step

pytestmark = pytest.mark.integration
R = "/api/v1/reports"


def figures(api, county, village=VILLAGE, **values):
    return ok(api.put(f"/api/v1/villages/{village}/figures", json={"year": 2025} | values, headers=county))


def opened(api, reg, county, cadre):
    household_id = register(reg, county)
    declare_income(reg, county, household_id, 2025, "6000")  # 2000 a head: below the line, the rules advise yes
    return ok(api.post("/api/v1/cases", json={"kind": "recognition", "household_id": household_id}, headers=cadre), 201)


def to_township(api, clock, cadre, cases):
    """Both cases from the application through the village's notice, together (one notice for both names)."""
    for case in cases:
        cid = case["id"]
        ok(step(api, cid, "application", cadre, application_form=attach(api, cid, cadre)))
        ok(step(api, cid, "group_review", cadre, minutes=[attach(api, cid, cadre)], attendance=9, vote=VOTE))
    notice_and_end(api, clock, cases[0], "group_review", VILLAGE, cadre)
    for case in cases:
        ok(step(api, case["id"], "survey", cadre, survey={"surveyed_by": "张干部"}))
    moved = [
        ok(step(api, c["id"], "village_review", cadre, minutes=[attach(api, c["id"], cadre)], attendance=30, vote=VOTE))
        for c in cases
    ]
    notice_and_end(api, clock, cases[0], "village_review", VILLAGE, cadre)
    return moved


class TestQuotaAndDecisionsAgainstAdvice:
    def test_over_quota_needs_a_county_acknowledgement_and_a_rejection_against_advice_is_reported(
        self, api, reg, clock, county, township, cadre
    ):
        ok(api.post("/api/v1/rule-sets", json=RULES, headers=county), 201)
        figures(api, county, quota_households=1)
        first, second = opened(api, reg, county, cadre), opened(api, reg, county, cadre)
        moved = to_township(api, clock, cadre, [first, second])
        assert moved[0]["quota_warning"] is None
        assert "above its quota 1" in moved[1]["quota_warning"]

        reject = {
            "step": "township_review",
            "reject": True,
            "comment": "不予认定",
            "evidence": {"opinion": "不同意"},
            "justification": "该户子女在县城有稳定工作，赡养能力充足",
        }
        rejected = ok(api.post(f"/api/v1/cases/{first['id']}/steps", json=reject, headers=township))
        assert (rejected["status"], rejected["outcome"]) == ("rejected", "rejected")
        ok(step(api, second["id"], "township_review", township, opinion="同意"))
        sample = ok(
            api.post(
                "/api/v1/samples",
                json={"kind": "recognition", "step": "county_comparison", "township_code": TOWNSHIP, "year": 2025},
                headers=county,
            ),
            201,
        )
        ok(
            api.post(
                f"/api/v1/samples/{sample['id']}/checks",
                json={"case_id": second["id"], "passed": True, "note": "核实无误"},
                headers=county,
            ),
            201,
        )
        refused = problem(step(api, second["id"], "county_comparison", county, comparison="无疑点"), 422)
        assert refused["errors"][0]["code"] == "quota_unacknowledged" and fields(refused) == {"quota"}
        problem(api.post(f"/api/v1/cases/{second['id']}/quota-acknowledgement", headers=township), 403)
        problem(api.post(f"/api/v1/cases/{first['id']}/quota-acknowledgement", headers=county), 409)
        acknowledged = ok(api.post(f"/api/v1/cases/{second['id']}/quota-acknowledgement", headers=county))
        assert acknowledged["quota_acknowledged_by"] == "county-clerk"
        passed = ok(step(api, second["id"], "county_comparison", county, comparison="无疑点"))
        assert passed["next_step"]["key"] == "data_entry"

        [against] = ok(api.get(f"{R}/decisions-against-advice", headers=county))["items"]
        assert (against["case_id"], against["advice"], against["decision"]) == (first["id"], "qualifies", "reject")
        assert against["justification"] == reject["justification"] and against["rule_set_version"] == 1
        yesterday = (clock.today() - timedelta(days=1)).isoformat()
        assert ok(api.get(f"{R}/decisions-against-advice", params={"as_of": yesterday}, headers=county))["items"] == []
        other = ok(api.get(f"{R}/decisions-against-advice", params={"region": OTHER_VILLAGE}, headers=county))
        assert other["items"] == []


class TestWaitingAndStuck:
    def test_cases_by_step_waiting_days_and_stuck_as_of_a_day(self, api, reg, clock, county, cadre, token):
        ok(api.post("/api/v1/rule-sets", json=RULES | {"stuck_after_days": 10}, headers=county), 201)
        start = clock.today()
        waiting, moving = opened(api, reg, county, cadre), opened(api, reg, county, cadre)
        clock.advance(timedelta(days=3))
        ok(step(api, moving["id"], "application", cadre, application_form=attach(api, moving["id"], cadre)))
        clock.advance(timedelta(days=9))  # 12 days since both opened, 9 since the second moved

        summary = ok(api.get(f"{R}/cases-by-step", params={"kind": "recognition"}, headers=county))
        by_step = {(s["step"], s["status"]): s for s in summary["steps"]}
        assert by_step[("application", "open")]["cases"] == 1
        assert by_step[("application", "open")]["longest_wait_days"] == 12
        assert by_step[("group_review", "open")]["longest_wait_days"] == 9

        then = ok(
            api.get(f"{R}/cases-by-step", params={"as_of": (start + timedelta(days=1)).isoformat()}, headers=county)
        )
        assert [(s["step"], s["cases"], s["longest_wait_days"]) for s in then["steps"]] == [("application", 2, 1)]
        before = ok(
            api.get(f"{R}/cases-by-step", params={"as_of": (start - timedelta(days=1)).isoformat()}, headers=county)
        )
        assert before["steps"] == []

        each = ok(api.get(f"{R}/waiting", params={"limit": 1}, headers=county))
        rest = ok(api.get(f"{R}/waiting", params={"cursor": each["next_cursor"]}, headers=county))
        days = {w["case_id"]: (w["step"], w["waited_days"]) for w in each["items"] + rest["items"]}
        assert days == {waiting["id"]: ("application", 12), moving["id"]: ("group_review", 9)}

        [stuck] = ok(api.get(f"{R}/stuck", headers=county))["items"]  # the rule set says: longer than 10 days
        assert (stuck["case_id"], stuck["label"]) == (waiting["id"], "农户申请（书面申请，签字盖手印）")
        assert len(ok(api.get(f"{R}/stuck", params={"days": 5}, headers=county))["items"]) == 2
        assert ok(api.get(f"{R}/stuck", params={"days": 20}, headers=county))["items"] == []
        assert ok(api.get(f"{R}/stuck", headers=token("village_cadre", region=OTHER_VILLAGE)))["items"] == []

        problem(api.get(f"{R}/stuck"), 401)
        problem(api.get(f"{R}/stuck", headers=token("helper", region=VILLAGE)), 403)
        assert "query.days" in fields(problem(api.get(f"{R}/stuck", params={"days": 0}, headers=county), 422))
        assert "query.as_of" in fields(problem(api.get(f"{R}/waiting", params={"as_of": "x"}, headers=county), 422))


class TestIncidenceAndVillageExit:
    def test_incidence_by_village_and_township_and_the_village_exit_verdict(self, api, reg, county, token):
        rules = RULES | {"village_exit_conditions": [{"code": "collective", "label": "集体经济收入超过5万元"}]}
        ok(api.post("/api/v1/rule-sets", json=rules, headers=county), 201)
        for _ in range(2):
            register(reg, county, status="poor", identified_year=2016)  # three people each
        register(reg, county)  # not poor
        figures(api, county, agricultural_population=300)
        figures(api, county, OTHER_VILLAGE, agricultural_population=500)

        rows = ok(api.get(f"{R}/incidence", headers=county))["items"]
        village = next(r for r in rows if r["region_code"] == VILLAGE)
        assert (village["poor_households"], village["poor_population"], village["incidence"]) == (2, 6, "0.0200")
        assert village["exit_threshold"] == "0.0300" and village["below_threshold"] is True
        assert next(r for r in rows if r["region_code"] == OTHER_VILLAGE)["incidence"] == "0.0000"
        towns = ok(api.get(f"{R}/incidence", params={"level": "township"}, headers=county))["items"]
        assert [(t["region_code"], t["villages"], t["poor_population"]) for t in towns] == [
            (OTHER_VILLAGE[:9], 1, 0),
            (TOWNSHIP, 1, 6),
        ]
        first = ok(api.get(f"{R}/incidence", params={"limit": 1}, headers=county))
        assert len(first["items"]) == 1 and first["next_cursor"]
        mine = ok(api.get(f"{R}/incidence", headers=token("township_reviewer", region=TOWNSHIP)))["items"]
        assert [r["region_code"] for r in mine] == [VILLAGE]
        assert "query.level" in fields(problem(api.get(f"{R}/incidence", params={"level": "x"}, headers=county), 422))

        body = {"region_code": VILLAGE, "year": 2025, "conditions": {"collective": True}}
        verdict = ok(api.post("/api/v1/evaluations/village-exit", json=body, headers=county), 201)
        assert verdict["verdict"] == "qualifies" and verdict["snapshot"]["poor_population"] == 6
        assert {r["code"]: r["outcome"] for r in verdict["reasons"]} == {"出列-1": "met", "出列-collective": "met"}
        lacking = ok(
            api.post(
                "/api/v1/evaluations/village-exit", json=body | {"conditions": {"collective": False}}, headers=county
            ),
            201,
        )
        assert lacking["verdict"] == "excluded"
        figures(api, county, agricultural_population=150)  # 6 / 150 = 4 %: above the 3 % line
        high = ok(api.post("/api/v1/evaluations/village-exit", json=body, headers=county), 201)
        assert high["verdict"] == "excluded" and high["reasons"][0]["facts"]["incidence"] == "0.0400"
        problem(
            api.post("/api/v1/evaluations/village-exit", json=body, headers=token("village_cadre", region=VILLAGE)), 403
        )
        missing = body | {"region_code": "522323109002"}
        assert (
            problem(api.post("/api/v1/evaluations/village-exit", json=missing, headers=county), 422)["errors"][0][
                "code"
            ]
            == "population_missing"
        )
