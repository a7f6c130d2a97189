"""Repayments (还款): allocation in the product's order, early payoff, reversal by a compensating entry,
settlement (loan.repaid), and extensions (展期) and renewals (续贷) with their reasons."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import cast

from sqlmodel import Session, col, select

from services.loans import events, lending, subsidies
from services.loans.domain.allocation import Allocation, Owed, Part, allocate
from services.loans.domain.arrears import OpenInstallment, PenaltyRule, accrued_interest, penalty_increment
from services.loans.domain.schedule import generate_schedule
from services.loans.models import Extension, Installment, Loan, Product, Repayment
from services.loans.schemas import (
    BorrowerKind,
    Conventions,
    ExtensionCreate,
    LoanApply,
    RepaymentCreate,
    RepaymentReverse,
)
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.refusals import Refusal, refuse_if
from shared.scope import get_in_scope

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def open_installments(session: Session, loan: Loan) -> list[Installment]:
    return list(
        session.exec(
            select(Installment)
            .where(
                Installment.loan_id == loan.id,
                Installment.schedule_version == loan.schedule_version,
                col(Installment.open).is_(True),
            )
            .order_by(col(Installment.number))
        )
    )


def owed(i: Installment) -> Owed:
    return Owed(
        number=i.number,
        penalty=max(i.penalty_accrued.quantize(FEN) - i.penalty_paid, ZERO),
        interest=i.borrower_interest_due - i.interest_waived - i.interest_paid,
        principal=i.principal_due - i.principal_paid,
    )


def penalty_rule(product: Product) -> PenaltyRule:
    """The product's penalty terms, its days a year read as the schedule engine reads them."""
    days_in_year = Conventions.model_validate(product.conventions).days_in_year_type
    return PenaltyRule(product.annual_rate, product.penalty_uplift, product.grace_days, days_in_year)


def accrue_penalties(product: Product, installments: list[Installment], day: date) -> None:
    """Bring penalty interest (罚息) on overdue principal up to ``day``; the grace days carry none."""
    rule = penalty_rule(product)
    for i in installments:
        add, through = penalty_increment(
            rule,
            unpaid_principal=i.principal_due - i.principal_paid,
            due_date=i.due_date,
            through=i.penalty_through,
            day=day,
        )
        i.penalty_accrued += add
        i.penalty_through = through


def payoff(installments: list[Installment], day: date) -> tuple[Decimal, dict[int, Decimal]]:
    """What settles the loan on ``day`` (提前结清): everything due, principal, and interest accrued so far;
    interest of later days is waived. Returns the amount and the waiver per installment."""
    total, waived = ZERO, {}
    for i in installments:
        o = owed(i)
        if i.due_date > day:
            earned = accrued_interest(day, [OpenInstallment(i.from_date, i.due_date, i.borrower_interest_due, ZERO)])
            waive = max(o.interest - max(earned - i.interest_paid, ZERO), ZERO)
            if waive:
                waived[i.number] = waive
            total += o.penalty + o.interest - waive + o.principal
        else:
            total += o.penalty + o.interest + o.principal
    return total, waived


def repay(
    session: Session, loan_id: str, body: RepaymentCreate, principal: Principal, *, kind: str = "repayment"
) -> Repayment:
    """A payment: penalties brought up to its day, then oldest installment first, parts in the product's order."""
    loan = _active(session, loan_id, principal, "active", "defaulted", "compensated")
    today = session_clock(session).today()
    paid_on = body.paid_on or today
    if paid_on > today:
        raise ValidationFailed("a repayment cannot be dated in the future", field="paid_on")
    if loan.disbursed_on and paid_on < loan.disbursed_on:
        raise ValidationFailed("a repayment cannot come before the disbursement", field="paid_on")
    return apply_payment(
        session, loan, amount=body.amount, paid_on=paid_on, actor=principal.subject, kind=kind, reference=body.reference
    )


def apply_payment(
    session: Session, loan: Loan, *, amount: Decimal, paid_on: date, actor: str, kind: str, reference: str = ""
) -> Repayment:
    product = session.get(Product, loan.product_id)
    assert product is not None
    installments = open_installments(session, loan)
    accrue_penalties(product, installments, paid_on)
    quote, waived = payoff(installments, paid_on)
    if amount > quote:
        refuse_if([Refusal("more_than_payoff", f"the loan is settled by {quote} on {paid_on}", "amount")])
    settling = amount == quote
    if settling:
        for i in installments:
            i.interest_waived += waived.get(i.number, ZERO)
    order = tuple(Part(p) for p in product.allocation_order)
    allocations, _ = allocate(amount, [owed(i) for i in installments], order)
    by_number = {i.number: i for i in installments}
    for a in allocations:
        _apply(by_number[a.number], a, paid_on)
    rows = [_allocation_json(a, waived.get(a.number, ZERO) if settling else ZERO) for a in allocations]
    if settling:
        rows += [
            {"number": n, "penalty": "0.00", "interest": "0.00", "principal": "0.00", "waived": str(w)}
            for n, w in waived.items()
            if n not in {a.number for a in allocations}
        ]
    for i in installments:
        _close_if_paid(i, paid_on)
    session.add_all(installments)
    principal_paid = sum((a.principal for a in allocations), ZERO)
    loan.principal_outstanding -= principal_paid
    repayment = Repayment(
        loan_id=loan.id,
        kind=kind,
        paid_on=paid_on,
        amount=amount,
        reference=reference,
        created_by=actor,
        penalty=sum((a.penalty for a in allocations), ZERO),
        interest=sum((a.interest for a in allocations), ZERO),
        principal=principal_paid,
        allocations=rows,
        created_at=session_clock(session).now(),
    )
    session.add(repayment)
    audit.record(
        session,
        actor=actor,
        action=f"loan.{kind}",
        resource=f"loan:{loan.id}",
        detail={"amount": str(amount), "paid_on": paid_on.isoformat()},
    )
    if loan.status == "active" and all(not i.open for i in installments):
        settle(session, loan, product, paid_on)
    session.add(loan)
    session.flush()
    return repayment


def settle(session: Session, loan: Loan, product: Product, on: date) -> None:
    """Settlement (结清): loan.repaid, and the subsidy claims that wait for it."""
    loan.status, loan.settled_on, loan.days_past_due, loan.bucket = "settled", on, 0, "current"
    events.loan_event(session, "loan.repaid", loan, settled_on=on.isoformat())
    subsidies.claim_at_settlement(session, loan, product, on)


def reverse(
    session: Session, loan_id: str, repayment_id: str, body: RepaymentReverse, principal: Principal
) -> Repayment:
    """Reverse a mistaken repayment by a compensating entry (冲正); the original row is never touched."""
    loan = _active(session, loan_id, principal, "active", "settled", "defaulted", "compensated")
    original = session.get(Repayment, repayment_id)
    if original is None or original.loan_id != loan.id:
        raise NotFound(f"no repayment {repayment_id} on this loan")
    if original.kind == "reversal":
        raise Conflict("a reversal cannot itself be reversed", field="repayment_id")
    if session.exec(select(Repayment.id).where(Repayment.reverses_id == original.id)).first():
        raise Conflict("this repayment is already reversed", field="repayment_id")
    rows = {
        i.number: i
        for i in session.exec(
            select(Installment).where(
                Installment.loan_id == loan.id, Installment.schedule_version == loan.schedule_version
            )
        )
    }
    for a in original.allocations:
        i = rows[a["number"]]
        i.penalty_paid -= Decimal(a["penalty"])
        i.interest_paid -= Decimal(a["interest"])
        i.principal_paid -= Decimal(a["principal"])
        i.interest_waived -= Decimal(a.get("waived", "0"))
        i.open, i.paid_on = True, None
        _close_if_paid(i, i.last_paid_on or original.paid_on)
        session.add(i)
    loan.principal_outstanding += original.principal
    if loan.status == "settled":
        loan.status, loan.settled_on = "active", None
    compensating = Repayment(
        loan_id=loan.id,
        kind="reversal",
        reverses_id=original.id,
        paid_on=session_clock(session).today(),
        amount=-original.amount,
        penalty=-original.penalty,
        interest=-original.interest,
        principal=-original.principal,
        allocations=[
            {**a, **{k: str(-Decimal(a[k])) for k in ("penalty", "interest", "principal")}}
            for a in original.allocations
        ],
        reason=body.reason,
        created_by=principal.subject,
        created_at=session_clock(session).now(),
    )
    session.add_all([loan, compensating])
    audit.record(
        session,
        actor=principal.subject,
        action="loan.reversal",
        resource=f"loan:{loan.id}",
        detail={"reverses": original.id, "amount": str(original.amount), "reason": body.reason},
    )
    session.flush()
    return compensating


def extend(session: Session, loan_id: str, body: ExtensionCreate, principal: Principal) -> Extension:
    """展期 reschedules the outstanding principal over the remaining and extra periods; 续贷 opens a new loan."""
    loan = _active(session, loan_id, principal, "active")
    product = session.get(Product, loan.product_id)
    assert product is not None
    done = session.exec(select(Extension.id).where(Extension.loan_id == loan.id, Extension.kind == body.kind)).all()
    if len(done) >= product.max_extensions:
        refuse_if([Refusal("too_many_extensions", f"at most {product.max_extensions} per loan (通常一次)", "kind")])
    now = session_clock(session).now()
    if body.kind == "renewal":
        return _renew(session, loan, product, body, principal)
    if not 0 < body.extra_months <= product.max_extension_months:
        refuse_if([Refusal("extension_out_of_range", f"1 to {product.max_extension_months} months", "extra_months")])
    installments = open_installments(session, loan)
    today = now.date()
    if any(i.due_date < today for i in installments):
        refuse_if([Refusal("in_arrears", "settle the overdue installments before an extension", "kind")])
    if any(i.principal_paid or i.interest_paid for i in installments):
        refuse_if([Refusal("period_partly_paid", "the current period is partly paid; extend after it", "kind")])
    terms = lending.loan_terms(
        product,
        principal=loan.principal_outstanding,
        number_of_repayments=_extended_count(len(installments), body.extra_months, product),
        disbursed_on=installments[0].from_date,
        first_repayment=None,
    )
    schedule = generate_schedule(terms)
    for i in installments:
        i.open = False
        session.add(i)
    lending.write_schedule(session, loan, product, schedule, version=loan.schedule_version + 1)
    extension = Extension(
        loan_id=loan.id,
        kind="extension",
        reason=body.reason,
        extra_months=body.extra_months,
        new_maturity_date=schedule.maturity_date,
        created_by=principal.subject,
        created_at=now,
    )
    session.add_all([loan, extension])
    audit.record(
        session,
        actor=principal.subject,
        action="loan.extension",
        resource=f"loan:{loan.id}",
        detail={"extra_months": body.extra_months, "reason": body.reason},
    )
    session.flush()
    return extension


def _extended_count(remaining: int, extra_months: int, product: Product) -> int:
    every = int(product.conventions.get("repayment_every", 1))
    if product.conventions.get("repayment_frequency_type", "months") != "months" or extra_months % every:
        refuse_if(
            [
                Refusal(
                    "extension_not_whole_periods",
                    f"extra_months must be whole periods of {every} months",
                    "extra_months",
                )
            ]
        )
    return remaining + extra_months // every


def _renew(session: Session, loan: Loan, product: Product, body: ExtensionCreate, principal: Principal) -> Extension:
    """续贷: a new application on the same product version, which settles this loan when it is disbursed."""
    application = LoanApply(
        product_id=product.id,
        borrower_kind=cast(BorrowerKind, loan.borrower_kind),  # a str column; LoanApply validates it again
        household_id=loan.household_id,
        entity_code=loan.entity_code,
        entity_poor_households=loan.entity_poor_households,
        region_code=loan.region_code,
        borrower_name=loan.borrower_name,
        id_number=loan.id_number,
        phone=loan.phone,
        purpose=loan.purpose,
        enterprise_use=loan.enterprise_use,
        helper_id=loan.helper_id,
        voluntary=True,
        acknowledged_repayable=True,
        survey_report=f"续贷 of {loan.contract_no}: {body.reason}",
        amount=body.amount or loan.principal_outstanding,
        number_of_repayments=loan.terms["number_of_repayments"],
    )
    new = lending.apply(session, application, principal, renewal_of=loan.id)
    extension = Extension(
        loan_id=loan.id,
        kind="renewal",
        reason=body.reason,
        new_loan_id=new.id,
        created_by=principal.subject,
        created_at=session_clock(session).now(),
    )
    session.add(extension)
    audit.record(
        session,
        actor=principal.subject,
        action="loan.renewal",
        resource=f"loan:{loan.id}",
        detail={"new_loan_id": new.id, "reason": body.reason},
    )
    session.flush()
    return extension


def close_by_renewal(session: Session, new: Loan, principal: Principal) -> None:
    """The renewal's disbursement pays off the old loan (its payoff on the day), which settles it."""
    old = session.get(Loan, new.renewal_of)
    if old is None or old.status != "active":
        return
    assert new.disbursed_on is not None
    quote, _ = payoff(open_installments(session, old), new.disbursed_on)
    if quote > new.amount:
        refuse_if([Refusal("renewal_too_small", f"the old loan needs {quote} to settle", "amount")])
    apply_payment(
        session,
        old,
        amount=quote,
        paid_on=new.disbursed_on,
        actor=principal.subject,
        kind="renewal",
        reference=f"renewal {new.id}",
    )


def _apply(i: Installment, a: Allocation, paid_on: date) -> None:
    i.penalty_paid += a.penalty
    i.interest_paid += a.interest
    i.principal_paid += a.principal
    i.last_paid_on = paid_on


def _close_if_paid(i: Installment, paid_on: date) -> None:
    o = owed(i)
    if o.penalty == o.interest == o.principal == 0:
        i.open, i.paid_on = False, paid_on


def _allocation_json(a: Allocation, waived: Decimal) -> dict[str, str | int]:
    return {
        "number": a.number,
        "penalty": str(a.penalty),
        "interest": str(a.interest),
        "principal": str(a.principal),
        "waived": str(waived),
    }


def _active(session: Session, loan_id: str, principal: Principal, *statuses: str) -> Loan:
    loan = get_in_scope(session, Loan, loan_id, principal, what="loan")
    if loan.status not in statuses:
        raise Conflict(f"the loan is {loan.status}", field="status")
    return loan
