"""Loans fixtures: the app in-process on the test's backend with a frozen clock, tokens, and builders."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from services.loans.main import create_app
from shared.clock import SHANGHAI, FrozenClock
from shared.events.bus import connect, ensure_streams
from shared.events.envelope import Envelope
from shared.settings import StackSettings
from tests.support.procs import wait_until

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


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
def loans_url(database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch) -> str:
    url = database_url("loans")
    monkeypatch.setenv("FUPIN_LOANS_DATABASE_URL", url)
    monkeypatch.setenv("FUPIN_LOANS_RUN_JOBS", "false")  # the tests run the nightly job for the day they choose
    return url


@pytest.fixture
def api(loans_url: str, stack: StackSettings, clock: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(stack=stack, clock=clock)) as client:
        yield client


@pytest.fixture
def sql(loans_url: str) -> Iterator[Callable[..., Any]]:
    engine = create_engine(loans_url)

    def run(statement: str, **params: Any) -> Any:
        with engine.connect() as conn:
            return conn.execute(text(statement), params).scalar()

    yield run
    engine.dispose()


@pytest.fixture
def officer(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("bank_officer", region=COUNTY, subject="officer-wang")


@pytest.fixture
def county(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("county_office", region=COUNTY, subject="county-finance")


@pytest.fixture
def cadre(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("village_cadre", region=VILLAGE, subject="cadre-xiajie")


@pytest.fixture
def outsider(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token("bank_officer", "county_office", region=OTHER_COUNTY, subject="officer-elsewhere")


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=SHANGHAI)


def publish(stack: StackSettings, *events: Envelope) -> None:
    """Publish events on the real bus, as their producers do (Nats-Msg-Id = event id)."""

    async def send() -> None:
        nc = await connect(stack, name="loans-test-producer")
        js = nc.jetstream()
        await ensure_streams(js, stack)
        for event in events:
            await js.publish(event.nats_subject, event.model_dump_json().encode(), headers={"Nats-Msg-Id": event.id})
        await nc.close()

    asyncio.run(send())


def decision(event_type: str, household_id: str, when: datetime, region: str = VILLAGE) -> Envelope:
    """household.approved / exited / returned as identification publishes them."""
    return Envelope(
        type=event_type,
        source="identification",
        subject=household_id,
        time=when,
        data={"household_id": household_id, "region_code": region, "year": when.year, "case_id": str(uuid.uuid4())},
    )


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
        assert response.status_code == status, response.text
        return response.json()

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
        publish(self.stack, decision(event, household_id, at(when)))
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
        import json

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


@pytest.fixture
def loans(
    api: TestClient,
    stack: StackSettings,
    sql: Callable[..., Any],
    officer: dict[str, str],
    county: dict[str, str],
    clock: FrozenClock,
) -> Loans:
    return Loans(api, stack, sql, officer, county, clock)
