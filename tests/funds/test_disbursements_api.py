"""Disbursements: eligibility from real events, caps, one payment per period, send, bank file, reconciliation."""

from __future__ import annotations

import csv
import io

import pytest

from shared.ids import new_id
from tests.funds.flows import API, make_project, ok, payment_body
from tests.support.bus import death, decision, publish
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration


def recognise(api, stack, sql, *households: str, exited: tuple[str, ...] = ()) -> None:
    events = [decision("household.approved", h, when="2024-03-01") for h in households]
    events += [decision("household.exited", h, when="2025-01-10") for h in exited]
    publish(stack, *events)
    wait_until(lambda: sql("SELECT count(*) FROM household_status") == len(events), what="decisions consumed")


def batch_of(api, county, funded) -> dict:
    return ok(api.post(f"{API}/disbursements", json={"project_id": funded.project["id"]}, headers=county))


class TestEligibility:
    def test_exited_and_deceased_payees_are_refused(self, api, county, stack, sql):
        poor, exited, other = new_id(), new_id(), new_id()
        recognise(api, stack, sql, poor, exited, exited=(exited,))
        member = new_id()
        publish(stack, death(poor, member, on="2025-05-01"))
        wait_until(lambda: sql("SELECT count(*) FROM deceased_member") == 1, what="death consumed")
        funded = make_project(api, county, households=(poor, exited, other))
        batch = batch_of(api, county, funded)
        url = f"{API}/disbursements/{batch['id']}/payments"
        ok(api.post(url, json=payment_body(funded.line["id"], poor), headers=county))
        for household, code in ((exited, "payee_not_recognised"), (other, "payee_not_recognised")):
            response = api.post(url, json=payment_body(funded.line["id"], household), headers=county)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0] | {"message": ""} == {
                "field": "payee_household_id",
                "code": code,
                "message": "",
            }
        response = api.post(
            url,
            json=payment_body(funded.line["id"], poor, payee_member_id=member, subsidy_code="yulu", period="2025"),
            headers=county,
        )
        assert response.status_code == 422 and response.json()["errors"][0]["code"] == "payee_deceased"

    def test_not_on_the_beneficiary_list(self, api, county, stack, sql):
        household = new_id()
        recognise(api, stack, sql, household)
        funded = make_project(api, county, to_poor_only=False)
        batch = batch_of(api, county, funded)
        response = api.post(
            f"{API}/disbursements/{batch['id']}/payments",
            json=payment_body(funded.line["id"], household),
            headers=county,
        )
        assert response.status_code == 422 and response.json()["errors"][0]["code"] == "not_a_beneficiary"


class TestCaps:
    def test_dangerous_house_40000_and_the_building_cost(self, api, county):
        a, b = new_id(), new_id()
        funded = make_project(
            api,
            county,
            kind="dangerous_house",
            households=(a,),
            to_poor_only=False,
            building_cost="60000.00",
            planned="100000.00",
            allocate="100000.00",
        )
        batch = batch_of(api, county, funded)
        url = f"{API}/disbursements/{batch['id']}/payments"
        ok(api.post(url, json=payment_body(funded.line["id"], a, "35000.00"), headers=county))
        response = api.post(url, json=payment_body(funded.line["id"], a, "5000.01"), headers=county)
        assert response.status_code == 422
        assert response.json()["errors"][0] == {
            "field": "amount",
            "code": "over_cap:dangerous_house_d",
            "message": "40000.01 exceeds the cap 40000.00",
        }
        ok(api.post(url, json=payment_body(funded.line["id"], a, "5000.00"), headers=county))
        cheap = make_project(
            api,
            county,
            kind="dangerous_house",
            households=(b,),
            to_poor_only=False,
            building_cost="20000.00",
            budget=funded.budget,
            allocate=None,
            planned="1.00",
        )
        batch = batch_of(api, county, cheap)
        response = api.post(
            f"{API}/disbursements/{batch['id']}/payments",
            json=payment_body(cheap.line["id"], b, "20000.01"),
            headers=county,
        )
        assert response.json()["errors"][0]["code"] == "over_cost:dangerous_house_d"

    def test_rule_sets_are_data_per_jurisdiction(self, api, county, token):
        rules = {"caps": [{"code": "industry_cap", "project_kind": "industry", "amount": "2000.00"}]}
        ok(api.put(f"{API}/rule-sets/522323109/2025", json=rules, headers=county), 200)
        household = new_id()
        funded = make_project(api, county, households=(household,), to_poor_only=False)
        batch = batch_of(api, county, funded)
        response = api.post(
            f"{API}/disbursements/{batch['id']}/payments",
            json=payment_body(funded.line["id"], household, "2000.01"),
            headers=county,
        )
        assert response.json()["errors"][0]["code"] == "over_cap:industry_cap"
        got = ok(api.get(f"{API}/rule-sets/522323109001/2025", headers=county), 200)
        assert got["body"]["caps"][0]["code"] == "industry_cap"
        # what the rule set leaves out is the national default's, not nothing
        assert [r["code"] for r in got["body"]["shares"]] == ["industry_share", "industry_to_households"]
        assert got["body"]["approval_threshold"] == "10000.00"
        none = ok(api.put(f"{API}/rule-sets/522323108/2025", json={"shares": []}, headers=county), 200)
        assert none["body"]["shares"] == [] and none["body"]["caps"][0]["code"] == "dangerous_house_d"
        township = token("county_office", region="522323101")
        assert api.put(f"{API}/rule-sets/522323/2025", json=rules, headers=township).status_code == 403

    def test_one_subsidy_per_payee_and_period(self, api, county):
        household = new_id()
        funded = make_project(api, county, kind="education", households=(household,), to_poor_only=False)
        batch = batch_of(api, county, funded)
        url = f"{API}/disbursements/{batch['id']}/payments"
        body = payment_body(funded.line["id"], household, subsidy_code="yulu", period="2025", payee_member_id="m1")
        ok(api.post(url, json=body, headers=county))
        response = api.post(url, json=body, headers=county)
        assert response.status_code == 422 and response.json()["errors"][0]["code"] == "already_paid_in_period"
        ok(api.post(url, json=body | {"period": "2026"}, headers=county))


STATEMENT_HEADER = "业务参考号,金额,交易状态,备注\n"


class TestSendAndReconcile:
    def test_paid_failed_and_unknown_lines(self, api, county, bank, sql):
        households = [new_id() for _ in range(3)]
        funded = make_project(api, county, households=tuple(households), to_poor_only=False)
        batch = batch_of(api, county, funded)
        url = f"{API}/disbursements/{batch['id']}/payments"
        payments = [
            ok(api.post(url, json=payment_body(funded.line["id"], h, "1000.00"), headers=county)) for h in households
        ]
        assert payments[0]["account_number"] == "***************5678"
        early = api.get(f"{API}/disbursements/{batch['id']}/bank-file", headers=bank)
        assert early.status_code == 409
        ok(api.post(f"{API}/disbursements/{batch['id']}/send", headers=county), 200)
        project = ok(api.get(f"{API}/projects/{funded.project['id']}", headers=county), 200)
        assert project["lines"][0]["balance"] == "47000.00"

        layout = ok(
            api.post(
                f"{API}/bank-layouts",
                headers=bank,
                json={
                    "name": "信用社代发",
                    "columns": [
                        {"header": "账号", "field": "account_number"},
                        {"header": "户名", "field": "payee_name"},
                        {"header": "金额", "field": "amount"},
                        {"header": "参考号", "field": "reference"},
                    ],
                },
            )
        )
        exported = api.get(
            f"{API}/disbursements/{batch['id']}/bank-file", headers=bank, params={"layout_id": layout["id"]}
        )
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert rows[0] == ["账号", "户名", "金额", "参考号"]
        assert rows[1][0] == "6217002870012345678" and rows[1][2] == "1000.00"

        statement = STATEMENT_HEADER + "\n".join(
            [
                f"{payments[0]['reference']},1000.00,成功,",
                f"{payments[1]['reference']},1000.00,失败,账户已销户",
                "FPUNKNOWN000000000000,50.00,成功,",
                f"{payments[2]['reference']},999.00,成功,",
            ]
        )
        recon = ok(
            api.post(
                f"{API}/disbursements/{batch['id']}/reconciliations",
                headers=bank,
                files={"file": ("回单.csv", statement.encode(), "text/csv")},
            )
        )
        assert (recon["lines_paid"], recon["lines_failed"], recon["lines_unmatched"]) == (1, 1, 2)
        assert [line["outcome"] for line in recon["lines"]] == ["paid", "failed", "unmatched", "unmatched"]

        status = {p["id"]: ok(api.get(f"{API}/payments/{p['id']}", headers=county), 200)["status"] for p in payments}
        assert list(status.values()) == ["paid", "failed", "sent"]  # never paid without a matching line
        project = ok(api.get(f"{API}/projects/{funded.project['id']}", headers=county), 200)
        assert project["lines"][0]["balance"] == "48000.00"  # the failed 1000 came back
        assert sql("SELECT count(*) FROM outbox WHERE event_type = 'funds.disbursed'") == 1

        fresh = ok(
            api.post(
                f"{API}/payments/{payments[1]['id']}/reissue",
                headers=county,
                json={"account_number": "6217002870099998888"},
            )
        )
        assert fresh["reissue_of"] == payments[1]["id"] and fresh["status"] == "pending"
        assert ok(api.get(f"{API}/payments/{payments[1]['id']}", headers=county), 200)["status"] == "reissued"

    def test_whole_account_numbers_only_for_roles_that_need_them(self, api, county, token, sql):
        household = new_id()
        funded = make_project(api, county, households=(household,), to_poor_only=False)
        batch = batch_of(api, county, funded)
        payment = ok(
            api.post(
                f"{API}/disbursements/{batch['id']}/payments",
                json=payment_body(funded.line["id"], household),
                headers=county,
            )
        )
        auditor = token("auditor", region="522323")
        shown = ok(api.get(f"{API}/payments/{payment['id']}", headers=auditor), 200)
        assert shown["account_number"].endswith("5678") and "6217" not in shown["account_number"]
        assert api.get(f"{API}/payments/{payment['id']}", headers=auditor, params={"reveal": "true"}).status_code == 403
        whole = ok(api.get(f"{API}/payments/{payment['id']}", headers=county, params={"reveal": "true"}), 200)
        assert whole["account_number"] == "6217002870012345678"
        assert sql("SELECT count(*) FROM audit_log WHERE action = 'personal_data.read'") == 1
        other = token("county_office", region="522324")
        assert api.get(f"{API}/payments/{payment['id']}", headers=other).status_code == 404
