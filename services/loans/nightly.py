"""The nightly job (日终批处理): accrual, penalty interest, ageing into buckets, reminders, periodic subsidy claims.

Run once a day across replicas by shared.jobs. Set-based: the active loans not yet processed through the day are
read in keyset batches of ``BATCH`` loans, each with the interest of its past periods summed in SQL; of their
installments only the ones the night can change are read (open and due by the furthest reminder day, and the
running period for the accrual). Each batch is written back with executemany and its events with one
``emit_many`` per type, so memory holds one batch whatever the number of loans.

Every effect is keyed on the day: a loan already processed through the same or a later day is skipped, penalties
count from the last day accrued, reminders are marked, claims exist once per period, so a second run changes
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, bindparam, func, select, update
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
from services.loans.models import Installment, Loan, Product, from_fen, in_fen
from services.loans.repayments import penalty_rule
from shared.events.outbox import emit_many
from shared.jobs import PeriodicJob

BATCH = 2000
# SQLModel sets __table__ when it makes a table class; its stubs do not declare it.
LOAN_TABLE: Table = Loan.__table__  # type: ignore[attr-defined]
INSTALLMENT_TABLE: Table = Installment.__table__  # type: ignore[attr-defined]
LOAN, INST = LOAN_TABLE.c, INSTALLMENT_TABLE.c


@dataclass(frozen=True)
class Terms:
    """What the night needs of a loan's product."""

    penalty: PenaltyRule
    grace_days: int
    reminder_days: int


@dataclass
class Night:
    """What one run did, reported in the job's run record, and the current batch's writes."""

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
    terms = {
        p.id: Terms(penalty_rule(p), p.grace_days, p.reminder_days) for p in session.execute(select(Product)).scalars()
    }
    horizon = day + timedelta(days=max((t.reminder_days for t in terms.values()), default=0))
    night = Night()
    for loans, installments in _batches(session, day, horizon):
        for loan in loans:
            _one_loan(night, terms[loan.product_id], loan, installments.get(loan.id, []), day)
        _flush(session, night)
    night.subsidy_claims = subsidies.claim_due_periods(session, day)
    return {
        "loans": night.loans,
        "overdue_events": night.overdue_events,
        "reminders": night.reminders,
        "subsidy_claims": night.subsidy_claims,
    }


def _batches(session: Session, day: date, horizon: date) -> Iterator[tuple[list[Row[Any]], dict[str, list[Any]]]]:
    """Active loans not yet processed through ``day``, ``BATCH`` at a time in id order, with the installments
    of their current schedule the night reads, by loan."""
    todo: list[ColumnElement[bool]] = [
        LOAN.status == "active",
        LOAN.accrued_through.is_(None) | (LOAN.accrued_through < day),
    ]
    current = (INST.loan_id == LOAN.id) & (INST.schedule_version == LOAN.schedule_version)
    past_interest = (
        select(func.sum(in_fen(INST.interest_due)))
        .where(current, INST.due_date <= day)
        .correlate(LOAN_TABLE)
        .scalar_subquery()
    )
    loans_query = select(
        LOAN.id,
        LOAN.product_id,
        LOAN.bucket,
        LOAN.region_code,
        LOAN.household_id,
        LOAN.contract_no,
        LOAN.helper_id,
        past_interest.label("past_fen"),
    ).order_by(LOAN.id)
    rows_query = (
        select(
            INST.loan_id,
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
            INST.penalty_through,
            INST.reminded_on,
            INST.open,
        )
        .join(LOAN_TABLE, current)
        .where(
            *todo,
            (INST.open.is_(True) & (INST.due_date <= horizon)) | ((INST.from_date < day) & (INST.due_date > day)),
        )
        .order_by(INST.loan_id, INST.number)
    )
    after = ""
    while True:
        loans = list(session.execute(loans_query.where(*todo, LOAN.id > after).limit(BATCH)))
        if not loans:
            return
        last = loans[-1].id
        by_loan: dict[str, list[Any]] = {}
        in_batch = (LOAN.id > after, LOAN.id <= last, INST.loan_id > after, INST.loan_id <= last)
        for row in session.execute(rows_query.where(*in_batch)):
            by_loan.setdefault(row.loan_id, []).append(row)
        yield loans, by_loan
        after = last


def _one_loan(night: Night, terms: Terms, loan: Row[Any], rows: list[Any], day: date) -> None:
    """The night of one loan: ``rows`` are its open installments due by the horizon and its running period."""
    opened = []
    for r in rows:
        unpaid = r.principal_due - r.principal_paid + r.borrower_interest_due - r.interest_waived - r.interest_paid
        opened.append(OpenInstallment(r.from_date, r.due_date, r.interest_due, unpaid if r.open else Decimal(0)))
        if not r.open:
            continue
        add, through = penalty_increment(
            terms.penalty,
            unpaid_principal=r.principal_due - r.principal_paid,
            due_date=r.due_date,
            through=r.penalty_through,
            day=day,
        )
        if add:
            night.penalty_updates.append(
                {"b_id": r.id, "penalty_accrued": r.penalty_accrued + add, "penalty_through": through}
            )
        if r.reminded_on is None and day < r.due_date <= day + timedelta(days=terms.reminder_days) and unpaid > 0:
            night.reminder_updates.append({"b_id": r.id, "reminded_on": day})
            night.due.append((loan.id, _due(r, unpaid) | _party(loan)))
    dpd = dpd_of(day, opened)
    new_bucket = bucket(dpd, grace_days=terms.grace_days)
    if new_bucket != loan.bucket and new_bucket != CURRENT:
        overdue = sum((o.unpaid for o in opened if o.due_date < day), Decimal(0))
        night.overdue.append(
            (
                loan.id,
                {
                    "loan_id": loan.id,
                    "days_past_due": dpd,
                    "bucket": new_bucket,
                    "amount_overdue": str(overdue),
                    "previous_bucket": loan.bucket,
                    "as_of": day.isoformat(),
                }
                | _party(loan),
            )
        )
    # the past periods were summed by the query; only the running one is among ``rows`` with a later due date
    earlier = from_fen(loan.past_fen)
    running = [o for o in opened if o.due_date > day]
    night.loan_updates.append(
        {
            "b_id": loan.id,
            "days_past_due": dpd,
            "bucket": new_bucket,
            "interest_accrued": accrued_interest(day, running, earlier=earlier),
            "accrued_through": day,
        }
    )


def _party(loan: Row[Any]) -> dict[str, Any]:
    return {
        "household_id": loan.household_id,
        "region_code": loan.region_code,
        "helper_id": loan.helper_id,
        "contract_no": loan.contract_no,
    }


def _due(r: Any, unpaid: Decimal) -> dict[str, Any]:
    return {
        "loan_id": r.loan_id,
        "due_date": r.due_date.isoformat(),
        "amount_due": str(unpaid),
        "installment_no": r.number,
    }


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
