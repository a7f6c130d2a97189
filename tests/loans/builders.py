"""Typed builders for loans test data, through the API and the events the service consumes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from shared.clock import FrozenClock
from shared.events.envelope import Envelope
from shared.settings import StackSettings
from tests.support import http
from tests.support.bus import at, decision, publish
from tests.support.procs import wait_until

__all__ = ["COUNTY", "CREDIT_CODE", "OTHER_COUNTY", "TODAY", "VILLAGE", "Loans", "at", "funds_answer", "publish"]

TODAY = datetime(2025, 6, 16, 10, 0)
COUNTY = "522323"
VILLAGE = "522323109001"
OTHER_COUNTY = "522324"
CREDIT_CODE = "91350100M000100Y43"
DECISIONS = {
    "household.approved": ("2025-01-20", "poor"),
    "household.exited": ("2025-03-01", "exited"),
    "household.returned": ("2025-05-01", "poor"),
}


def funds_answer(event_type: str, data: dict[str, Any], when: datetime) -> Envelope:
    """subsidy.paid / compensation.paid as the funds service publishes them (the request's fields, echoed)."""
    return Envelope(
        type=event_type, source="funds", subject=data.get("claim_id") or data["subsidy_id"], time=when, data=data
    )


class Loans:
    """Typed builders over the API for pools, products, households, ratings and loans."""

    def __init__(
        self,
        api: TestClient,
        stack: StackSettings,
        sql: Callable[..., Any],
        officer: dict[str, str],
        county: dict[str, str],
        clock: FrozenClock,
    ) -> None:
        self.api, self.stack, self.sql, self.officer, self.county, self.clock = api, stack, sql, officer, county, clock

    def ok(self, response: Any, status: int = 200) -> dict[str, Any]:
        return http.ok(response, status)

    def pool(self, balance: str = "5000000", multiple: str = "10") -> dict[str, Any]:
        body = {
            "name": "普安县扶贫小额信贷风险补偿金",
            "region_code": COUNTY,
            "bank": "普安农商行",
            "leverage_multiple": multiple,
            "initial_balance": balance,
        }
        return self.ok(self.api.post("/api/v1/pools", json=body, headers=self.county), 201)

    def product(self, pool_id: str, **overrides: Any) -> dict[str, Any]:
        body = {
            "code": "PA-5-3-0",
            "name": "扶贫小额信贷 (5万元以下、3年以内)",
            "bank": "普安农商行",
            "region_code": COUNTY,
            "borrower_kind": "household",
            "min_amount": "1000",
            "max_amount": "50000",
            "max_term_months": 36,
            "rate_basis": "lpr_1y",
            "annual_rate": "4.35",
            "benchmark_rate": "4.35",
            "conventions": {"repayment_method": "equal_installments"},
            "subsidy_coverage": "full",
            "subsidy_mode": "direct_periodic",
            "government_share": "70",
            "pool_id": pool_id,
            "grace_days": 3,
            "penalty_uplift": "50",
            "default_after_days": 90,
            "reminder_days": 3,
            "hotline": "0859-12317",
        } | overrides
        return self.ok(self.api.post("/api/v1/products", json=body, headers=self.officer), 201)

    def household(self, household_id: str | None = None, event: str = "household.approved") -> str:
        """A household whose status comes from identification's decision event over NATS."""
        household_id = household_id or str(uuid.uuid4())
        when, status = DECISIONS[event]
        publish(self.stack, decision(event, household_id, when=when))
        wait_until(
            lambda: self.sql("SELECT status FROM borrower WHERE household_id = :h", h=household_id) == status,
            what=f"the borrower read model to take {event}",
        )
        return household_id

    def rating(self, household_id: str, line: str = "50000") -> dict[str, Any]:
        body = {
            "borrower_kind": "household",
            "household_id": household_id,
            "grade": "AA",
            "line_amount": line,
            "valid_from": "2025-01-01",
            "valid_to": "2027-12-31",
        }
        return self.ok(self.api.post("/api/v1/ratings", json=body, headers=self.officer), 201)

    def apply(
        self, product_id: str, household_id: str, amount: str = "30000", n: int = 12, **extra: Any
    ) -> dict[str, Any]:
        body = {
            "product_id": product_id,
            "borrower_kind": "household",
            "household_id": household_id,
            "borrower_name": "胡华平",
            "id_number": "522323197201150027",
            "phone": "13800001234",
            "purpose": "生猪养殖",
            "voluntary": True,
            "acknowledged_repayable": True,
            "amount": amount,
            "number_of_repayments": n,
        } | extra
        return self.ok(self.api.post("/api/v1/loans", json=body, headers=self.officer), 201)

    def lend(
        self,
        product_id: str,
        household_id: str | None = None,
        *,
        amount: str = "30000",
        n: int = 12,
        disbursed_on: str = "2025-01-16",
        **extra: Any,
    ) -> dict[str, Any]:
        """An approved and disbursed loan to a poor household with a credit line."""
        household_id = household_id or self.household()
        self.rating(household_id)
        loan = self.apply(product_id, household_id, amount, n, **extra)
        self.ok(self.api.post(f"/api/v1/loans/{loan['id']}/approval", json={}, headers=self.officer))
        body = {
            "contract_no": f"PA-{loan['id'][-8:]}",
            "account_no": "6228480012345678901",
            "disbursed_on": disbursed_on,
        }
        return self.ok(self.api.post(f"/api/v1/loans/{loan['id']}/disbursement", json=body, headers=self.officer))

    def schedule(self, loan_id: str) -> list[dict[str, Any]]:
        return self.ok(self.api.get(f"/api/v1/loans/{loan_id}/schedule", params={"limit": 500}, headers=self.officer))[
            "items"
        ]

    def loan(self, loan_id: str) -> dict[str, Any]:
        return self.ok(self.api.get(f"/api/v1/loans/{loan_id}", headers=self.officer))

    def repay(self, loan_id: str, amount: str, paid_on: str, status: int = 201) -> dict[str, Any]:
        body = {"amount": amount, "paid_on": paid_on}
        return self.ok(self.api.post(f"/api/v1/loans/{loan_id}/repayments", json=body, headers=self.officer), status)

    def nightly(self, day: str) -> dict[str, Any]:
        """Run the nightly job for ``day`` through the jobs API (the clock is moved to that day first)."""
        if self.clock.today().isoformat() < day:
            self.clock.set(at(day))
        self.clock.advance(timedelta(seconds=1))  # a re-run's period key is its start time: two must differ
        return self.ok(self.api.post("/api/v1/jobs/nightly/runs", json={"day": day}, headers=self.county), 201)

    def outbox(self, event_type: str) -> list[dict[str, Any]]:
        return [json.loads(p)["data"] for p in self._payloads(event_type)]

    def _payloads(self, event_type: str) -> list[str]:
        rows = self.sql("SELECT count(*) FROM outbox WHERE event_type = :t", t=event_type)
        return [
            self.sql(
                "SELECT payload FROM outbox WHERE event_type = :t ORDER BY created_at, event_id LIMIT 1 OFFSET :o",
                t=event_type,
                o=i,
            )
            for i in range(rows)
        ]
