"""Typed builders for funds test data, through the API: a source, a budget with money, an approved project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1"
VILLAGE = "522323109001"


def ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


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
    ok(api.post(f"{API}/projects/{project['id']}/approve", json={"acknowledge_warnings": True}, headers=headers), 200)
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
