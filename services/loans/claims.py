"""Default (违约) and risk compensation (风险补偿): the claim on the pool, funds' payment, later recoveries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from services.loans import events, products, repayments
from services.loans.domain.compensation import claim_amount, recovery_to_pool
from services.loans.models import Claim, Loan, Pool, Product, Repayment
from services.loans.schemas import DefaultDeclare, RecoveryCreate, RepaymentCreate
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict
from shared.events.outbox import emit
from shared.refusals import Refusal, refuse_if
from shared.scope import get_in_scope

ZERO = Decimal("0.00")


def declare_default(session: Session, loan_id: str, body: DefaultDeclare, principal: Principal) -> Claim:
    """A loan past the product's threshold (e.g. 90 days) is declared in default and a claim is requested."""
    loan = get_in_scope(session, Loan, loan_id, principal, what="loan")
    if loan.status != "active":
        raise Conflict(f"the loan is {loan.status}", field="status")
    product = session.get(Product, loan.product_id)
    pool = session.get(Pool, loan.pool_id)
    assert product is not None and pool is not None
    if loan.days_past_due < product.default_after_days:
        refuse_if(
            [
                Refusal(
                    "not_past_threshold",
                    f"{loan.days_past_due} days past due; default needs {product.default_after_days}",
                    "status",
                )
            ]
        )
    today = session_clock(session).today()
    installments = repayments.open_installments(session, loan)
    repayments.accrue_penalties(product, installments, today)
    interest_loss = sum((repayments.owed(i).interest for i in installments if i.due_date <= today), ZERO)
    available = pool.balance - products.claims_pending(session, pool.id)
    amount = claim_amount(
        principal_loss=loan.principal_outstanding,
        interest_loss=interest_loss,
        government_share=product.government_share,
        covers_interest=product.compensation_covers_interest,
        pool_available=available,
    )
    loan.status, loan.defaulted_on = "defaulted", today
    claim = Claim(
        loan_id=loan.id,
        pool_id=pool.id,
        region_code=loan.region_code,
        principal_loss=amount.principal_loss,
        interest_loss=amount.interest_loss,
        government_share=product.government_share,
        amount=amount.amount,
        requested_on=today,
    )
    session.add_all([loan, claim, *installments])
    session.flush()
    audit.record(
        session,
        actor=principal.subject,
        action="loan.default",
        resource=f"loan:{loan.id}",
        detail={"reason": body.reason, "claim": str(amount.amount), "bounded": amount.bounded_by_pool},
    )
    events.loan_event(session, "loan.defaulted", loan, reason=body.reason, days_past_due=loan.days_past_due)
    emit(
        session,
        "loan.compensation_requested",
        claim.id,
        {
            "claim_id": claim.id,
            "loan_id": loan.id,
            "pool_id": pool.id,
            "amount": str(claim.amount),
            "principal_loss": str(claim.principal_loss),
            "interest_loss": str(claim.interest_loss),
            "government_share": str(claim.government_share),
            "bounded_by_pool": amount.bounded_by_pool,
            "region_code": loan.region_code,
        },
    )
    return claim


def record_paid(session: Session, claim_id: str, *, amount: str, paid_on: date) -> None:
    """compensation.paid from funds: the claim is settled, the pool pays it, the loan is compensated."""
    claim = session.get(Claim, claim_id)
    if claim is None or claim.status == "paid":
        return
    pool = session.get(Pool, claim.pool_id)
    loan = session.get(Loan, claim.loan_id)
    assert pool is not None and loan is not None
    paid = Decimal(amount)
    claim.status, claim.paid_on, claim.amount = "paid", paid_on, paid
    products.move_pool(
        session, pool, kind="compensation", amount=-paid, actor="event:compensation.paid", claim_id=claim.id
    )
    loan.status = "compensated"
    session.add_all([claim, loan])


def recover(session: Session, loan_id: str, body: RecoveryCreate, principal: Principal) -> Repayment:
    """Money recovered from a defaulted borrower: applied to the loan; the government's share goes to the pool."""
    loan = get_in_scope(session, Loan, loan_id, principal, what="loan")
    if loan.status not in ("defaulted", "compensated"):
        raise Conflict("recoveries are for defaulted loans; use repayments", field="status")
    repayment = repayments.repay(
        session,
        loan_id,
        RepaymentCreate(amount=body.amount, paid_on=body.paid_on, reference=body.reference),
        principal,
        kind="recovery",
    )
    claim = session.exec(select(Claim).where(Claim.loan_id == loan.id)).first()
    if claim is not None and claim.status == "paid":
        pool = session.get(Pool, claim.pool_id)
        assert pool is not None
        back = recovery_to_pool(recovered=body.amount, government_share=claim.government_share)
        claim.recovered += back
        products.move_pool(session, pool, kind="recovery", amount=back, actor=principal.subject, claim_id=claim.id)
        session.add(claim)
        if back > ZERO:  # funds puts the same money back into its ledger's pool
            emit(
                session,
                "loan.recovered",
                repayment.id,
                {
                    "recovery_id": repayment.id,
                    "claim_id": claim.id,
                    "loan_id": loan.id,
                    "pool_id": pool.id,
                    "amount": str(back),
                    "recovered_on": repayment.paid_on,
                    "region_code": loan.region_code,
                },
            )
    return repayment
