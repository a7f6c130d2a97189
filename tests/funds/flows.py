"""Typed builders for funds test data, through the API: a source, a budget with money, an approved project."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from shared.auth import issue_token
from shared.settings import StackSettings
from tests.support import http

API = "/api/v1"
VILLAGE = "522323109001"


def headers_for(role: str, region: str, subject: str) -> dict[str, str]:
    settings = StackSettings(jwt_secret=os.environ["FUPIN_JWT_SECRET"])
    return {"Authorization": f"Bearer {issue_token(settings, subject=subject, roles=[role], region=region)}"}


STEPS = [
    ("application", "village_cadre", 12, {"application": "村民申请发展肉牛养殖"}),
    (
        "village_review",
        "village_cadre",
        12,
        {"minutes": "村民代表会议同意", "vote": {"for": 21, "against": 0, "abstain": 1}},
    ),
    ("township_check", "township_reviewer", 9, {"opinion": "符合条件，同意上报"}),
    ("county_approval", "county_office", 6, {"decision_no": "普扶领〔2025〕3号"}),
]


def approve(api: TestClient, project: dict[str, Any], *, acknowledge: bool = True) -> dict[str, Any]:
    """Take every step of the default approval template; the village notice runs its period without objection
    and the periodic job ends it (the clock moves to the notice's end)."""
    region = project["region_code"]
    result: dict[str, Any] = {}
    for key, role, digits, evidence in STEPS:
        who = headers_for(role, region[:digits], f"{role}-1")
        body = {"step": key, "evidence": evidence, "acknowledge_warnings": acknowledge}
        result = ok(api.post(f"{API}/projects/{project['id']}/steps", json=body, headers=who), 200)
        if key == "village_review":
            assert "project-notices:" in " ".join(run_notice_period(api, result["project"]))
    return result


def run_notice_period(api: TestClient, project: dict[str, Any]) -> list[str]:
    """Move the frozen clock to the end of the project's running notice and tick the periodic jobs."""
    runtime = api.app.state.runtime  # type: ignore[attr-defined]
    clock = runtime.db.clock
    clock.advance(max(datetime.fromisoformat(project["notice_ends_at"]) - clock.now(), timedelta(0)))
    return list(runtime.periodic.tick())


def ok(response: Any, status: int = 201) -> Any:
    """The body of a response that must have ``status`` (201 Created unless told)."""
    return http.ok(response, status)


@dataclass
class Funded:
    source: dict[str, Any]
    budget: dict[str, Any]
    project: dict[str, Any]

    @property
    def line(self) -> dict[str, Any]:
        return self.project["lines"][0]


def make_budget(
    api: TestClient,
    headers: dict[str, str],
    *,
    arrived: str = "100000.00",
    kind: str = "fiscal_poverty",
    level: str = "central",
    year: int = 2025,
    planned: str = "100000.00",
) -> tuple[dict, dict]:
    source = ok(
        api.post(
            f"{API}/sources",
            json={"name": f"{level} {kind}", "kind": kind, "level": level, "region_code": "522323"},
            headers=headers,
        )
    )
    budget = ok(
        api.post(
            f"{API}/budgets",
            json={
                "source_id": source["id"],
                "year": year,
                "name": "第一批",
                "region_code": "522323",
                "planned_amount": planned,
                "expected_by": "2025-03-31",
            },
            headers=headers,
        )
    )
    if arrived != "0":
        ok(
            api.post(
                f"{API}/budgets/{budget['id']}/arrivals",
                json={"amount": arrived, "arrived_on": "2025-04-02"},
                headers=headers,
            )
        )
    return source, budget


def make_project(
    api: TestClient,
    headers: dict[str, str],
    *,
    kind: str = "industry",
    planned: str = "50000.00",
    allocate: str | None = "50000.00",
    households: tuple[str, ...] = (),
    region: str = VILLAGE,
    budget: dict | None = None,
    source: dict | None = None,
    to_poor_only: bool = True,
    building_cost: str | None = None,
    direct: bool = True,
    **budget_kw: Any,
) -> Funded:
    """A project with one line on a funded budget, approved and allocated, with its beneficiaries."""
    if budget is None:
        source, budget = make_budget(api, headers, **budget_kw)
    project = ok(
        api.post(
            f"{API}/projects",
            json={
                "name": "产业奖补",
                "kind": kind,
                "region_code": region,
                "year": 2025,
                "direct_to_households": direct,
                "to_poor_only": to_poor_only,
                "lines": [{"budget_id": budget["id"], "planned_amount": planned}],
            },
            headers=headers,
        )
    )
    approve(api, project)
    if allocate:
        ok(
            api.post(
                f"{API}/projects/{project['id']}/allocations",
                json={"line_id": project["lines"][0]["id"], "amount": allocate},
                headers=headers,
            )
        )
    for household in households:
        ok(
            api.post(
                f"{API}/projects/{project['id']}/beneficiaries",
                json={"household_id": household, "building_cost": building_cost},
                headers=headers,
            )
        )
    project = ok(api.get(f"{API}/projects/{project['id']}", headers=headers), 200)
    return Funded(source or {}, budget, project)


def payment_body(line_id: str, household: str, amount: str = "3000.00", **extra: Any) -> dict[str, Any]:
    return {
        "line_id": line_id,
        "payee_household_id": household,
        "payee_name": "张三",
        "account_number": "6217002870012345678",
        "bank_name": "普安县农村信用社",
        "amount": amount,
        "purpose": "产业奖补",
        "pay_date": "2025-06-16",
    } | extra
