"""Interest subsidies (贴息): what the government owes per loan and period, claimed with loan.subsidy_due and
settled by funds' subsidy.paid. Only interest due and paid on time counts; penalty interest never does."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.loans.domain.subsidy import SubsidyMode, paid_on_time, previous_period
from services.loans.models import Installment, Loan, Product, Subsidy
from services.loans.schemas import LoanSubsidySummary
from shared.events.outbox import emit

ZERO = Decimal("0.00")
FEN = Decimal("0.01")


def subsidy_of(i: Installment, grace_days: int) -> Decimal:
    """The subsidy an installment earns: its share of the interest actually charged, if paid on time."""
    if not paid_on_time(due_date=i.due_date, paid_on=i.paid_on, grace_days=grace_days) or i.interest_due == 0:
        return ZERO
    charged = i.interest_due - i.interest_waived
    return (i.subsidy_due * charged / i.interest_due).quantize(FEN)


def claim_period(session: Session, loan: Loan, product: Product, start: date, end: date, *, on: date) -> Subsidy | None:
    """One claim for ``start``..``end`` unless it exists or nothing is owed (safe to run again)."""
    if session.exec(select(Subsidy.id).where(Subsidy.loan_id == loan.id, Subsidy.period_start == start)).first():
        return None
    rows = list(
        session.exec(
            select(Installment).where(
                Installment.loan_id == loan.id,
                Installment.due_date >= start,
                Installment.due_date <= end,
                col(Installment.paid_on).is_not(None),
            )
        )
    )
    amount = sum((subsidy_of(i, product.grace_days) for i in rows), ZERO)
    if amount <= 0:
        return None
    mode = SubsidyMode(product.subsidy_mode)
    subsidy = Subsidy(
        loan_id=loan.id,
        region_code=loan.region_code,
        mode=mode.value,
        payee="borrower" if mode is SubsidyMode.collect_then_reimburse else "bank",
        period_start=start,
        period_end=end,
        amount=amount,
        claimed_on=on,
        interest_accrued=sum((i.interest_due - i.interest_waived for i in rows), ZERO),
        interest_paid=sum((i.interest_paid for i in rows), ZERO),
    )
    session.add(subsidy)
    session.flush()
    emit(
        session,
        "loan.subsidy_due",
        subsidy.id,
        {
            "subsidy_id": subsidy.id,
            "loan_id": loan.id,
            "period_start": start,
            "period_end": end,
            "amount": str(amount),
            "mode": subsidy.mode,
            "payee": subsidy.payee,
            "region_code": loan.region_code,
            "contract_no": loan.contract_no,
        },
    )
    return subsidy


def claim_at_settlement(session: Session, loan: Loan, product: Product, on: date) -> None:
    """直接贴息 at settlement and 先收后贴 claim once, when the loan is settled."""
    if product.subsidy_mode == SubsidyMode.direct_periodic or loan.disbursed_on is None:
        return
    claim_period(session, loan, product, loan.disbursed_on, on, on=on)


def claim_due_periods(session: Session, day: date) -> int:
    """The nightly part: direct periodic claims for the period that ended before ``day``, once its grace passed."""
    made = 0
    query = (
        select(Loan, Product)
        .join(Product, col(Product.id) == Loan.product_id)
        .where(Product.subsidy_mode == SubsidyMode.direct_periodic.value, col(Loan.status).in_(("active", "settled")))
    )
    for loan, product in session.exec(query):
        start, end = previous_period(day, months=product.subsidy_period_months)
        if day <= end + timedelta(days=product.grace_days) or (loan.disbursed_on and loan.disbursed_on > end):
            continue
        if claim_period(session, loan, product, start, end, on=day):
            made += 1
    return made


def record_paid(session: Session, subsidy_id: str, *, paid_on: date) -> None:
    """subsidy.paid from funds: the claim is settled; under 先收后贴 it records how long the borrower advanced."""
    subsidy = session.get(Subsidy, subsidy_id)
    if subsidy is None or subsidy.status == "paid":
        return
    subsidy.status, subsidy.paid_on = "paid", paid_on
    if subsidy.mode == SubsidyMode.collect_then_reimburse:
        subsidy.advance_days = _advance_days(session, subsidy, paid_on)
    session.add(subsidy)


def _advance_days(session: Session, subsidy: Subsidy, paid_on: date) -> int:
    """Days the borrower's money was out, weighted by each installment's subsidy (prepaid interest → refund)."""
    rows = session.exec(
        select(Installment).where(
            Installment.loan_id == subsidy.loan_id,
            Installment.due_date >= subsidy.period_start,
            Installment.due_date <= subsidy.period_end,
            col(Installment.paid_on).is_not(None),
        )
    )
    weight = total = Decimal(0)
    for i in rows:
        if i.subsidy_due > 0 and i.paid_on:
            weight += i.subsidy_due * (paid_on - i.paid_on).days
            total += i.subsidy_due
    return int((weight / total).to_integral_value()) if total else 0


def loan_summary(session: Session, loan: Loan) -> LoanSubsidySummary:
    """Interest accrued and paid by the borrower, subsidy claimed and paid, and what the borrower advanced."""
    product = session.get(Product, loan.product_id)
    assert product is not None
    inst = session.exec(
        select(
            func.coalesce(func.sum(Installment.interest_paid), 0),
        ).where(Installment.loan_id == loan.id)
    ).one()
    subsidies = list(session.exec(select(Subsidy).where(Subsidy.loan_id == loan.id)))
    claimed = sum((s.amount for s in subsidies), ZERO)
    paid = sum((s.amount for s in subsidies if s.status == "paid"), ZERO)
    advanced = claimed - paid if product.subsidy_mode == SubsidyMode.collect_then_reimburse else ZERO
    if product.subsidy_mode == SubsidyMode.collect_then_reimburse and loan.status == "active":
        advanced = _prepaid_subsidy(session, loan, product)
    return LoanSubsidySummary(
        loan_id=loan.id,
        mode=product.subsidy_mode,
        interest_accrued=loan.interest_accrued,
        interest_paid_by_borrower=Decimal(inst).quantize(FEN),
        subsidy_claimed=claimed,
        subsidy_paid=paid,
        borrower_advanced=advanced,
        advance_days=max((s.advance_days for s in subsidies), default=0),
    )


def _prepaid_subsidy(session: Session, loan: Loan, product: Product) -> Decimal:
    rows = session.exec(
        select(Installment).where(Installment.loan_id == loan.id, col(Installment.paid_on).is_not(None))
    )
    return sum((subsidy_of(i, product.grace_days) for i in rows), ZERO)
