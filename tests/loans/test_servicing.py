"""Servicing: allocation, partial/early/late repayments, reversal, settlement, extension, and the nightly job."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.loans import nightly
from services.loans.nightly import NIGHTLY
from shared.clock import FrozenClock
from shared.db import Database
from shared.jobs import PeriodicRunner
from tests.loans.builders import Loans, at

pytestmark = pytest.mark.integration
D = Decimal


def snapshot(loans: Loans) -> tuple[object, ...]:
    """Row counts and the sums the nightly job moves."""
    counts = tuple(loans.sql(f"SELECT count(*) FROM {t}") for t in ("loan", "installment", "outbox", "subsidy"))
    sums = (
        loans.sql("SELECT sum(penalty_accrued) FROM installment"),
        loans.sql("SELECT sum(interest_accrued) FROM loan"),
        loans.sql("SELECT sum(days_past_due) FROM loan"),
        loans.sql("SELECT count(*) FROM installment WHERE reminded_on IS NOT NULL"),
    )
    return counts + sums


class TestRepayments:
    def test_late_partial_payment_goes_penalty_then_interest_then_principal(self, loans: Loans) -> None:
        product = loans.product(loans.pool()["id"], subsidy_coverage="none")
        loan = loans.lend(product["id"], amount="12000", disbursed_on="2025-01-16")
        first = loans.schedule(loan["id"])[0]
        assert (first["due_date"], first["interest_due"]) == ("2025-02-16", "43.50")
        loans.nightly("2025-03-06")  # 18 days late: penalty at 4.35 % × 1.5 / 360 on the unpaid principal
        penalty = D(loans.schedule(loan["id"])[0]["penalty_accrued"])
        expected = (D(first["principal_due"]) * D("0.0435") * D("1.5") / 360 * 18).quantize(D("0.000001"))
        assert penalty == expected

        paid = loans.repay(loan["id"], "100.00", "2025-03-06")
        assert (paid["penalty"], paid["interest"]) == (str(penalty.quantize(D("0.01"))), "43.50")
        assert D(paid["principal"]) == D("100.00") - penalty.quantize(D("0.01")) - D("43.50")
        assert paid["allocations"][0]["number"] == 1

    def test_early_payoff_waives_unearned_interest_and_settles(self, loans: Loans) -> None:
        product = loans.product(loans.pool()["id"], subsidy_coverage="none")
        loan = loans.lend(product["id"], amount="12000", disbursed_on="2025-05-16")
        too_much = loans.repay(loan["id"], "20000", "2025-06-16", status=422)
        quote = D(too_much["errors"][0]["message"].split(" by ")[1].split(" on ")[0])
        # first installment due 2025-06-16 in full; the rest only principal (nothing earned yet on 16 June)
        schedule = loans.schedule(loan["id"])
        assert quote == D("12000.00") + D(schedule[0]["interest_due"])
        loans.repay(loan["id"], str(quote), "2025-06-16")
        settled = loans.loan(loan["id"])
        assert (settled["status"], settled["principal_outstanding"], settled["settled_on"]) == (
            "settled",
            "0.00",
            "2025-06-16",
        )
        assert [e["loan_id"] for e in loans.outbox("loan.repaid")] == [loan["id"]]
        assert D(loans.schedule(loan["id"])[5]["interest_waived"]) == D(schedule[5]["interest_due"])

    def test_a_reversal_is_a_compensating_entry(self, loans: Loans, api, officer) -> None:
        loan = loans.lend(loans.product(loans.pool()["id"])["id"], amount="12000", disbursed_on="2025-05-16")
        paid = loans.repay(loan["id"], "1000.00", "2025-06-16")
        assert loans.loan(loan["id"])["principal_outstanding"] == "11000.00"
        path = f"/api/v1/loans/{loan['id']}/repayments/{paid['id']}/reversal"
        assert api.post(path, json={}, headers=officer).status_code == 422  # the reason is required
        reversal = api.post(path, json={"reason": "入错账户"}, headers=officer)
        assert reversal.status_code == 201, reversal.text
        assert (reversal.json()["amount"], reversal.json()["reverses_id"]) == ("-1000.00", paid["id"])
        assert api.post(path, json={"reason": "again"}, headers=officer).status_code == 409
        assert loans.loan(loan["id"])["principal_outstanding"] == "12000.00"
        history = api.get(f"/api/v1/loans/{loan['id']}/repayments", headers=officer).json()["items"]
        assert [(r["kind"], r["amount"]) for r in history] == [("repayment", "1000.00"), ("reversal", "-1000.00")]
        assert loans.schedule(loan["id"])[0]["principal_paid"] == "0.00"

    def test_extension_reschedules_with_a_reason(self, loans: Loans, api, officer) -> None:
        loan = loans.lend(loans.product(loans.pool()["id"])["id"], amount="12000", n=12, disbursed_on="2025-06-16")
        body = {"kind": "extension", "reason": "非主观因素: 猪瘟", "extra_months": 6}
        response = api.post(f"/api/v1/loans/{loan['id']}/extensions", json=body, headers=officer)
        assert response.status_code == 201, response.text
        assert response.json()["new_maturity_date"] == "2026-12-16"
        current = [i for i in loans.schedule(loan["id"]) if i["schedule_version"] == 2]
        assert len(current) == 18 and str(sum(D(i["principal_due"]) for i in current)) == "12000.00"
        again = api.post(f"/api/v1/loans/{loan['id']}/extensions", json=body, headers=officer)
        assert again.status_code == 422 and again.json()["errors"][0]["code"] == "too_many_extensions"


class TestNightly:
    def test_buckets_and_events_by_the_clock(self, loans: Loans) -> None:
        loan = loans.lend(loans.product(loans.pool()["id"])["id"], amount="12000", disbursed_on="2025-01-16")
        loans.nightly("2025-02-14")
        due = loans.outbox("loan.repayment_due")
        assert [(e["installment_no"], e["due_date"]) for e in due] == [(1, "2025-02-16")]
        loans.nightly("2025-02-19")  # 3 days late: inside the grace days, still current
        assert loans.loan(loan["id"])["bucket"] == "current" and loans.outbox("loan.overdue") == []
        loans.nightly("2025-02-20")
        assert (loans.loan(loan["id"])["bucket"], loans.loan(loan["id"])["days_past_due"]) == ("1-30", 4)
        loans.nightly("2025-03-19")
        loans.nightly("2025-04-18")
        loans.nightly("2025-05-18")
        assert [(e["bucket"], e["days_past_due"]) for e in loans.outbox("loan.overdue")] == [
            ("1-30", 4),
            ("31-60", 31),
            ("61-90", 61),
            ("90+", 91),
        ]

    def test_running_the_same_day_again_changes_nothing(self, loans: Loans) -> None:
        product = loans.product(loans.pool()["id"], subsidy_coverage="none")
        for _ in range(3):
            loans.lend(product["id"], amount="12000", disbursed_on="2025-01-16")
        loans.nightly("2025-04-05")
        before = snapshot(loans)
        loans.nightly("2025-04-05")
        loans.nightly("2025-03-01")  # a past day after a later one: nothing to redo
        assert snapshot(loans) == before
        assert loans.sql("SELECT count(*) FROM job_run WHERE job = 'nightly'") == 3

    def test_two_runners_at_once_do_the_work_once(self, loans: Loans, loans_url: str) -> None:
        loans.lend(loans.product(loans.pool()["id"])["id"], amount="12000", disbursed_on="2025-01-16")
        clock = FrozenClock(at("2025-03-01"))
        runners = [PeriodicRunner(Database(loans_url, service="loans", clock=clock), [NIGHTLY]) for _ in range(2)]
        start = threading.Barrier(2)
        done: list[list[str]] = []

        def run(runner: PeriodicRunner) -> None:
            start.wait()
            done.append(runner.tick())

        threads = [threading.Thread(target=run, args=(r,)) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in runners:
            r.stop()
            r.db.dispose()
        assert sorted(len(d) for d in done) in ([0, 1], [1, 1])
        assert loans.sql("SELECT count(*) FROM job_run WHERE job = 'nightly' AND status = 'done'") == 1
        assert len(loans.outbox("loan.overdue")) == 1


class TestNightlyReads:
    def test_actual_years_count_a_leap_year_as_366_days(self, loans: Loans) -> None:
        conventions = {"repayment_method": "equal_installments", "days_in_year_type": "actual"}
        product = loans.product(loans.pool()["id"], subsidy_coverage="none", conventions=conventions)
        loan = loans.lend(product["id"], amount="12000", disbursed_on="2024-01-16")
        first = loans.schedule(loan["id"])[0]
        loans.nightly("2024-03-06")  # 19 days late in a leap year (29 February): ÷ 366, not ÷ 360
        expected = (D(first["principal_due"]) * D("0.0435") * D("1.5") / 366 * 19).quantize(D("0.000001"))
        assert D(loans.schedule(loan["id"])[0]["penalty_accrued"]) == expected

    def test_in_batches_of_one_every_loan_is_done_and_only_open_or_running_installments_are_read(
        self, loans: Loans, loans_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        product = loans.product(loans.pool()["id"], subsidy_coverage="none")
        made = [loans.lend(product["id"], amount="12000", disbursed_on="2025-01-16") for _ in range(3)]
        schedule = loans.schedule(made[0]["id"])
        for k in (0, 1):
            loans.repay(made[0]["id"], schedule[k]["principal_due"], schedule[k]["due_date"])
            loans.repay(made[0]["id"], schedule[k]["interest_due"], schedule[k]["due_date"])
        day = date(2025, 4, 20)  # the third installment (16 April) is 4 days late, the fourth is running

        db = Database(loans_url, service="loans")
        try:
            with db.reader() as session:
                batches = list(nightly._batches(session, day, day + timedelta(days=3)))
        finally:
            db.dispose()
        assert [len(loan_rows) for loan_rows, _ in batches] == [3]
        loan_rows, installments = batches[0]
        first = next(r for r in loan_rows if r.id == made[0]["id"])
        assert [r.number for r in installments[first.id]] == [3, 4]
        past = sum((D(i["interest_due"]) for i in schedule[:3]), D(0))
        assert D(first.past_fen) / 100 == past

        monkeypatch.setattr(nightly, "BATCH", 1)
        loans.nightly(day.isoformat())
        assert "'loans': 3," in loans.sql("SELECT detail FROM job_run WHERE job = 'nightly'")
        states = [loans.loan(loan["id"]) for loan in made]
        assert [(s["accrued_through"], s["days_past_due"], s["bucket"]) for s in states] == [
            ("2025-04-20", 4, "1-30"),
            ("2025-04-20", 63, "61-90"),  # nothing paid since 16 February
            ("2025-04-20", 63, "61-90"),
        ]
        running = D(schedule[3]["interest_due"]) * 4 / 30  # 16 April to 16 May, 4 days in
        assert D(loans.loan(made[0]["id"])["interest_accrued"]) == (past + running).quantize(D("0.01"))
