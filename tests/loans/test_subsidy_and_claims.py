"""Interest subsidy in both modes, and a default through compensation to settlement, with funds' answers
published on the bus as the funds service publishes them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.loans import subsidies
from services.loans.domain.subsidy import earned_share
from tests.loans.builders import Loans, at, funds_answer, publish
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration
D = Decimal


class TestSubsidy:
    def test_direct_quarterly_only_on_time_interest_and_the_borrower_billed_nothing(
        self, loans: Loans, api, county
    ) -> None:
        product = loans.product(loans.pool()["id"], subsidy_mode="direct_periodic", subsidy_coverage="full")
        loan = loans.lend(product["id"], amount="12000", disbursed_on="2025-01-16")
        first, second = loans.schedule(loan["id"])[:2]
        assert first["borrower_interest_due"] == "0.00" and first["subsidy_due"] == first["interest_due"]
        loans.repay(loan["id"], first["principal_due"], "2025-02-16")  # on time
        loans.repay(loan["id"], second["principal_due"], "2025-03-25")  # after the 3 grace days: no subsidy
        loans.nightly("2025-04-05")
        claims = loans.outbox("loan.subsidy_due")
        assert [(c["period_start"], c["period_end"], c["amount"]) for c in claims] == [
            ("2025-01-01", "2025-03-31", first["interest_due"])
        ]
        loans.nightly("2025-04-06")
        assert len(loans.outbox("loan.subsidy_due")) == 1

        publish(loans.stack, funds_answer("subsidy.paid", claims[0] | {"paid_on": "2025-04-20"}, at("2025-04-20")))
        wait_until(lambda: loans.sql("SELECT status FROM subsidy") == "paid", what="subsidy.paid to settle the claim")
        summary = api.get(f"/api/v1/loans/{loan['id']}/subsidy", headers=county).json()
        assert (summary["subsidy_claimed"], summary["subsidy_paid"], summary["borrower_advanced"]) == (
            first["interest_due"],
            first["interest_due"],
            "0.00",
        )

    def test_claims_streamed_a_loan_at_a_time_are_each_made_once(
        self, loans: Loans, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        product = loans.product(loans.pool()["id"], subsidy_mode="direct_periodic", subsidy_coverage="full")
        made = [loans.lend(product["id"], amount="12000", disbursed_on="2025-01-16") for _ in range(3)]
        for loan in made[:2]:  # the third pays nothing: no claim
            first = loans.schedule(loan["id"])[0]
            loans.repay(loan["id"], first["principal_due"], "2025-02-16")
        monkeypatch.setattr(subsidies, "BATCH", 1)
        loans.nightly("2025-04-05")
        claims = loans.outbox("loan.subsidy_due")
        assert sorted(c["loan_id"] for c in claims) == sorted(m["id"] for m in made[:2])
        assert loans.sql("SELECT count(*) FROM subsidy") == 2
        loans.nightly("2025-04-06")
        assert len(loans.outbox("loan.subsidy_due")) == 2

    def test_a_settled_loans_quarter_claims_only_the_interest_charged(self, loans: Loans) -> None:
        """Paid off early: interest not yet earned is waived, and the quarter's claim shares each installment's
        subsidy by the interest actually charged (the few waived rows are shared out as ``earned_share``)."""
        product = loans.product(loans.pool()["id"], subsidy_mode="direct_periodic", subsidy_coverage="half")
        loan = loans.lend(product["id"], amount="12000", disbursed_on="2025-01-16")
        on_time = loans.schedule(loan["id"])[0]
        loans.repay(loan["id"], str(D(on_time["principal_due"]) + D(on_time["borrower_interest_due"])), "2025-02-16")
        quote = loans.repay(loan["id"], "20000", "2025-02-26", status=422)["errors"][0]["message"]
        loans.repay(loan["id"], quote.split(" by ")[1].split(" on ")[0], "2025-02-26")
        assert loans.loan(loan["id"])["status"] == "settled"
        schedule = loans.schedule(loan["id"])
        waived = [i for i in schedule if D(i["interest_waived"]) > 0 and i["due_date"] <= "2025-03-31"]
        assert [i["number"] for i in waived] == [2]

        loans.nightly("2025-04-05")
        in_quarter = [i for i in schedule if "2025-01-01" <= i["due_date"] <= "2025-03-31"]
        expected = sum(
            (
                earned_share(
                    D(i["subsidy_due"]), interest_due=D(i["interest_due"]), interest_waived=D(i["interest_waived"])
                )
                for i in in_quarter
            ),
            D(0),
        )
        assert D(waived[0]["interest_waived"]) < D(waived[0]["interest_due"])  # 10 of its 28 days were earned
        [claim] = loans.outbox("loan.subsidy_due")
        assert (claim["loan_id"], D(claim["amount"])) == (loan["id"], expected)
        assert D(claim["amount"]) < sum((D(i["subsidy_due"]) for i in in_quarter), D(0))
        assert loans.sql("SELECT count(*) FROM subsidy") == 1
        loans.nightly("2025-04-06")
        assert len(loans.outbox("loan.subsidy_due")) == 1

    def test_collect_then_reimburse_the_borrower_pays_all_and_is_repaid_after_settlement(
        self, loans: Loans, api, county
    ) -> None:
        product = loans.product(
            loans.pool()["id"],
            subsidy_mode="collect_then_reimburse",
            subsidy_coverage="half",
            conventions={"repayment_method": "bullet"},
        )
        loan = loans.lend(product["id"], amount="10000", n=1, disbursed_on="2024-06-16")
        [only] = loans.schedule(loan["id"])
        assert only["borrower_interest_due"] == only["interest_due"] == "36.25"  # 4.35 % / 12: one monthly period
        loans.repay(loan["id"], "10036.25", "2024-07-16")
        assert loans.loan(loan["id"])["status"] == "settled"
        [claim] = loans.outbox("loan.subsidy_due")
        assert (claim["amount"], claim["payee"], claim["mode"]) == ("18.13", "borrower", "collect_then_reimburse")
        before = api.get(f"/api/v1/loans/{loan['id']}/subsidy", headers=county).json()
        assert (before["subsidy_claimed"], before["subsidy_paid"], before["borrower_advanced"]) == (
            "18.13",
            "0.00",
            "18.13",
        )

        publish(loans.stack, funds_answer("subsidy.paid", claim | {"paid_on": "2024-08-15"}, at("2024-08-15")))
        wait_until(lambda: loans.sql("SELECT status FROM subsidy") == "paid", what="the reimbursement")
        after = api.get(f"/api/v1/loans/{loan['id']}/subsidy", headers=county).json()
        assert (after["subsidy_paid"], after["borrower_advanced"], after["advance_days"]) == ("18.13", "0.00", 30)


class TestDefaultAndCompensation:
    def test_default_claim_paid_by_funds_then_recovery_back_to_the_pool(
        self, loans: Loans, api, officer, county
    ) -> None:
        pool = loans.pool(balance="1000000")
        loan = loans.lend(loans.product(pool["id"])["id"], amount="30000", disbursed_on="2024-12-16")
        early = api.post(f"/api/v1/loans/{loan['id']}/default", json={"reason": "失联"}, headers=officer)
        assert early.status_code == 422 and early.json()["errors"][0]["code"] == "not_past_threshold"
        loans.nightly("2025-06-16")
        assert loans.loan(loan["id"])["bucket"] == "90+"
        response = api.post(f"/api/v1/loans/{loan['id']}/default", json={"reason": "逾期超过90天"}, headers=officer)
        assert response.status_code == 201, response.text
        claim = response.json()
        assert (claim["principal_loss"], claim["amount"]) == ("30000.00", "21000.00")  # 7:3
        [requested] = loans.outbox("loan.compensation_requested")
        assert (requested["claim_id"], requested["pool_id"], requested["amount"]) == (
            claim["id"],
            pool["id"],
            "21000.00",
        )
        assert [e["loan_id"] for e in loans.outbox("loan.defaulted")] == [loan["id"]]

        paid = {k: requested[k] for k in ("claim_id", "loan_id", "pool_id", "amount")}
        publish(loans.stack, funds_answer("compensation.paid", paid, at("2025-06-20")))
        wait_until(lambda: loans.loan(loan["id"])["status"] == "compensated", what="compensation.paid")
        assert api.get(f"/api/v1/pools/{pool['id']}", headers=county).json()["balance"] == "979000.00"

        recovery = api.post(
            f"/api/v1/loans/{loan['id']}/recoveries", json={"amount": "1000", "paid_on": "2025-06-16"}, headers=officer
        )
        assert recovery.status_code == 201, recovery.text
        assert api.get(f"/api/v1/pools/{pool['id']}", headers=county).json()["balance"] == "979700.00"
        [settled] = api.get("/api/v1/claims", headers=county).json()["items"]
        assert (settled["status"], settled["recovered"]) == ("paid", "700.00")
        [back] = loans.outbox("loan.recovered")  # funds puts the pool's share back into its ledger
        assert (back["recovery_id"], back["claim_id"], back["pool_id"], back["amount"], back["recovered_on"]) == (
            recovery.json()["id"],
            claim["id"],
            pool["id"],
            "700.00",
            "2025-06-16",
        )

    def test_a_claim_is_bounded_by_the_pool(self, loans: Loans, api, officer) -> None:
        pool = loans.pool(balance="10000", multiple="10")
        loan = loans.lend(loans.product(pool["id"])["id"], amount="30000", disbursed_on="2024-12-16")
        loans.nightly("2025-06-16")
        claim = api.post(f"/api/v1/loans/{loan['id']}/default", json={"reason": "逾期"}, headers=officer).json()
        assert claim["amount"] == "10000.00"
        assert loans.outbox("loan.compensation_requested")[0]["bounded_by_pool"] is True


def test_portfolio_shows_households_against_entities(loans: Loans, api, county) -> None:
    pool = loans.pool()
    loans.lend(loans.product(pool["id"])["id"], amount="16000")
    report = api.get("/api/v1/reports/portfolio", headers=county).json()
    assert (report["loans"], report["household_amount_share"], report["entity_amount_share"]) == (1, "100.00", "0.00")
    assert [b["bucket"] for b in report["buckets"]] == ["current", "1-30", "31-60", "61-90", "90+"]


def test_brochure_and_statement_pdfs(loans: Loans, api, cadre, tmp_path) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    product = loans.product(
        loans.pool()["id"],
        conventions={"repayment_method": "interest_only_then_amortization", "grace_on_principal_payment": 8},
    )
    brochure = api.get(f"/api/v1/products/{product['id']}/brochure.pdf", headers=cadre)
    assert brochure.status_code == 200 and brochure.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(brochure.content)).pages)
    for phrase in ("阶段性等额本息", "全额贴息", "政府 70", "0859-12317", "不是民政部门发放的扶贫款"):
        assert phrase in text
    loan = loans.lend(product["id"], amount="30000")
    statement = api.get(f"/api/v1/loans/{loan['id']}/statement.pdf", headers=cadre)
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(statement.content)).pages)
    assert "5223**********0027" in text and "522323197201150027" not in text
    assert "还款中" in text and "active" not in text  # states in words, as the borrower reads them
    (tmp_path / "brochure.pdf").write_bytes(brochure.content)
    (tmp_path / "statement.pdf").write_bytes(statement.content)
