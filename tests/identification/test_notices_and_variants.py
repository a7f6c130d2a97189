"""Objections send only that name back; a new template version spares running cases; exit; the 滁州 variant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.identification.conftest import CHUZHOU_VILLAGE, VILLAGE, YONGZHOU_VILLAGE, declare_income, register
from tests.identification.test_cases_api import RULES, VOTE, attach, fields, notice_and_end, ok, problem, step
from tests.support.procs import wait_until

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
        sample = ok(
            api.post(
                "/api/v1/samples",
                json={"kind": "exit", "step": "county_filing", "township_code": VILLAGE[:9], "year": 2025},
                headers=county,
            ),
            201,
        )
        waiting = ok(api.get("/api/v1/cases", params={"kind": "exit"}, headers=county))["items"][0]
        assert waiting["next_step"]["key"] == "county_filing"
        ok(
            api.post(
                f"/api/v1/samples/{sample['id']}/checks",
                json={"case_id": cid, "passed": True, "note": "抽查属实"},
                headers=county,
            ),
            201,
        )
        done = ok(step(api, cid, "county_filing", county, filing="抽查无误，备案"))
        assert (done["status"], done["outcome"]) == ("done", "exited")

        # exits planned against done: the county's plan for the village, the exit counted once it is filed
        figures = {"year": 2025, "planned_exit_households": 2, "planned_exit_people": 6}
        ok(api.put(f"/api/v1/villages/{VILLAGE}/figures", json=figures, headers=county))
        [row] = ok(api.get("/api/v1/reports/exits", params={"year": 2025}, headers=county))["items"]
        assert (row["planned_households"], row["exited_households"], row["exited_people"]) == (2, 1, 3)
        assert row["done_share"] == "0.5000"
        earlier = {"year": 2025, "as_of": "2025-06-16"}
        assert (
            ok(api.get("/api/v1/reports/exits", params=earlier, headers=county))["items"][0]["exited_households"] == 0
        )
        assert ok(api.get("/api/v1/reports/exits", params={"year": 2024}, headers=county))["items"] == []


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


class TestYongzhouVariant:
    def test_seven_steps_with_a_vote_end_to_end_and_the_registry_follows(self, api, reg, clock, token):
        system = token("system", region="")
        csv = (
            "code,name\n430000000000,湖南省\n431100000000,永州市\n431102000000,零陵区\n"
            "431102001000,七里店街道\n431102001001,双拥社区\n"
        )
        ok(reg.post("/api/v1/regions/import", files={"file": ("r.csv", csv.encode(), "text/csv")}, headers=system))
        county = token("county_office", region="431102", subject="lingling-county")
        cadre = token("village_cadre", region=YONGZHOU_VILLAGE)
        township = token("township_reviewer", region=YONGZHOU_VILLAGE[:9])
        ok(
            api.post(
                "/api/v1/rule-sets",
                json=RULES | {"jurisdiction": "4311"},
                headers=token("county_office", region="4311"),
            ),
            201,
        )
        household_id = register(reg, county, region_code=YONGZHOU_VILLAGE)
        declare_income(reg, county, household_id, 2025, "6000")
        case = ok(
            api.post("/api/v1/cases", json={"kind": "recognition", "household_id": household_id}, headers=cadre), 201
        )
        cid = case["id"]
        [yongzhou] = [
            t
            for t in ok(api.get("/api/v1/templates", params={"code": "recognition"}, headers=county))["items"]
            if t["jurisdiction"] == "4311"
        ]
        assert case["template_id"] == yongzhou["id"] and len(yongzhou["steps"]) == 7

        assert "wrong_role" in str(problem(step(api, cid, "application", township, application_form="x"), 403))
        problem(step(api, cid, "application", token("village_cadre", region=VILLAGE), application_form="x"), 404)
        assert problem(step(api, cid, "county_approval", county), 409)["errors"][0]["code"] == "out_of_order"
        ok(step(api, cid, "application", cadre, application_form=attach(api, cid, cadre)))
        ok(step(api, cid, "group_nomination", cadre, nomination="第三村民小组提名"))
        short_vote = step(api, cid, "representatives_vote", cadre, vote={"for": 2, "against": 1, "abstain": 0})
        assert fields(problem(short_vote, 422)) == {"evidence.vote", "evidence.survey"}
        held = ok(
            step(
                api,
                cid,
                "representatives_vote",
                cadre,
                vote={"for": 18, "against": 2, "abstain": 1},
                survey={"surveyed_by": "驻村工作队"},
            )
        )
        assert held["held_step"] == "representatives_vote"
        [evaluation] = ok(api.get("/api/v1/evaluations", params={"case_id": cid}, headers=county))["items"]
        assert evaluation["verdict"] == "qualifies"
        notice = notice_and_end(api, clock, held, "representatives_vote", YONGZHOU_VILLAGE, cadre)
        assert notice["days"] == 7 and notice["place"].endswith("双拥社区")
        ok(step(api, cid, "committee_check", cadre, opinion="材料齐全"))
        ok(step(api, cid, "township_review", township, opinion="同意"))
        sample = ok(
            api.post(
                "/api/v1/samples",
                json={
                    "kind": "recognition",
                    "step": "county_office_check",
                    "township_code": YONGZHOU_VILLAGE[:9],
                    "year": 2025,
                },
                headers=county,
            ),
            201,
        )
        ok(
            api.post(
                f"/api/v1/samples/{sample['id']}/checks",
                json={"case_id": cid, "passed": True, "note": "复核无误"},
                headers=county,
            ),
            201,
        )
        ok(step(api, cid, "county_office_check", county, opinion="复核通过"))
        assert fields(problem(step(api, cid, "county_approval", county), 422)) == {"evidence.approval"}
        done = ok(step(api, cid, "county_approval", county, approval=attach(api, cid, county)))
        assert (done["status"], done["outcome"]) == ("done", "approved")
        taken = [
            h["step"]
            for h in ok(api.get(f"/api/v1/cases/{cid}/steps", headers=county))["items"]
            if h["action"] == "take"
        ]
        assert taken == [s["key"] for s in yongzhou["steps"]]

        wait_until(
            lambda: reg.get(f"/api/v1/households/{household_id}", headers=county).json()["status"] == "poor",
            what="the registry to follow household.approved over NATS",
        )
        # incidence as of a day: the registry's poor today, less our decisions taken after that day
        figures = {"year": 2025, "agricultural_population": 100}
        ok(api.put(f"/api/v1/villages/{YONGZHOU_VILLAGE}/figures", json=figures, headers=county))
        [today] = ok(api.get("/api/v1/reports/incidence", headers=county))["items"]
        assert (today["poor_population"], today["incidence"]) == (3, "0.0300")
        before = {"as_of": (clock.today() - timedelta(days=1)).isoformat()}
        [then] = ok(api.get("/api/v1/reports/incidence", params=before, headers=county))["items"]
        assert (then["poor_population"], then["incidence"]) == (0, "0.0000")
