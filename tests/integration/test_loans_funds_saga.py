"""The loans saga end to end: the loans and funds services side by side on one real NATS, each relaying its outbox
and consuming the other's events. A defaulted loan's claim is paid from funds' pool, the loan is compensated, and a
later recovery the bank records in loans flows back into funds' pool once: the two views of the pool agree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.funds.main import create_app as create_funds
from services.loans.main import create_app as create_loans
from shared.clock import FrozenClock
from shared.settings import StackSettings
from tests.funds.flows import make_budget
from tests.loans.builders import COUNTY, TODAY, Loans
from tests.support.http import ok
from tests.support.procs import wait_until
from tests.support.sql import Sql

pytestmark = pytest.mark.integration
F = "/api/v1"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
def both(
    service_database: Callable[..., str], stack: StackSettings, clock: FrozenClock, token: Callable[..., Any]
) -> Iterator[tuple[Loans, TestClient, Sql]]:
    loans_url = service_database("loans", run_jobs=False)
    funds_url = service_database("funds", run_jobs=False)
    officer = token("bank_officer", region=COUNTY, subject="officer-wang")
    county = token("county_office", region=COUNTY, subject="county-finance")
    with (
        TestClient(create_loans(stack=stack, clock=clock)) as loans_api,
        TestClient(create_funds(stack=stack, clock=clock)) as funds_api,
        Sql(loans_url) as loans_sql,
        Sql(funds_url) as funds_sql,
    ):
        yield Loans(loans_api, stack, loans_sql, officer, county, clock), funds_api, funds_sql


def test_a_claim_paid_by_funds_and_a_recovery_flow_between_the_services_once(
    both: tuple[Loans, TestClient, Sql],
) -> None:
    loans, funds, funds_sql = both
    county, officer = loans.county, loans.officer
    pool = loans.pool(balance="100000")
    _, budget = make_budget(funds, county, kind="risk_pool", level="county", arrived="100000.00")
    ok(
        funds.post(f"{F}/pools", headers=county, json={"id": pool["id"], "name": pool["name"], "region_code": COUNTY}),
        201,
    )
    ok(
        funds.post(
            f"{F}/pools/{pool['id']}/contributions",
            headers=county,
            json={"from_account_id": budget["account_id"], "amount": "100000.00", "memo": "注资"},
        ),
        201,
    )
    loan = loans.lend(loans.product(pool["id"])["id"], amount="30000", disbursed_on="2024-12-16")
    loans.nightly("2025-06-16")
    claim = ok(loans.api.post(f"{F}/loans/{loan['id']}/default", json={"reason": "逾期超过90天"}, headers=officer), 201)

    wait_until(lambda: loans.loan(loan["id"])["status"] == "compensated", what="compensation.paid back in loans")

    def funds_pool() -> str:
        [only] = ok(funds.get(f"{F}/pools", headers=county))["items"]
        return str(only["balance"])

    assert funds_pool() == "79000.00"  # 30,000 × the government's 70 %
    assert ok(loans.api.get(f"{F}/pools/{pool['id']}", headers=county))["balance"] == "79000.00"

    recovery = loans.api.post(
        f"{F}/loans/{loan['id']}/recoveries", json={"amount": "1000", "paid_on": "2025-06-16"}, headers=officer
    )
    assert recovery.status_code == 201, recovery.text
    wait_until(lambda: funds_pool() == "79700.00", what="loan.recovered in funds' pool")
    assert ok(loans.api.get(f"{F}/pools/{pool['id']}", headers=county))["balance"] == "79700.00"  # the same view
    requests = ok(funds.get(f"{F}/loan-requests", headers=county, params={"loan_id": loan["id"]}))["items"]
    assert sorted((r["kind"], r["status"], r["amount"]) for r in requests) == [
        ("compensation", "paid", claim["amount"]),
        ("recovery", "recorded", "700.00"),
    ]
    assert funds_sql("SELECT count(*) FROM ledger_transaction WHERE kind = 'recovery'") == 1
