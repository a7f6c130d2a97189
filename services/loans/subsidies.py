"""Interest subsidies (贴息): what the government owes per loan and period, claimed with loan.subsidy_due and
settled by funds' subsidy.paid. Only interest due and paid on time counts; penalty interest never does."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table, case, exists, func, insert
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from services.loans.domain.subsidy import SubsidyMode, earned_share, paid_on_time, previous_period
from services.loans.models import Installment, Loan, Product, Subsidy, from_fen, in_fen
from services.loans.schemas import LoanSubsidySummary
from shared.events.outbox import emit_many
from shared.ids import new_id

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
BATCH = 2000


# SQLModel sets __table__ when it makes a table class; its stubs do not declare it.
SUBSIDY_TABLE: Table = Subsidy.__table__  # type: ignore[attr-defined]
LOAN, INST, SUB = Loan.__table__.c, Installment.__table__.c, SUBSIDY_TABLE.c  # type: ignore[attr-defined]


def subsidy_of(i: Installment, grace_days: int) -> Decimal:
    """The subsidy an installment earns: its share of the interest actually charged, if paid on time."""
    if not paid_on_time(due_date=i.due_date, paid_on=i.paid_on, grace_days=grace_days):
        return ZERO
    return earned_share(i.subsidy_due, interest_due=i.interest_due, interest_waived=i.interest_waived)


def claim_period(session: Session, loan: Loan, product: Product, start: date, end: date, *, on: date) -> int:
    """One claim for ``start``..``end`` unless it exists or nothing is owed (safe to run again); 1 if made."""
    return claim_periods(session, product, start, end, on=on, where=[LOAN.id == loan.id])


def claim_periods(
    session: Session, product: Product, start: date, end: date, *, on: date, where: Sequence[ColumnElement[bool]]
) -> int:
    """Claims for ``start``..``end`` for the product's loans matching ``where`` that have none for it yet and are
    owed something: one grouped query streamed ``BATCH`` loans at a time, each batch's rows written with one
    statement and its loan.subsidy_due events with another."""
    made = 0
    for owed in _owed(session, product, start, end, where):
        _write_claims(session, product, start, end, on=on, owed=owed)
        made += len(owed)
    return made


def _write_claims(session: Session, product: Product, start: date, end: date, *, on: date, owed: list[Owed]) -> None:
    if not owed:
        return
    mode = SubsidyMode(product.subsidy_mode)
    payee = "borrower" if mode is SubsidyMode.collect_then_reimburse else "bank"
    ids = [new_id() for _ in owed]
    rows = [
        {
            "id": sid,
            "loan_id": o.loan_id,
            "region_code": o.region_code,
            "mode": mode.value,
            "payee": payee,
            "period_start": start,
            "period_end": end,
            "amount": o.amount,
            "claimed_on": on,
            "interest_accrued": o.accrued,
            "interest_paid": o.paid,
            "advance_days": 0,
            "status": "due",
        }
        for sid, o in zip(ids, owed, strict=True)
    ]
    session.execute(insert(SUBSIDY_TABLE), rows)
    emit_many(
        session,
        "loan.subsidy_due",
        [
            (
                sid,
                {
                    "subsidy_id": sid,
                    "loan_id": o.loan_id,
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "amount": str(o.amount),
                    "mode": mode.value,
                    "payee": payee,
                    "region_code": o.region_code,
                    "contract_no": o.contract_no,
                },
            )
            for sid, o in zip(ids, owed, strict=True)
        ],
    )


@dataclass(frozen=True)
class Owed:
    loan_id: str
    region_code: str
    contract_no: str | None
    amount: Decimal
    accrued: Decimal
    paid: Decimal


def _on_time(session: Session, grace_days: int) -> ColumnElement[bool]:
    """``paid_on_time`` in SQL: paid by the due date plus the grace days."""
    if session.get_bind().dialect.name == "sqlite":
        deadline: Any = func.date(INST.due_date, f"+{int(grace_days)} days")
    else:
        deadline = INST.due_date + int(grace_days)  # PostgreSQL: date + integer is a date
    return INST.paid_on <= deadline


def _owed(
    session: Session, product: Product, start: date, end: date, where: Sequence[ColumnElement[bool]]
) -> Iterator[list[Owed]]:
    """Per loan without a claim for ``start``: the on-time subsidy, interest charged and paid in the period, in
    batches (the query is streamed, so memory holds one batch; claims are written between them).

    An installment's share is its whole subsidy unless interest was waived (an early payoff); those few are
    read and shared out in Python, exactly as ``subsidy_of`` does.
    """
    on_time = _on_time(session, product.grace_days) & (INST.interest_due != 0)
    waived = INST.interest_waived != 0
    in_period = [
        INST.loan_id == LOAN.id,
        INST.due_date >= start,
        INST.due_date <= end,
        INST.paid_on.is_not(None),
        LOAN.product_id == product.id,
        *where,
        ~exists().where(SUB.loan_id == LOAN.id, SUB.period_start == start),
    ]
    query = (
        core_select(
            LOAN.id,
            LOAN.region_code,
            LOAN.contract_no,
            func.sum(case((on_time & ~waived, in_fen(INST.subsidy_due)), else_=0)),
            func.sum(case((on_time & waived, 1), else_=0)),
            func.sum(in_fen(INST.interest_due) - in_fen(INST.interest_waived)),
            func.sum(in_fen(INST.interest_paid)),
        )
        .where(*in_period)
        .group_by(LOAN.id, LOAN.region_code, LOAN.contract_no)
    )
    for totals in session.execute(query.execution_options(yield_per=BATCH)).partitions():
        shared_out = _waived_shares(session, [t[0] for t in totals if t[4]], in_period, on_time & waived)
        owed = [
            Owed(
                loan_id,
                region,
                contract,
                from_fen(plain) + shared_out.get(loan_id, ZERO),
                from_fen(accrued),
                from_fen(paid),
            )
            for loan_id, region, contract, plain, _, accrued, paid in totals
        ]
        yield [o for o in owed if o.amount > 0]


def _waived_shares(
    session: Session, loan_ids: list[str], in_period: list[ColumnElement[bool]], earning: ColumnElement[bool]
) -> dict[str, Decimal]:
    shares: dict[str, Decimal] = {}
    for chunk in (loan_ids[k : k + 500] for k in range(0, len(loan_ids), 500)):
        rows = session.execute(
            core_select(LOAN.id, INST.subsidy_due, INST.interest_due, INST.interest_waived).where(
                *in_period, earning, LOAN.id.in_(chunk)
            )
        )
        for loan_id, subsidy, interest, waived in rows:
            share = earned_share(subsidy, interest_due=interest, interest_waived=waived)
            shares[loan_id] = shares.get(loan_id, ZERO) + share
    return shares


def claim_at_settlement(session: Session, loan: Loan, product: Product, on: date) -> None:
    """直接贴息 at settlement and 先收后贴 claim once, when the loan is settled."""
    if product.subsidy_mode == SubsidyMode.direct_periodic or loan.disbursed_on is None:
        return
    claim_period(session, loan, product, loan.disbursed_on, on, on=on)


def claim_due_periods(session: Session, day: date) -> int:
    """The nightly part: direct periodic claims for the period that ended before ``day``, once its grace passed.

    Per product one grouped query over the loans still without that period's claim; a loan disbursed after the
    period has nothing in it.
    """
    made = 0
    products = session.execute(
        core_select(Product).where(col(Product.subsidy_mode) == SubsidyMode.direct_periodic.value)
    ).scalars()
    for product in list(products):
        start, end = previous_period(day, months=product.subsidy_period_months)
        if day <= end + timedelta(days=product.grace_days):
            continue
        made += claim_periods(
            session,
            product,
            start,
            end,
            on=day,
            where=[
                LOAN.status.in_(("active", "settled")),
                LOAN.disbursed_on.is_(None) | (LOAN.disbursed_on <= end),
            ],
        )
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
