"""The nightly job (日终批处理): accrual, penalty interest, ageing into buckets, reminders, periodic subsidy claims.

Run once a day across replicas by shared.jobs. It reads only the columns it needs, in batches, and writes back
with executemany. Every effect is keyed on the day: a loan already processed through a later or the same day is
skipped, penalties count from the last day accrued, reminders are marked, so a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlmodel import Session

from services.loans import subsidies
from services.loans.domain.arrears import (
    CURRENT,
    OpenInstallment,
    PenaltyRule,
    accrued_interest,
    bucket,
    penalty_increment,
)
from services.loans.domain.arrears import days_past_due as dpd_of
from services.loans.models import Installment, Loan, Product
from shared.events.outbox import emit_many
from shared.jobs import PeriodicJob

BATCH = 2000
FEN = Decimal("0.01")
# SQLModel sets __table__ when it makes a table class; its stubs do not declare it.
LOAN_TABLE: Table = Loan.__table__  # type: ignore[attr-defined]
INSTALLMENT_TABLE: Table = Installment.__table__  # type: ignore[attr-defined]
LOAN, INST = LOAN_TABLE.c, INSTALLMENT_TABLE.c


@dataclass
class Night:
    """What one run did, reported in the job's run record."""

    loans: int = 0
    overdue_events: int = 0
    reminders: int = 0
    subsidy_claims: int = 0
    loan_updates: list[dict[str, Any]] = field(default_factory=list)
    penalty_updates: list[dict[str, Any]] = field(default_factory=list)
    reminder_updates: list[dict[str, Any]] = field(default_factory=list)
    overdue: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    due: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def run_nightly(session: Session, day: date) -> dict[str, int]:
    """One day's batch for every active loan; safe to run again for the same or a past day."""
    rules = {p.id: p for p in session.execute(select(Product)).scalars()}
    night = Night()
    for loan_rows in _batches(session, day):
        for _, rows in groupby(loan_rows, key=lambda r: r.loan_id):
            _one_loan(night, rules, list(rows), day)
        _flush(session, night)
    night.subsidy_claims = subsidies.claim_due_periods(session, day)
    return {
        "loans": night.loans,
        "overdue_events": night.overdue_events,
        "reminders": night.reminders,
        "subsidy_claims": night.subsidy_claims,
    }


def _batches(session: Session, day: date) -> Iterator[list[Any]]:
    """Installments of the current schedule of active loans not yet processed through ``day``, loan by loan."""
    query = (
        select(
            LOAN.id.label("loan_id"),
            LOAN.product_id,
            LOAN.bucket,
            LOAN.days_past_due,
            LOAN.region_code,
            LOAN.household_id,
            LOAN.contract_no,
            LOAN.helper_id,
            INST.id,
            INST.from_date,
            INST.due_date,
            INST.number,
            INST.interest_due,
            INST.borrower_interest_due,
            INST.principal_due,
            INST.principal_paid,
            INST.interest_paid,
            INST.interest_waived,
            INST.penalty_accrued,
            INST.penalty_paid,
            INST.penalty_through,
            INST.reminded_on,
            INST.open,
        )
        .join(Installment, (INST.loan_id == LOAN.id) & (INST.schedule_version == LOAN.schedule_version))
        .where(LOAN.status == "active", (LOAN.accrued_through.is_(None)) | (LOAN.accrued_through < day))
        .order_by(LOAN.id, INST.number)
    )
    batch: list[Any] = []
    last = None
    for row in session.execute(query.execution_options(yield_per=BATCH * 12)):
        if len(batch) >= BATCH * 12 and row.loan_id != last:
            yield batch
            batch = []
        batch.append(row)
        last = row.loan_id
    if batch:
        yield batch


def _one_loan(night: Night, products: dict[str, Product], rows: list[Any], day: date) -> None:
    head = rows[0]
    product = products[head.product_id]
    rule = PenaltyRule(
        product.annual_rate,
        product.penalty_uplift,
        product.grace_days,
        365 if product.conventions.get("days_in_year_type") == "days_365" else 360,
    )
    opened = []
    for r in rows:
        unpaid = r.principal_due - r.principal_paid + r.borrower_interest_due - r.interest_waived - r.interest_paid
        opened.append(OpenInstallment(r.from_date, r.due_date, r.interest_due, unpaid if r.open else Decimal(0)))
        if not r.open:
            continue
        add, through = penalty_increment(
            rule,
            unpaid_principal=r.principal_due - r.principal_paid,
            due_date=r.due_date,
            through=r.penalty_through,
            day=day,
        )
        if add:
            night.penalty_updates.append(
                {"b_id": r.id, "penalty_accrued": r.penalty_accrued + add, "penalty_through": through}
            )
        if r.reminded_on is None and day < r.due_date <= day + timedelta(days=product.reminder_days) and unpaid > 0:
            night.reminder_updates.append({"b_id": r.id, "reminded_on": day})
            night.due.append(
                (
                    head.loan_id,
                    {
                        "loan_id": head.loan_id,
                        "due_date": r.due_date.isoformat(),
                        "amount_due": str(unpaid),
                        "installment_no": r.number,
                        "household_id": head.household_id,
                        "region_code": head.region_code,
                        "helper_id": head.helper_id,
                        "contract_no": head.contract_no,
                    },
                )
            )
    dpd = dpd_of(day, opened)
    new_bucket = bucket(dpd, grace_days=product.grace_days)
    if new_bucket != head.bucket and new_bucket != CURRENT:
        overdue = sum((o.unpaid for o in opened if o.due_date < day), Decimal(0))
        night.overdue.append(
            (
                head.loan_id,
                {
                    "loan_id": head.loan_id,
                    "days_past_due": dpd,
                    "bucket": new_bucket,
                    "amount_overdue": str(overdue),
                    "previous_bucket": head.bucket,
                    "as_of": day.isoformat(),
                    "household_id": head.household_id,
                    "region_code": head.region_code,
                    "helper_id": head.helper_id,
                    "contract_no": head.contract_no,
                },
            )
        )
    night.loan_updates.append(
        {
            "b_id": head.loan_id,
            "days_past_due": dpd,
            "bucket": new_bucket,
            "interest_accrued": accrued_interest(day, opened),
            "accrued_through": day,
        }
    )


def _flush(session: Session, night: Night) -> None:
    if night.loan_updates:
        session.execute(update(LOAN_TABLE).where(LOAN.id == bindparam("b_id")), night.loan_updates)
    if night.penalty_updates:
        session.execute(update(INSTALLMENT_TABLE).where(INST.id == bindparam("b_id")), night.penalty_updates)
    if night.reminder_updates:
        session.execute(update(INSTALLMENT_TABLE).where(INST.id == bindparam("b_id")), night.reminder_updates)
    emit_many(session, "loan.overdue", night.overdue)
    emit_many(session, "loan.repayment_due", night.due)
    night.loans += len(night.loan_updates)
    night.overdue_events += len(night.overdue)
    night.reminders += len(night.due)
    night.loan_updates, night.penalty_updates, night.reminder_updates = [], [], []
    night.overdue, night.due = [], []


NIGHTLY = PeriodicJob(
    name="nightly",
    run=run_nightly,
    at=time(1, 0),
    description="accrue interest and penalty interest, age arrears into buckets, remind before due dates, "
    "claim periodic interest subsidies",
)
