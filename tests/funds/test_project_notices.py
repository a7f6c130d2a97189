"""A project's village notice (公示) ends by itself: the periodic job on the frozen clock, once, objections counted."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shared.clock import SHANGHAI
from tests.funds.conftest import OTHER_TOWNSHIP_VILLAGE
from tests.funds.flows import API, STEPS, VILLAGE, headers_for, make_budget, ok, run_notice_period
from tests.support.http import problem

pytestmark = pytest.mark.integration
CADRE = headers_for("village_cadre", VILLAGE, "cadre-xiajie")
TOWNSHIP = headers_for("township_reviewer", VILLAGE[:9], "township-qingshan")
OTHER_CADRE = headers_for("village_cadre", OTHER_TOWNSHIP_VILLAGE[:9], "cadre-elsewhere")
ENDS = datetime(2025, 6, 25, 10, 0, tzinfo=SHANGHAI)  # posted Monday 16 June 10:00, 7 working days


def held_project(api, county) -> dict:
    """A project whose village review was taken now (Monday 2025-06-16 10:00): its notice is running."""
    _, budget = make_budget(api, county)
    project = ok(
        api.post(
            f"{API}/projects",
            headers=CADRE,
            json={
                "name": "肉牛养殖",
                "kind": "industry",
                "region_code": VILLAGE,
                "year": 2025,
                "lines": [{"budget_id": budget["id"], "planned_amount": "10000.00"}],
            },
        )
    )
    for key, _, _, evidence in STEPS[:2]:
        taken = ok(
            api.post(f"{API}/projects/{project['id']}/steps", headers=CADRE, json={"step": key, "evidence": evidence}),
            200,
        )
    return taken["project"]


def tick(api) -> list[str]:
    return [p for p in api.app.state.runtime.periodic.tick() if p.startswith("project-notices:")]


def actions(api, project, county) -> list[tuple[str, str, str]]:
    history = ok(api.get(f"{API}/projects/{project['id']}/steps", headers=county), 200)["items"]
    return [(h["action"], h["step"], h["actor"]) for h in history]


def test_not_ended_before_its_period_ended_after_and_a_rerun_does_nothing(api, county, clock, sql):
    project = held_project(api, county)
    assert datetime.fromisoformat(project["notice_ends_at"]) == ENDS
    clock.advance(ENDS - clock.now() - timedelta(seconds=1))
    assert tick(api)  # the job ran, and ended nothing
    assert ok(api.get(f"{API}/projects/{project['id']}", headers=county), 200)["workflow_status"] == "held"
    assert problem(
        api.post(f"{API}/projects/{project['id']}/steps", headers=TOWNSHIP, json={"step": "township_check"}), 409
    )

    clock.advance(timedelta(seconds=1))
    assert tick(api)
    after = ok(api.get(f"{API}/projects/{project['id']}", headers=county), 200)
    assert (after["workflow_status"], after["next_step"], after["notice_ends_at"]) == ("open", "township_check", None)
    assert actions(api, project, county)[-1] == ("release", "village_review", "system:notice-period")

    assert tick(api) == []  # this minute's period is done
    rerun = ok(api.post(f"{API}/jobs/project-notices/runs", json={"day": "2025-06-16"}, headers=county))
    assert rerun["day"] == "2025-06-16"
    assert len(actions(api, project, county)) == 3
    assert sql("SELECT detail FROM job_run WHERE job = 'project-notices' AND period_kind = 'rerun'") == (
        "ended 0 project notice(s)"
    )


def test_an_objection_during_the_notice_sends_the_project_back_for_re_review(api, county, clock):
    project = held_project(api, county)
    url = f"{API}/projects/{project['id']}/objections"
    body = {"objector": "王五", "content": "受益户名单中有非贫困户"}
    assert problem(api.post(url, json=body, headers=OTHER_CADRE), 404)  # another township: as if it did not exist
    assert api.get(url, headers=OTHER_CADRE).status_code == 404
    assert (
        problem(api.post(url, json={"objector": "王五", "content": " "}, headers=CADRE), 422)["errors"][0]["field"]
        == "content"
    )
    filed = ok(api.post(url, json=body, headers=CADRE))
    assert datetime.fromisoformat(filed["notice_ends_at"]) == ENDS and filed["step"] == "village_review"

    run_notice_period(api, project)
    back = ok(api.get(f"{API}/projects/{project['id']}", headers=county), 200)
    assert (back["workflow_status"], back["next_step"]) == ("open", "village_review")
    history = ok(api.get(f"{API}/projects/{project['id']}/steps", headers=county), 200)["items"]
    assert history[-1]["action"] == "objected" and "受益户名单中有非贫困户" in history[-1]["comment"]
    assert problem(api.post(url, json=body, headers=CADRE), 409)  # no notice is running

    evidence = STEPS[1][3]
    again = ok(
        api.post(
            f"{API}/projects/{project['id']}/steps",
            headers=CADRE,
            json={"step": "village_review", "evidence": evidence},
        ),
        200,
    )["project"]
    assert datetime.fromisoformat(again["notice_ends_at"]) > ENDS
    run_notice_period(api, again)  # the first notice's objection does not count against the second
    assert ok(api.get(f"{API}/projects/{project['id']}", headers=county), 200)["next_step"] == "township_check"
    assert [o["id"] for o in ok(api.get(url, headers=county), 200)["items"]] == [filed["id"]]


def test_an_objection_after_the_period_is_refused_and_nobody_ends_a_notice_early(api, county, clock):
    project = held_project(api, county)
    clock.advance(ENDS - clock.now())
    late = api.post(
        f"{API}/projects/{project['id']}/objections", json={"objector": "王五", "content": "迟到"}, headers=CADRE
    )
    assert problem(late, 409)
    gone = api.post(f"{API}/projects/{project['id']}/notice-end", json={}, headers=county)
    assert gone.status_code in (404, 405)
    assert ok(api.get(f"{API}/projects/{project['id']}", headers=county), 200)["workflow_status"] == "held"


def test_a_project_cancelled_during_its_notice_is_left_as_it_stood(api, county, clock):
    project = held_project(api, county)
    ok(
        api.post(
            f"{API}/projects/{project['id']}/status", json={"status": "cancelled", "note": "群众不同意"}, headers=county
        ),
        200,
    )
    objection = {"objector": "王五", "content": "项目已取消"}
    assert problem(api.post(f"{API}/projects/{project['id']}/objections", json=objection, headers=CADRE), 409)
    run_notice_period(api, project)
    after = ok(api.get(f"{API}/projects/{project['id']}", headers=county), 200)
    assert (after["status"], after["workflow_status"]) == ("cancelled", "held")
    assert actions(api, project, county)[-1][0] == "take"
