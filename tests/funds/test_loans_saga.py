"""The loans saga over real NATS: requests published as the loans service publishes them, each paid once."""

from __future__ import annotations

import json

import pytest

from shared.ids import new_id
from tests.funds.flows import API, make_budget, ok
from tests.support.bus import event, publish
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration


def subsidy_due(loan_id: str, amount: str, subsidy_id: str | None = None):
    data = {
        "subsidy_id": subsidy_id or new_id(),
        "loan_id": loan_id,
        "period_start": "2025-03-21",
        "period_end": "2025-06-20",
        "amount": amount,
    }
    return event("loan.subsidy_due", loan_id, data, when="2025-06-21", source="loans")


def compensation_requested(loan_id: str, pool_id: str, amount: str):
    data = {"claim_id": new_id(), "loan_id": loan_id, "pool_id": pool_id, "amount": amount}
    return event("loan.compensation_requested", loan_id, data, when="2025-06-21", source="loans")


def recovered(claim, amount: str, recovery_id: str | None = None, pool_id: str | None = None):
    data = {
        "recovery_id": recovery_id or new_id(),
        "claim_id": claim.data["claim_id"],
        "loan_id": claim.data["loan_id"],
        "pool_id": pool_id or claim.data["pool_id"],
        "amount": amount,
        "recovered_on": "2025-06-25",
        "region_code": "522323109001",
    }
    return event("loan.recovered", claim.data["loan_id"], data, when="2025-06-25", source="loans")


def answers(sql, event_type: str) -> list[dict]:
    count = sql("SELECT count(*) FROM outbox WHERE event_type = :t", t=event_type)
    return [
        json.loads(
            sql(
                "SELECT payload FROM outbox WHERE event_type = :t ORDER BY created_at LIMIT 1 OFFSET :o",
                t=event_type,
                o=i,
            )
        )["data"]
        for i in range(count)
    ]


def test_subsidy_paid_once_even_when_redelivered(api, county, stack, sql):
    _, budget = make_budget(api, county, kind="interest_subsidy", level="county", arrived="500.00")
    loan = new_id()
    due = subsidy_due(loan, "120.50")
    republished = subsidy_due(loan, "120.50", subsidy_id=due.data["subsidy_id"])
    publish(stack, due, due, republished, msg_ids=[due.id, new_id(), republished.id])
    wait_until(lambda: sql("SELECT count(*) FROM inbox WHERE consumer = 'funds-loans'") == 2, what="consumed")
    paid = answers(sql, "subsidy.paid")
    assert len(paid) == 1 and paid[0]["subsidy_id"] == due.data["subsidy_id"] and paid[0]["amount"] == "120.50"
    assert ok(api.get(f"{API}/budgets/{budget['id']}", headers=county), 200)["available"] == "379.50"
    wait_until(
        lambda: sql("SELECT count(*) FROM outbox WHERE event_type = 'subsidy.paid' AND sent_at IS NOT NULL"),
        what="subsidy.paid relayed to NATS",
    )

    short = subsidy_due(loan, "400.00")
    publish(stack, short)
    wait_until(lambda: answers(sql, "subsidy.short"), what="short answered")
    said = answers(sql, "subsidy.short")[0]
    assert (said["reason"], said["available"]) == ("budget_short", "379.50")
    assert ok(api.get(f"{API}/budgets/{budget['id']}", headers=county), 200)["available"] == "379.50"
    requests = ok(api.get(f"{API}/loan-requests", headers=county, params={"loan_id": loan}), 200)["items"]
    assert [(r["status"], r["reason"]) for r in requests] == [("paid", ""), ("short", "budget_short")]


def test_compensation_from_the_pool_short_pool_and_recovery(api, county, bank, stack, sql):
    _, pool_budget = make_budget(api, county, kind="risk_pool", level="county", arrived="10000.00")
    pool = ok(
        api.post(
            f"{API}/pools",
            headers=county,
            json={"id": "pool-522323-rcc", "name": "普安县风险补偿金", "region_code": "522323"},
        )
    )
    ok(
        api.post(
            f"{API}/pools/{pool['id']}/contributions",
            headers=county,
            json={"from_account_id": pool_budget["account_id"], "amount": "8000.00", "memo": "注资"},
        )
    )
    loan = new_id()
    claim = compensation_requested(loan, pool["id"], "6000.00")
    too_much = compensation_requested(new_id(), pool["id"], "2000.01")
    unknown = compensation_requested(new_id(), "no-such-pool", "1.00")
    publish(stack, claim, claim, too_much, unknown, msg_ids=[claim.id, new_id(), too_much.id, unknown.id])
    wait_until(lambda: sql("SELECT count(*) FROM inbox WHERE consumer = 'funds-loans'") == 3, what="consumed")
    paid = answers(sql, "compensation.paid")
    assert [p["claim_id"] for p in paid] == [claim.data["claim_id"]]
    assert sorted(s["reason"] for s in answers(sql, "compensation.short")) == ["pool_short", "unknown_pool"]
    assert ok(api.get(f"{API}/pools", headers=county), 200)["items"][0]["balance"] == "2000.00"

    # Recoveries come from the loans service (where the bank records them) and go back into the pool once.
    back = recovered(claim, "1500.00")
    never_paid = recovered(too_much, "1.00")  # a loan this pool never compensated: nothing moves
    elsewhere = recovered(claim, "1.00", pool_id="no-such-pool")
    publish(stack, back, back, never_paid, elsewhere, msg_ids=[back.id, new_id(), never_paid.id, elsewhere.id])
    wait_until(lambda: sql("SELECT count(*) FROM inbox WHERE consumer = 'funds-loans'") == 6, what="recoveries")
    assert ok(api.get(f"{API}/pools", headers=county), 200)["items"][0]["balance"] == "3500.00"
    requests = ok(api.get(f"{API}/loan-requests", headers=county, params={"loan_id": loan}), 200)["items"]
    assert sorted((r["kind"], r["status"], r["reason"], r["amount"]) for r in requests) == [
        ("compensation", "paid", "", "6000.00"),
        ("recovery", "recorded", "", "1500.00"),
        ("recovery", "refused", "unknown_pool", "1.00"),
    ]
    other = ok(api.get(f"{API}/loan-requests", headers=county, params={"loan_id": too_much.data["loan_id"]}), 200)
    assert sorted((r["kind"], r["status"], r["reason"]) for r in other["items"]) == [
        ("compensation", "short", "pool_short"),
        ("recovery", "refused", "not_compensated"),
    ]
    assert sql("SELECT count(*) FROM ledger_transaction WHERE kind = 'recovery'") == 1
