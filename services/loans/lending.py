"""Ratings (评级授信), applications, approvals within the line and the pool's leverage, and disbursement."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.loans import events, products
from services.loans.domain import eligibility
from services.loans.domain.compensation import check_leverage
from services.loans.domain.schedule import LoanTerms, Schedule, generate_schedule, term_months
from services.loans.domain.subsidy import Coverage, SubsidyMode, borrower_bills_net, subsidised_interest
from services.loans.models import Borrower, Installment, Loan, Pool, Product, Rating
from services.loans.schemas import (
    Conventions,
    LoanApply,
    LoanDecision,
    LoanDisburse,
    LoanReject,
    RatingCreate,
    SchedulePreview,
)
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, ValidationFailed
from shared.identity import InvalidIdentifier, validate_credit_code
from shared.refusals import Refusal, refuse_if
from shared.scope import get_in_scope, require_region

TERM_FIELDS = {f.name for f in fields(LoanTerms)}


def preview_terms(body: SchedulePreview) -> LoanTerms:
    return LoanTerms(**body.model_dump(exclude_none=True))


def loan_terms(
    product: Product, *, principal: Decimal, number_of_repayments: int, disbursed_on: date, first_repayment: date | None
) -> LoanTerms:
    """The terms of a loan: the product's conventions, its rate, and the loan's own amount and dates."""
    parsed = Conventions.model_validate(product.conventions).model_dump(exclude_none=True)
    conventions = {k: v for k, v in parsed.items() if k in TERM_FIELDS}
    return LoanTerms(
        principal=principal,
        interest_rate_per_period=product.annual_rate,
        number_of_repayments=number_of_repayments,
        expected_disbursement_date=disbursed_on,
        repayments_starting_from_date=first_repayment,
        **conventions,
    )


def create_rating(session: Session, body: RatingCreate, principal: Principal) -> Rating:
    region = _borrower_region(session, body.borrower_kind, body.household_id, body.entity_code, body.region_code)
    require_region(principal, region)
    if body.valid_to < body.valid_from:
        raise ValidationFailed("valid_to is before valid_from", field="valid_to")
    rating = Rating(
        **body.model_dump(exclude={"region_code"}),
        region_code=region,
        rated_by=principal.subject,
        created_at=session_clock(session).now(),
    )
    session.add(rating)
    session.flush()
    audit.record(
        session,
        actor=principal.subject,
        action="rating.create",
        resource=f"rating:{rating.id}",
        detail={"grade": rating.grade, "line": str(rating.line_amount)},
    )
    return rating


def apply(session: Session, body: LoanApply, principal: Principal, *, renewal_of: str | None = None) -> Loan:
    """An application, checked against the borrower's status and the product's limits."""
    product = products.get_product(session, body.product_id)
    region = _borrower_region(session, body.borrower_kind, body.household_id, body.entity_code, body.region_code)
    require_region(principal, region)
    borrower = session.get(Borrower, body.household_id) if body.household_id else None
    applicant = eligibility.Applicant(
        borrower_kind=body.borrower_kind,
        household_status=borrower.status if borrower else None,
        entity_code_valid=_credit_code_valid(body.entity_code),
        voluntary=body.voluntary,
        acknowledged_repayable=body.acknowledged_repayable,
        purpose=body.purpose,
    )
    terms = loan_terms(
        product,
        principal=body.amount,
        number_of_repayments=body.number_of_repayments,
        disbursed_on=session_clock(session).today(),
        first_repayment=None,
    )
    refuse_if(
        eligibility.check_application(applicant, _limits(product), amount=body.amount, term_months=term_months(terms))
    )
    loan = Loan(
        **body.model_dump(
            exclude={"product_id", "region_code", "amount", "number_of_repayments", "repayments_starting_from_date"}
        ),
        product_id=product.id,
        pool_id=product.pool_id,
        region_code=region,
        renewal_of=renewal_of,
        amount_requested=body.amount,
        amount=body.amount,
        status="applied",
        terms={
            "number_of_repayments": body.number_of_repayments,
            "repayments_starting_from_date": body.repayments_starting_from_date.isoformat()
            if body.repayments_starting_from_date
            else None,
        },
        applied_by=principal.subject,
        applied_at=session_clock(session).now(),
    )
    session.add(loan)
    session.flush()
    return loan


def approve(session: Session, loan_id: str, body: LoanDecision, principal: Principal) -> Loan:
    """Approval by the bank within the credit line, the product's limits and the pool's leverage room."""
    loan = _loan_in(session, loan_id, principal, "applied")
    product = session.get(Product, loan.product_id)
    assert product is not None
    amount = body.amount or loan.amount_requested
    if amount > loan.amount_requested:
        raise ValidationFailed("an approval cannot exceed the amount applied for", field="amount")
    today = session_clock(session).today()
    rating = _rating(session, loan, body.rating_id)
    terms = loan_terms(
        product,
        principal=amount,
        number_of_repayments=loan.terms["number_of_repayments"],
        disbursed_on=today,
        first_repayment=None,
    )
    pool = session.get(Pool, loan.pool_id)
    assert pool is not None
    outstanding = products.pool_outstanding(session, pool.id, lock=True)
    refuse_if(
        eligibility.check_limits(_limits(product), amount=amount, term_months=term_months(terms))
        + eligibility.check_credit_line(
            amount=amount,
            line=rating.line_amount if rating else None,
            valid_to=rating.valid_to if rating else None,
            on=today,
            outstanding=_borrower_outstanding(session, loan),
        )
        + check_leverage(amount=amount, balance=pool.balance, multiple=pool.leverage_multiple, outstanding=outstanding)
    )
    generate_schedule(terms)  # the terms must make a schedule before anyone says yes
    _decide(session, loan, principal, status="approved", reason=body.reason)
    loan.amount, loan.rating_id = amount, rating.id if rating else None
    events.loan_event(session, "loan.approved", loan)
    return loan


def reject(session: Session, loan_id: str, body: LoanReject, principal: Principal) -> Loan:
    loan = _loan_in(session, loan_id, principal, "applied")
    _decide(session, loan, principal, status="rejected", reason=body.reason)
    return loan


def disburse(session: Session, loan_id: str, body: LoanDisburse, principal: Principal) -> Loan:
    """Disbursement (放款): the contract, the schedule from the product's conventions, and loan.disbursed."""
    loan = _loan_in(session, loan_id, principal, "approved")
    today = session_clock(session).today()
    on = body.disbursed_on or today
    if on > today:
        raise ValidationFailed("a disbursement cannot be dated in the future", field="disbursed_on")
    if session.exec(select(Loan.id).where(Loan.contract_no == body.contract_no)).first():
        raise Conflict(f"contract {body.contract_no} exists", field="contract_no")
    product = session.get(Product, loan.product_id)
    assert product is not None
    first = loan.terms.get("repayments_starting_from_date")
    terms = loan_terms(
        product,
        principal=loan.amount,
        number_of_repayments=loan.terms["number_of_repayments"],
        disbursed_on=on,
        first_repayment=date.fromisoformat(first) if first else None,
    )
    schedule = generate_schedule(terms)
    loan.contract_no, loan.account_no, loan.disbursed_on = body.contract_no, body.account_no, on
    loan.status, loan.principal_outstanding = "active", loan.amount
    write_schedule(session, loan, product, schedule, version=1)
    session.add(loan)
    audit.record(
        session,
        actor=principal.subject,
        action="loan.disburse",
        resource=f"loan:{loan.id}",
        detail={"amount": str(loan.amount), "contract_no": loan.contract_no},
    )
    events.loan_event(
        session,
        "loan.disbursed",
        loan,
        disbursed_on=on.isoformat(),
        maturity_date=loan.maturity_date.isoformat() if loan.maturity_date else None,
    )
    if loan.renewal_of:
        from services.loans import repayments

        repayments.close_by_renewal(session, loan, principal)
    return loan


def write_schedule(session: Session, loan: Loan, product: Product, schedule: Schedule, *, version: int) -> None:
    """Installments of one schedule version, with the subsidised part of each period's interest split off."""
    coverage, mode = Coverage(product.subsidy_coverage), SubsidyMode(product.subsidy_mode)
    net = borrower_bills_net(mode)
    rows = []
    for p in schedule.periods:
        subsidy = subsidised_interest(
            p.interest_due, coverage=coverage, rate=product.annual_rate, benchmark=product.benchmark_rate
        )
        rows.append(
            Installment(
                loan_id=loan.id,
                schedule_version=version,
                number=p.period,
                from_date=p.from_date,
                due_date=p.due_date,
                principal_due=p.principal_due,
                interest_due=p.interest_due,
                subsidy_due=subsidy,
                borrower_interest_due=p.interest_due - subsidy if net else p.interest_due,
            )
        )
    session.add_all(rows)
    loan.schedule_version, loan.maturity_date = version, schedule.maturity_date
    loan.terms = loan.terms | {"schedule": _terms_json(schedule.terms)}


def _terms_json(terms: LoanTerms) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(terms):
        value = getattr(terms, f.name)
        out[f.name] = value if isinstance(value, bool | int | type(None)) else str(value)
    return out


def _decide(session: Session, loan: Loan, principal: Principal, *, status: str, reason: str) -> None:
    loan.status, loan.decision_reason = status, reason
    loan.decided_by, loan.decided_at = principal.subject, session_clock(session).now()
    session.add(loan)
    audit.record(
        session,
        actor=principal.subject,
        action=f"loan.{status}",
        resource=f"loan:{loan.id}",
        detail={"amount": str(loan.amount), "reason": reason},
    )


def _loan_in(session: Session, loan_id: str, principal: Principal, *statuses: str) -> Loan:
    loan = get_in_scope(session, Loan, loan_id, principal, what="loan")
    if loan.status not in statuses:
        raise Conflict(f"the loan is {loan.status}, not {' or '.join(statuses)}", field="status")
    return loan


def _rating(session: Session, loan: Loan, rating_id: str | None) -> Rating | None:
    query = select(Rating).order_by(col(Rating.valid_to).desc())
    if loan.borrower_kind == "household":
        query = query.where(Rating.household_id == loan.household_id)
    else:
        query = query.where(Rating.entity_code == loan.entity_code)
    if rating_id:
        query = query.where(Rating.id == rating_id)
    return session.exec(query).first()


def _borrower_outstanding(session: Session, loan: Loan) -> Decimal:
    """What the borrower already owes or has been approved for on other loans (the line is shared)."""
    same = Loan.household_id == loan.household_id if loan.household_id else Loan.entity_code == loan.entity_code
    active = session.exec(
        select(func.coalesce(func.sum(Loan.principal_outstanding), 0)).where(
            same, Loan.id != loan.id, Loan.status == "active"
        )
    ).one()
    approved = session.exec(
        select(func.coalesce(func.sum(Loan.amount), 0)).where(same, Loan.id != loan.id, Loan.status == "approved")
    ).one()
    return Decimal(active) + Decimal(approved)


def _borrower_region(
    session: Session, kind: str, household_id: str | None, entity_code: str | None, region_code: str | None
) -> str:
    if kind == "household":
        if not household_id:
            raise ValidationFailed("a household borrower needs household_id", field="household_id")
        borrower = session.get(Borrower, household_id)
        if borrower is None:
            refuse_if([Refusal("not_eligible", "the household is not recognised as poor (建档立卡)", "household_id")])
        assert borrower is not None
        if region_code and region_code != borrower.region_code:
            raise ValidationFailed(f"the household lives in {borrower.region_code}", field="region_code")
        return borrower.region_code
    if not entity_code:
        raise ValidationFailed("an entity borrower needs its unified social credit code", field="entity_code")
    if not region_code:
        raise ValidationFailed("an entity borrower needs region_code", field="region_code")
    return region_code


def _credit_code_valid(code: str | None) -> bool:
    if code is None:
        return False
    try:
        validate_credit_code(code)
    except InvalidIdentifier:
        return False
    return True


def _limits(product: Product) -> eligibility.ProductLimits:
    return eligibility.ProductLimits(
        product.borrower_kind,
        product.min_amount,
        product.max_amount,
        product.max_term_months,
        tuple(product.eligible_purposes),
    )
