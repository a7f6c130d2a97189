"""Built-in templates end to end through the API with the right roles; refusals; notices; NATS to the registry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.clock import FrozenClock
from tests.identification.conftest import (
    OTHER_VILLAGE,
    VILLAGE,
    declare_income,
    register,
)
from tests.support.http import ok, problem
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
RULES = {
    "jurisdiction": "522323",
    "year": 2025,
    "poverty_line": "2736",
    "local_average_income": "6845",
    "new_house_cutoff_year": 2013,
}
VOTE = {"for": 20, "against": 1, "abstain": 0}


def attach(api: Any, case_id: str, headers: dict[str, str]) -> str:
    files = {"file": ("form.png", PNG, "image/png")}
    return ok(api.post(f"/api/v1/cases/{case_id}/attachments", files=files, headers=headers), 201)["id"]


def step(api: Any, case_id: str, key: str, headers: dict[str, str], **evidence: Any) -> Any:
    return api.post(f"/api/v1/cases/{case_id}/steps", json={"step": key, "evidence": evidence}, headers=headers)


def notice_and_end(
    api: Any, clock: FrozenClock, case: dict[str, Any], key: str, region: str, headers: dict[str, str]
) -> dict[str, Any]:
    notice = ok(
        api.post("/api/v1/notices", json={"kind": case["kind"], "step": key, "region_code": region}, headers=headers),
        201,
    )
    clock.advance(timedelta(days=notice["days"], minutes=1))
    api.app.state.runtime.periodic.tick()
    return notice


def fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


class TestRecognitionEightSteps:
    def test_end_to_end_with_refusals_and_the_registry_following_over_nats(
        self, api, reg, clock, county, township, cadre, token
    ):
        ok(api.post("/api/v1/rule-sets", json=RULES, headers=county), 201)
        household_id = register(reg, county)
        declare_income(reg, county, household_id, 2025, "6000")
        case = ok(
            api.post("/api/v1/cases", json={"kind": "recognition", "household_id": household_id}, headers=cadre), 201
        )
        cid = case["id"]
        assert (case["template_version"], case["next_step"]["key"]) == (1, "application")

        # refusals: wrong role, another village (404, never leaks), wrong order, missing evidence
        assert "wrong_role" in str(problem(step(api, cid, "application", township, application_form="x"), 403))
        other = token("village_cadre", region=OTHER_VILLAGE)
        problem(step(api, cid, "application", other, application_form="x"), 404)
        assert problem(step(api, cid, "survey", cadre, survey={"surveyed_by": "x"}), 409)["errors"][0]["code"] == (
            "out_of_order"
        )
        assert fields(problem(step(api, cid, "application", cadre), 422)) == {"evidence.application_form"}
        assert fields(problem(step(api, cid, "application", cadre, application_form="nope"), 422)) == {"evidence"}

        ok(step(api, cid, "application", cadre, application_form=attach(api, cid, cadre)))
        assert problem(step(api, cid, "application", cadre, application_form="x"), 409)["errors"][0]["code"] == (
            "already_taken"
        )
        held = ok(step(api, cid, "group_review", cadre, minutes=[attach(api, cid, cadre)], attendance=12, vote=VOTE))
        assert (held["status"], held["held_step"]) == ("held", "group_review")
        problem(step(api, cid, "survey", cadre, survey={"surveyed_by": "x"}), 409)
        notice_and_end(api, clock, held, "group_review", VILLAGE, cadre)

        surveyed = ok(step(api, cid, "survey", cadre, survey={"surveyed_by": "张干部"}))
        [evaluation] = ok(api.get("/api/v1/evaluations", params={"case_id": cid}, headers=county))["items"]
        assert (evaluation["verdict"], evaluation["rule_set_version"]) == ("qualifies", 1)
        assert any(r["code"] == "四进-1" and r["outcome"] == "met" for r in evaluation["reasons"])
        member = evaluation["snapshot"]["household"]["members"][0]
        assert "*" in member["id_number"] and evaluation["snapshot"]["incomes"][0]["year"] == 2025
        assert surveyed["next_step"]["key"] == "village_review"

        ok(step(api, cid, "village_review", cadre, minutes=[attach(api, cid, cadre)], attendance=30, vote=VOTE))
        notice_and_end(api, clock, held, "village_review", VILLAGE, cadre)
        ok(step(api, cid, "township_review", township, opinion="同意"))

        assert problem(step(api, cid, "county_comparison", county, comparison="无疑点"), 422)["errors"][0]["code"] == (
            "sample_missing"
        )
        sample = ok(
            api.post(
                "/api/v1/samples",
                json={
                    "kind": "recognition",
                    "step": "county_comparison",
                    "township_code": VILLAGE[:9],
                    "year": 2025,
                    "seed": 7,
                },
                headers=county,
            ),
            201,
        )
        assert sample["sampled_case_ids"] == [cid] and sample["seed"] == 7
        problem(step(api, cid, "county_comparison", county, comparison="无疑点"), 422)
        ok(
            api.post(
                f"/api/v1/samples/{sample['id']}/checks",
                json={"case_id": cid, "passed": True, "note": "核实无误"},
                headers=county,
            ),
            201,
        )
        ok(step(api, cid, "county_comparison", county, comparison="无疑点"))
        ok(step(api, cid, "data_entry", county, entered_by="录入员"))
        done = ok(step(api, cid, "announcement", county, channel="普安县人民政府网"))
        assert (done["status"], done["outcome"]) == ("done", "approved")

        first_page = ok(api.get(f"/api/v1/cases/{cid}/steps", params={"limit": 3}, headers=county))
        rest = ok(api.get(f"/api/v1/cases/{cid}/steps", params={"cursor": first_page["next_cursor"]}, headers=county))
        history = first_page["items"] + rest["items"]
        assert len(first_page["items"]) == 3 and rest["next_cursor"] is None
        assert [h["step"] for h in history if h["action"] == "take"] == [
            "application",
            "group_review",
            "survey",
            "village_review",
            "township_review",
            "county_comparison",
            "data_entry",
            "announcement",
        ]
        assert {h["role"] for h in history if h["action"] == "take"} == {
            "village_cadre",
            "township_reviewer",
            "county_office",
        }
        assert all(h["at"] and h["actor"] for h in history)

        status = wait_until(
            lambda: (
                (h := reg.get(f"/api/v1/households/{household_id}", headers=county).json())["status"] == "poor" and h
            ),
            what="the registry to follow household.approved over NATS",
        )
        assert (status["identified_year"], status["status_case_id"]) == (2025, cid)

        exit_case = api.post("/api/v1/cases", json={"kind": "exit", "household_id": household_id}, headers=cadre)
        assert problem(exit_case, 422)["errors"][0]["code"] == "三不出-3"


class TestRegistryDown:
    def test_an_evaluating_step_is_a_503_and_nothing_moves(self, api, reg, registry, clock, county, cadre):
        ok(api.post("/api/v1/rule-sets", json=RULES, headers=county), 201)
        household_id = register(reg, county)
        cid = ok(
            api.post("/api/v1/cases", json={"kind": "recognition", "household_id": household_id}, headers=cadre), 201
        )["id"]
        ok(step(api, cid, "application", cadre, application_form=attach(api, cid, cadre)))
        held = ok(step(api, cid, "group_review", cadre, minutes=[attach(api, cid, cadre)], attendance=12, vote=VOTE))
        notice_and_end(api, clock, held, "group_review", VILLAGE, cadre)
        registry.stop()
        body = problem(step(api, cid, "survey", cadre, survey={"surveyed_by": "张干部"}), 503)
        assert body["code"] == "service_unavailable"
        assert ok(api.get(f"/api/v1/cases/{cid}", headers=cadre))["next_step"]["key"] == "survey"
        assert ok(api.get("/api/v1/evaluations", params={"case_id": cid}, headers=county))["items"] == []
