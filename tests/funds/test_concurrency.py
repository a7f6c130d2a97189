"""No account below zero under parallel requests: the accounts are locked (SELECT … FOR UPDATE) before the check."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.ids import new_id
from tests.funds.flows import API, make_budget, make_project, ok, payment_body

pytestmark = pytest.mark.integration
PARALLEL = 12


@pytest.fixture
def backend() -> str:
    return "postgres"


def test_parallel_allocations_never_overdraw_the_budget(api, county):
    source, budget = make_budget(api, county, arrived="1000.00")
    funded = make_project(api, county, budget=budget, source=source, planned="1000.00", allocate=None)

    def allocate(_: int) -> int:
        return api.post(
            f"{API}/projects/{funded.project['id']}/allocations",
            json={"line_id": funded.line["id"], "amount": "300.00"},
            headers=county,
        ).status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(allocate, range(PARALLEL)))
    assert sorted(statuses) == [201] * 3 + [409] * (PARALLEL - 3)
    assert ok(api.get(f"{API}/budgets/{budget['id']}", headers=county), 200)["available"] == "100.00"
    assert ok(api.get(f"{API}/accounts/{funded.line['account_id']}", headers=county), 200)["balance"] == "900.00"


def test_parallel_subsidy_payments_hold_once_per_period(api, county):
    household = new_id()
    funded = make_project(api, county, kind="education", households=(household,), to_poor_only=False)
    batch = ok(api.post(f"{API}/disbursements", json={"project_id": funded.project["id"]}, headers=county))
    body = payment_body(funded.line["id"], household, subsidy_code="yulu", period="2025")

    def pay(_: int) -> int:
        return api.post(f"{API}/disbursements/{batch['id']}/payments", json=body, headers=county).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(pay, range(8)))
    assert statuses.count(201) == 1
    assert set(statuses) <= {201, 409, 422}
