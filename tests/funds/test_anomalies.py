"""The anomaly job: each kind found on planted data and not on clean data; a re-run finds nothing new."""

from __future__ import annotations

import pytest

from shared.ids import new_id
from tests.funds.flows import API, make_budget, make_project, ok, payment_body
from tests.support.bus import death, decision, event, publish
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration
ALL_KINDS = {
    "duplicate_payment",
    "deceased_payee",
    "ineligible_payee",
    "shared_account",
    "split_payment",
    "cadre_household",
    "over_budget",
    "idle_funds",
}


def pay_and_send(api, county, funded, *bodies: dict) -> list[dict]:
    batch = ok(api.post(f"{API}/disbursements", json={"project_id": funded.project["id"]}, headers=county))
    made = [ok(api.post(f"{API}/disbursements/{batch['id']}/payments", json=b, headers=county)) for b in bodies]
    ok(api.post(f"{API}/disbursements/{batch['id']}/send", headers=county), 200)
    return made


def run_job(api, county) -> list[dict]:
    ok(api.post(f"{API}/jobs/anomaly-scan/runs", json={"day": "2025-06-16"}, headers=county))
    return ok(api.get(f"{API}/anomalies", headers=county, params={"limit": 500}), 200)["items"]


def clean(api, county, stack, sql) -> None:
    """Payments as they should be: recognised households, own accounts, one each, within budget."""
    households = [new_id() for _ in range(3)]
    publish(stack, *[decision("household.approved", h, when="2024-03-01") for h in households])
    wait_until(lambda: sql("SELECT count(*) FROM household_status") == 3, what="decisions consumed")
    funded = make_project(api, county, households=tuple(households))
    pay_and_send(
        api,
        county,
        funded,
        *[
            payment_body(funded.line["id"], h, "3000.00", account_number=f"62170028700{i:08d}")
            for i, h in enumerate(households)
        ],
    )


def test_clean_data_has_no_findings(api, county, stack, sql):
    clean(api, county, stack, sql)
    assert run_job(api, county) == []


def test_each_kind_on_planted_data_once(api, county, auditor, stack, sql):
    clean(api, county, stack, sql)
    dup, dead, gone, share_a, share_b, split, cadre = (new_id() for _ in range(7))
    member = new_id()
    publish(stack, *[decision("household.approved", h, when="2024-03-01") for h in (dead, gone)])
    wait_until(lambda: sql("SELECT count(*) FROM household_status") == 5, what="decisions consumed")
    everyone = (dup, dead, gone, share_a, share_b, split, cadre)
    funded = make_project(api, county, households=everyone, to_poor_only=False)
    line = funded.line["id"]
    pay_and_send(
        api,
        county,
        funded,
        payment_body(line, dup, "800.00", account_number="6217000000000000001"),
        payment_body(line, dup, "800.00", account_number="6217000000000000001", pay_date="2025-06-10"),
        payment_body(line, dead, "500.00", payee_member_id=member, account_number="6217000000000000002"),
        payment_body(line, share_a, "700.00", account_number="6217999999999999999"),
        payment_body(line, share_b, "710.00", account_number="6217999999999999999"),
        payment_body(line, split, "6000.00", purpose="入股分红", account_number="6217000000000000003"),
        payment_body(line, split, "5000.00", purpose="产业补助", account_number="6217000000000000004"),
        payment_body(line, cadre, "300.00", account_number="6217000000000000005"),
    )
    poor_only = make_project(
        api, county, households=(gone,), budget=funded.budget, planned="900.00", allocate="5000.00"
    )
    pay_and_send(
        api,
        county,
        poor_only,
        payment_body(poor_only.line["id"], gone, "1200.00", account_number="6217000000000000006"),
    )
    # Facts that arrive after the payments: a death and an exit dated before the payment day, a payroll hit.
    flagged = event(
        "comparison.flagged",
        cadre,
        {
            "batch_id": new_id(),
            "household_id": cadre,
            "findings": [{"dataset": "public_payroll", "rule": "财政供养人员", "member_id": new_id()}],
        },
        source="identification",
    )
    publish(stack, death(dead, member, on="2025-06-01"), decision("household.exited", gone, when="2025-06-01"), flagged)
    wait_until(
        lambda: (
            sql("SELECT count(*) FROM flagged_household") == 1
            and sql("SELECT count(*) FROM deceased_member") == 1
            and sql("SELECT count(*) FROM household_status") == 6
        ),
        what="late facts consumed",
    )
    _, idle = make_budget(api, county, arrived="0")
    ok(
        api.post(
            f"{API}/budgets/{idle['id']}/arrivals",
            json={"amount": "9000.00", "arrived_on": "2024-11-01"},
            headers=county,
        )
    )

    found = run_job(api, county)
    assert {f["kind"] for f in found} == ALL_KINDS
    by_kind = {f["kind"]: f for f in found}
    assert by_kind["shared_account"]["amount"] == "1410.00"
    assert by_kind["over_budget"]["evidence_ids"] == [poor_only.project["id"]]
    assert by_kind["idle_funds"]["evidence_ids"][0] == idle["account_id"]
    assert len(found) == len(ALL_KINDS)
    assert sql("SELECT count(*) FROM outbox WHERE event_type = 'funds.anomaly'") == len(found)

    assert len(run_job(api, county)) == len(found)  # a re-run on unchanged data finds nothing new
    assert sql("SELECT count(*) FROM outbox WHERE event_type = 'funds.anomaly'") == len(found)

    finding = by_kind["cadre_household"]
    decided = ok(
        api.post(
            f"{API}/anomalies/{finding['id']}/decision",
            headers=auditor,
            json={"status": "confirmed", "reason": "户主之子为乡镇财政所职工"},
        ),
        200,
    )
    assert (decided["status"], decided["decided_by"]) == ("confirmed", "auditor-li")
    again = api.post(
        f"{API}/anomalies/{finding['id']}/decision", headers=auditor, json={"status": "explained", "reason": "x"}
    )
    assert again.status_code == 409
    assert ok(api.get(f"{API}/anomalies", headers=auditor, params={"status": "open"}), 200)["items"].__len__() == 7
    cadre_token = {"Authorization": county["Authorization"]}
    assert api.get(f"{API}/anomalies", headers=cadre_token, params={"region": "522324"}).json()["items"] == []
