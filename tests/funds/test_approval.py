"""Project approval on the shared workflow engine: order, roles, evidence, the village notice, variants, shares."""

from __future__ import annotations

import pytest

from tests.funds.flows import API, STEPS, VILLAGE, approve, headers_for, make_budget, ok, run_notice_period

pytestmark = pytest.mark.integration
CADRE = headers_for("village_cadre", VILLAGE, "cadre-xiajie")
TOWNSHIP = headers_for("township_reviewer", VILLAGE[:9], "township-qingshan")


def new_project(api, county, budget, *, kind="industry", direct=True, amount="10000.00", region=VILLAGE) -> dict:
    return ok(
        api.post(
            f"{API}/projects",
            headers=CADRE if region == VILLAGE else county,
            json={
                "name": "项目",
                "kind": kind,
                "region_code": region,
                "year": 2025,
                "direct_to_households": direct,
                "lines": [{"budget_id": budget["id"], "planned_amount": amount}],
            },
        )
    )


def step(api, project, key, headers, **extra):
    evidence = next(e for k, _, _, e in STEPS if k == key)
    return api.post(
        f"{API}/projects/{project['id']}/steps", headers=headers, json={"step": key, "evidence": evidence} | extra
    )


def test_steps_in_order_with_roles_evidence_and_notice(api, county, sql):
    _, budget = make_budget(api, county)
    project = new_project(api, county, budget)
    assert (project["status"], project["next_step"]) == ("bank", "application")
    assert step(api, project, "village_review", CADRE).status_code == 409  # out of order
    response = api.post(f"{API}/projects/{project['id']}/steps", headers=CADRE, json={"step": "application"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "evidence.application"
    ok(step(api, project, "application", CADRE), 200)
    assert step(api, project, "village_review", TOWNSHIP).status_code == 403  # wrong role
    held = ok(step(api, project, "village_review", CADRE), 200)["project"]
    assert (held["workflow_status"], held["held_step"]) == ("held", "village_review")
    assert step(api, project, "township_check", TOWNSHIP).status_code == 409  # the notice is running
    objection = {"objector": "王五", "content": "村民反映受益户名单不公"}
    ok(api.post(f"{API}/projects/{project['id']}/objections", json=objection, headers=CADRE))
    run_notice_period(api, held)
    back = ok(api.get(f"{API}/projects/{project['id']}", headers=county), 200)
    assert back["next_step"] == "village_review"
    again = ok(step(api, project, "village_review", CADRE), 200)["project"]
    run_notice_period(api, again)
    ok(step(api, project, "township_check", TOWNSHIP), 200)
    assert step(api, project, "county_approval", TOWNSHIP).status_code == 403
    done = ok(step(api, project, "county_approval", county), 200)["project"]
    assert (done["status"], done["workflow_status"], done["approved_by"]) == ("approved", "done", "county-finance")
    history = ok(api.get(f"{API}/projects/{project['id']}/steps", headers=county), 200)["items"]
    assert [(h["action"], h["step"]) for h in history] == [
        ("take", "application"),
        ("take", "village_review"),
        ("objected", "village_review"),
        ("take", "village_review"),
        ("release", "village_review"),
        ("take", "township_check"),
        ("take", "county_approval"),
    ]
    assert history[-1]["role"] == "county_office" and history[-1]["evidence"]["decision_no"]
    assert sql("SELECT count(*) FROM outbox WHERE event_type = 'project.approved'") == 1
    assert sql("SELECT count(*) FROM audit_log WHERE action LIKE 'project.step.%'") == 7


def test_township_rejects_and_sends_back(api, county):
    _, budget = make_budget(api, county)
    project = new_project(api, county, budget)
    ok(step(api, project, "application", CADRE), 200)
    run_notice_period(api, ok(step(api, project, "village_review", CADRE), 200)["project"])
    back = ok(
        api.post(
            f"{API}/projects/{project['id']}/send-back",
            headers=TOWNSHIP,
            json={"to_step": "village_review", "reason": "会议记录不全"},
        ),
        200,
    )
    assert back["next_step"] == "village_review"
    run_notice_period(api, ok(step(api, project, "village_review", CADRE), 200)["project"])
    rejected = ok(step(api, project, "township_check", TOWNSHIP, reject=True, comment="非贫困户受益"), 200)
    assert rejected["project"]["status"] == "rejected"
    assert step(api, project, "county_approval", county).status_code == 409


def test_share_breach_needs_acknowledging(api, county):
    _, budget = make_budget(api, county)
    road = new_project(api, county, budget, kind="infrastructure", amount="50000.00")
    response = api.post(f"{API}/projects/{road['id']}/steps", json={})
    assert response.status_code == 401
    for key, *_ in STEPS[:3]:
        who = CADRE if key != "township_check" else TOWNSHIP
        taken = ok(step(api, road, key, who), 200)
        if key == "village_review":
            run_notice_period(api, taken["project"])
    shares = ok(api.get(f"{API}/projects/{road['id']}/shares", headers=county), 200)
    assert next(s for s in shares if s["code"] == "industry_share")["breached"]
    refused = step(api, road, "county_approval", county)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "share_rule:industry_share"
    approved = ok(step(api, road, "county_approval", county, acknowledge_warnings=True), 200)
    assert [w["code"] for w in approved["warnings"]] == ["industry_share"]


def test_a_jurisdiction_publishes_its_own_variant(api, county, token):
    variant = {
        "code": "project_approval",
        "label": "青山镇简易程序",
        "jurisdiction": VILLAGE[:9],
        "effective_from": "2025-01-01",
        "steps": [
            {"key": "application", "label": "村申报", "roles": ["village_cadre"], "level": "village"},
            {
                "key": "county_approval",
                "label": "县审批",
                "roles": ["county_office"],
                "level": "county",
                "tags": ["approve"],
            },
        ],
    }
    other = token("county_office", region="522324")
    assert api.post(f"{API}/project-templates", json=variant, headers=other).status_code == 403
    ok(api.post(f"{API}/project-templates", json=variant, headers=county))
    _, budget = make_budget(api, county)
    project = new_project(api, county, budget)
    ok(api.post(f"{API}/projects/{project['id']}/steps", headers=CADRE, json={"step": "application"}), 200)
    done = ok(
        api.post(
            f"{API}/projects/{project['id']}/steps",
            headers=county,
            json={"step": "county_approval", "acknowledge_warnings": True},
        ),
        200,
    )
    assert done["project"]["status"] == "approved"
    elsewhere = new_project(api, county, budget, region="522323101001")
    assert elsewhere["next_step"] == "application"
    assert approve(api, elsewhere)["project"]["status"] == "approved"
