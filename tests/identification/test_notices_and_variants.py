"""Objections send only that name back; a new template version spares running cases; exit; the 滁州 variant."""

from __future__ import annotations

import pytest

from tests.identification.conftest import CHUZHOU_VILLAGE, VILLAGE, declare_income, register
from tests.identification.test_cases_api import RULES, VOTE, attach, fields, notice_and_end, ok, problem, step

pytestmark = pytest.mark.integration


def two_held_cases(api, reg, clock, county, cadre):
    ok(api.post("/api/v1/rule-sets", json=RULES, headers=county), 201)
    ids = []
    for _ in range(2):
        household_id = register(reg, county)
        cid = ok(
            api.post("/api/v1/cases", json={"kind": "recognition", "household_id": household_id}, headers=cadre), 201
        )["id"]
        ok(step(api, cid, "application", cadre, application_form=attach(api, cid, cadre)))
        ok(step(api, cid, "group_review", cadre, minutes=[attach(api, cid, cadre)], attendance=9, vote=VOTE))
        ids.append((cid, household_id))
    return ids


class TestObjections:
    def test_an_objection_sends_only_that_name_back_and_its_resolution_lets_it_proceed(
        self, api, reg, clock, county, cadre, token
    ):
        (first, first_household), (second, _) = two_held_cases(api, reg, clock, county, cadre)
        notice = ok(
            api.post(
                "/api/v1/notices",
                json={"kind": "recognition", "step": "group_review", "region_code": VILLAGE},
                headers=cadre,
            ),
            201,
        )
        assert {e["case_id"] for e in notice["entries"]} == {first, second} and notice["days"] == 7
        objection = {
            "household_id": first_household,
            "objector": "李四",
            "contact": "13812345678",
            "content": "该户在县城有门面房",
        }
        filed = ok(
            api.post(
                f"/api/v1/notices/{notice['id']}/objections", json=objection, headers=token("helper", region=VILLAGE)
            ),
            201,
        )
        assert filed["contact"] == "138****5678"
        seen = ok(api.get(f"/api/v1/notices/{notice['id']}/objections", headers=county))["items"]
        assert seen[0]["contact"] == "13812345678"
        assert ok(api.get(f"/api/v1/notices/{notice['id']}/objections", headers=cadre))["items"][0]["contact"] == (
            "138****5678"
        )

        clock.advance(notice_days(notice))
        assert api.app.state.runtime.periodic.tick()
        assert ok(api.get(f"/api/v1/cases/{second}", headers=cadre))["next_step"]["key"] == "survey"
        back = ok(api.get(f"/api/v1/cases/{first}", headers=cadre))
        assert (back["status"], back["next_step"]["key"]) == ("open", "group_review")
        late = api.post(f"/api/v1/notices/{notice['id']}/objections", json=objection, headers=cadre)
        problem(late, 409)

        again = step(api, first, "group_review", cadre, minutes=[attach(api, first, cadre)], attendance=9, vote=VOTE)
        assert problem(again, 422)["errors"][0]["code"] == "objection_unresolved"
        ok(
            api.post(
                f"/api/v1/objections/{filed['id']}/resolution",
                json={"resolution": "门面房属其兄，经核实无误"},
                headers=cadre,
            )
        )
        held = ok(step(api, first, "group_review", cadre, minutes=[attach(api, first, cadre)], attendance=9, vote=VOTE))
        second_notice = notice_and_end(api, clock, held, "group_review", VILLAGE, cadre)
        assert second_notice["list_version"] == 2
        assert ok(api.get(f"/api/v1/cases/{first}", headers=cadre))["next_step"]["key"] == "survey"


def notice_days(notice):
    from datetime import timedelta

    return timedelta(days=notice["days"], seconds=61)


class TestTemplateVersions:
    def test_a_new_version_serves_new_cases_and_leaves_running_ones_on_theirs(self, api, reg, county, cadre):
        running_household, new_household = register(reg, county), register(reg, county)
        running = ok(
            api.post("/api/v1/cases", json={"kind": "recognition", "household_id": running_household}, headers=cadre),
            201,
        )
        [national] = ok(api.get("/api/v1/templates", params={"code": "recognition"}, headers=county))["items"][:1]
        body = {k: national[k] for k in ("code", "label", "effective_from", "steps")} | {"jurisdiction": "522323"}
        body["steps"] = [s for s in body["steps"] if s["key"] != "data_entry"]
        published = ok(api.post("/api/v1/templates", json=body, headers=county), 201)
        assert published["version"] == 1 and published["jurisdiction"] == "522323"
        problem(api.post("/api/v1/templates", json=body | {"jurisdiction": "3411"}, headers=county), 403)
        problem(api.post("/api/v1/templates", json=body, headers=cadre), 403)
        fresh = ok(
            api.post("/api/v1/cases", json={"kind": "recognition", "household_id": new_household}, headers=cadre), 201
        )
        assert fresh["template_id"] == published["id"]
        assert ok(api.get(f"/api/v1/cases/{running['id']}", headers=cadre))["template_id"] == running["template_id"]
        assert running["template_id"] != published["id"]


class TestExitSixSteps:
    def test_exit_runs_to_household_exited(self, api, reg, clock, county, township, cadre):
        ok(api.post("/api/v1/rule-sets", json=RULES, headers=county), 201)
        household_id = register(
            reg,
            county,
            status="poor",
            identified_year=2016,
            assurances={"food": True, "clothing": True, "education": True, "housing": True, "medical": True},
            utilities={"safe_water": True, "electricity": True},
        )
        declare_income(reg, county, household_id, 2024, "15000")
        declare_income(reg, county, household_id, 2025, "18000")
        case = ok(api.post("/api/v1/cases", json={"kind": "exit", "household_id": household_id}, headers=cadre), 201)
        cid = case["id"]
        held = ok(step(api, cid, "group_nomination", cadre, minutes=[attach(api, cid, cadre)]))
        notice_and_end(api, clock, held, "group_nomination", VILLAGE, cadre)
        ok(step(api, cid, "verification", cadre, survey={"surveyed_by": "王干部", "policies_effective": True}))
        [evaluation] = ok(api.get("/api/v1/evaluations", params={"case_id": cid}, headers=county))["items"]
        assert evaluation["verdict"] == "qualifies", evaluation["reasons"]
        assert fields(problem(step(api, cid, "acknowledgement", cadre), 422)) == {"evidence.signature"}
        ok(step(api, cid, "acknowledgement", cadre, signature=attach(api, cid, cadre)))
        ok(step(api, cid, "village_review", cadre, minutes=[attach(api, cid, cadre)], vote=VOTE))
        notice_and_end(api, clock, held, "village_review", VILLAGE, cadre)
        refused = api.post(
            f"/api/v1/cases/{cid}/steps",
            json={
                "step": "township_confirmation",
                "reject": True,
                "comment": "不同意",
                "evidence": {"opinion": "不同意"},
            },
            headers=township,
        )
        assert problem(refused, 422)["errors"][0]["code"] == "justification_missing"
        ok(step(api, cid, "township_confirmation", township, opinion="同意退出"))
        ok(
            api.post(
                "/api/v1/samples",
                json={"kind": "exit", "step": "county_filing", "township_code": VILLAGE[:9], "year": 2025},
                headers=county,
            ),
            201,
        )
        sample = ok(api.get("/api/v1/cases", params={"kind": "exit"}, headers=county))["items"][0]
        assert sample["next_step"]["key"] == "county_filing"


class TestChuzhouVariant:
    def test_four_neighbours_signatures_and_three_notices(self, api, reg, clock, token):
        system = token("system", region="")
        csv = (
            "code,name\n340000000000,安徽省\n341100000000,滁州市\n341102000000,琅琊区\n"
            "341102001000,琅琊街道\n341102001001,东门社区\n"
        )
        ok(reg.post("/api/v1/regions/import", files={"file": ("r.csv", csv.encode(), "text/csv")}, headers=system))
        county = token("county_office", region="341102")
        cadre = token("village_cadre", region=CHUZHOU_VILLAGE)
        township = token("township_reviewer", region=CHUZHOU_VILLAGE[:9])
        ok(
            api.post(
                "/api/v1/rule-sets",
                json=RULES | {"jurisdiction": "3411"},
                headers=token("county_office", region="3411"),
            ),
            201,
        )
        household_id = register(reg, county, region_code=CHUZHOU_VILLAGE)
        case = ok(
            api.post("/api/v1/cases", json={"kind": "recognition", "household_id": household_id}, headers=cadre), 201
        )
        cid = case["id"]
        ok(step(api, cid, "application", cadre, application_form=attach(api, cid, cadre)))
        three = [attach(api, cid, cadre) for _ in range(3)]
        assert fields(problem(step(api, cid, "neighbours", cadre, signatures=three), 422)) == {"evidence.signatures"}
        ok(step(api, cid, "neighbours", cadre, signatures=[*three, attach(api, cid, cadre)]))
        held = ok(step(api, cid, "group_review", cadre, minutes=[attach(api, cid, cadre)]))
        notice_and_end(api, clock, held, "group_review", CHUZHOU_VILLAGE, cadre)
        ok(step(api, cid, "village_review", cadre, minutes=[attach(api, cid, cadre)], survey={"surveyed_by": "x"}))
        notice_and_end(api, clock, held, "village_review", CHUZHOU_VILLAGE, cadre)
        ok(step(api, cid, "township_review", township, opinion="同意"))
        notice = notice_and_end(api, clock, held, "township_review", CHUZHOU_VILLAGE[:9], township)
        assert notice["days"] == 5
        sample = ok(
            api.post(
                "/api/v1/samples",
                json={
                    "kind": "recognition",
                    "step": "county_review",
                    "township_code": CHUZHOU_VILLAGE[:9],
                    "year": 2025,
                },
                headers=county,
            ),
            201,
        )
        ok(
            api.post(
                f"/api/v1/samples/{sample['id']}/checks",
                json={"case_id": cid, "passed": True, "note": "ok"},
                headers=county,
            ),
            201,
        )
        done = ok(step(api, cid, "county_review", county, opinion="复审通过"))
        assert (done["status"], done["outcome"], done["template_version"]) == ("done", "approved", 1)
