"""The funds side of the loans saga: interest subsidies (贴息) and risk compensation (风险补偿), each paid once,
and recoveries (追偿回收) on compensated loans put back into the pool once.

A request is keyed by its subsidy, claim or recovery id, so a redelivered event, or the same request published
again, moves money once. When the budget or pool is short, nothing is paid, the reason is recorded and said in an
event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from services.funds import accounts
from services.funds.domain.ledger import ZERO, AccountKind, TransactionKind, transfer
from services.funds.domain.policy import SourceKind
from services.funds.models import Budget, FundSource, RiskPool, SagaRequest
from services.funds.schemas import ContributionCreate, PoolCreate
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict
from shared.events.envelope import Envelope
from shared.events.outbox import emit
from shared.money import yuan
from shared.refusals import Refused
from shared.scope import get_in_scope, require_region

ACTOR = "event:loans"
log = logging.getLogger(__name__)


def _loan_payee(session: Session, loan_id: str, region_code: str) -> str:
    """The account of what a loan has received (the lending bank collects it for the borrower)."""
    return accounts.account_for(
        session,
        kind=AccountKind.payee,
        name=f"贷款 {loan_id}",
        region_code=region_code,
        owner_type="loan",
        owner_id=loan_id,
    ).id


def _subsidy_budgets(session: Session, year: int, region_code: str | None) -> list[Budget]:
    query = (
        select(Budget)
        .join(FundSource, col(FundSource.id) == Budget.source_id)
        .where(FundSource.kind == SourceKind.interest_subsidy.value, Budget.year == year)
        .order_by(col(Budget.created_at), col(Budget.id))
    )
    budgets = list(session.exec(query))
    return [b for b in budgets if not region_code or region_code.startswith(b.region_code)]


def _seen(session: Session, kind: str, request_id: str) -> bool:
    query = select(SagaRequest.id).where(SagaRequest.kind == kind, SagaRequest.request_id == request_id)
    return session.exec(query).first() is not None


def _record(
    session: Session,
    envelope: Envelope,
    *,
    kind: str,
    request_id: str,
    amount: Decimal,
    status: str,
    region_code: str,
    reason: str = "",
    transaction_id: str | None = None,
) -> None:
    session.add(
        SagaRequest(
            kind=kind,
            request_id=request_id,
            loan_id=envelope.data["loan_id"],
            amount=amount,
            status=status,
            region_code=region_code or envelope.data.get("region_code") or "",
            reason=reason,
            transaction_id=transaction_id,
            event_id=envelope.id,
            created_at=session_clock(session).now(),
        )
    )
    session.flush()


def _try_pay(
    session: Session,
    *,
    kind: TransactionKind,
    from_account: str,
    to_account: str,
    amount: Decimal,
    memo: str,
    reference: str,
    region_code: str,
) -> str | None:
    """The transaction id, or None when the paying account is short (nothing is written then)."""
    try:
        return accounts.post(
            session,
            kind=kind,
            postings=transfer(from_account=from_account, to_account=to_account, amount=amount),
            memo=memo,
            actor=ACTOR,
            reference=reference,
            region_code=region_code,
        ).id
    except Refused as refused:
        if refused.status != 409:
            raise
        return None


@dataclass(frozen=True)
class Answer:
    """What funds says back to a request: its kind, id, amount, region and the request's own fields."""

    kind: str
    request_id: str
    amount: Decimal
    region_code: str
    base: dict[str, Any]


def _answer(
    session: Session, envelope: Envelope, answer: Answer, paid_by: str | None, reason: str, available: Decimal
) -> None:
    """Record the request once and answer ``<kind>.paid`` with the transaction, or ``<kind>.short`` with why."""
    status = "paid" if paid_by else "short"
    _record(
        session,
        envelope,
        kind=answer.kind,
        request_id=answer.request_id,
        amount=answer.amount,
        status=status,
        region_code=answer.region_code,
        reason="" if paid_by else reason,
        transaction_id=paid_by,
    )
    if paid_by:
        extra: dict[str, Any] = {"transaction_id": paid_by, "paid_on": session_clock(session).today()}
    else:
        extra = {"reason": reason, "available": f"{available:.2f}"}
    emit(session, f"{answer.kind}.{status}", answer.request_id, answer.base | extra)


def on_subsidy_due(session: Session, envelope: Envelope) -> None:
    """loan.subsidy_due → subsidy.paid from the interest-subsidy budget of the period's year, or subsidy.short."""
    data = envelope.data
    if _seen(session, "subsidy", data["subsidy_id"]):
        return
    amount = yuan(data["amount"])
    period_end = data["period_end"]
    budgets = _subsidy_budgets(session, int(period_end[:4]), data.get("region_code"))
    available = sum(accounts.balances(session, [b.account_id for b in budgets]).values(), ZERO)
    paid_by, region = None, budgets[0].region_code if budgets else ""
    for budget in budgets:
        paid_by = _try_pay(
            session,
            kind=TransactionKind.subsidy,
            from_account=budget.account_id,
            to_account=_loan_payee(session, data["loan_id"], budget.region_code),
            amount=amount,
            memo=f"贴息 {data['loan_id']} {data['period_start']}–{period_end}",
            reference=data["subsidy_id"],
            region_code=budget.region_code,
        )
        if paid_by:
            region = budget.region_code
            break
    base = {k: data[k] for k in ("subsidy_id", "loan_id", "period_start", "period_end")} | {"amount": f"{amount:.2f}"}
    answer = Answer("subsidy", data["subsidy_id"], amount, region, base)
    _answer(session, envelope, answer, paid_by, "budget_short" if budgets else "no_budget", available)


def on_compensation_requested(session: Session, envelope: Envelope) -> None:
    """loan.compensation_requested → compensation.paid from the named pool, or compensation.short."""
    data = envelope.data
    if _seen(session, "compensation", data["claim_id"]):
        return
    amount = yuan(data["amount"])
    pool = session.get(RiskPool, data["pool_id"])
    paid_by = None
    if pool is not None:
        paid_by = _try_pay(
            session,
            kind=TransactionKind.compensation,
            from_account=pool.account_id,
            to_account=_loan_payee(session, data["loan_id"], pool.region_code),
            amount=amount,
            memo=f"风险补偿 {data['loan_id']} claim {data['claim_id']}",
            reference=data["claim_id"],
            region_code=pool.region_code,
        )
    base = {k: data[k] for k in ("claim_id", "loan_id", "pool_id")} | {"amount": f"{amount:.2f}"}
    available = accounts.balance(session, pool.account_id) if pool else ZERO
    answer = Answer("compensation", data["claim_id"], amount, pool.region_code if pool else "", base)
    _answer(session, envelope, answer, paid_by, "pool_short" if pool else "unknown_pool", available)


def create_pool(session: Session, body: PoolCreate, principal: Principal) -> RiskPool:
    require_region(principal, body.region_code)
    if session.get(RiskPool, body.id) is not None:
        raise Conflict(f"pool {body.id} exists", field="id")
    account = accounts.open_account(
        session,
        kind=AccountKind.pool,
        name=body.name,
        region_code=body.region_code,
        owner_type="pool",
        owner_id=body.id,
    )
    pool = RiskPool(**body.model_dump(), account_id=account.id, created_at=session_clock(session).now())
    session.add(pool)
    session.flush()
    return pool


def get_pool(session: Session, pool_id: str, principal: Principal) -> RiskPool:
    return get_in_scope(session, RiskPool, pool_id, principal, what="pool")


def contribute(session: Session, pool: RiskPool, body: ContributionCreate, principal: Principal) -> str:
    """Money into the pool (注资) from a source or budget account in the caller's scope."""
    accounts.require_accounts_in_scope(session, [body.from_account_id], principal)
    return accounts.post(
        session,
        kind=TransactionKind.contribution,
        postings=transfer(from_account=body.from_account_id, to_account=pool.account_id, amount=body.amount),
        memo=body.memo,
        actor=principal.subject,
        reference=pool.id,
        region_code=pool.region_code,
    ).id


def on_recovered(session: Session, envelope: Envelope) -> None:
    """loan.recovered → the pool's share of a recovery (追偿回收) flows back into the pool, once. The loans service
    is where a bank records a recovery; this puts the same money into the ledger, from the loan's account (which
    the compensation paid into). A recovery on a loan this pool never compensated moves nothing and is kept as
    refused, with why, for the county to look into."""
    data = envelope.data
    if _seen(session, "recovery", data["recovery_id"]):
        return
    amount = yuan(data["amount"])
    pool = session.get(RiskPool, data["pool_id"])
    compensated = session.exec(
        select(SagaRequest.id).where(
            SagaRequest.kind == "compensation", SagaRequest.loan_id == data["loan_id"], SagaRequest.status == "paid"
        )
    ).first()
    reason = "unknown_pool" if pool is None else "" if compensated else "not_compensated"
    transaction_id = None
    if pool is not None and not reason:
        transaction_id = accounts.post(
            session,
            kind=TransactionKind.recovery,
            postings=transfer(
                from_account=_loan_payee(session, data["loan_id"], pool.region_code),
                to_account=pool.account_id,
                amount=amount,
            ),
            memo=f"追偿回收 {data['loan_id']} claim {data['claim_id']}",
            actor=ACTOR,
            reference=data["recovery_id"],
            region_code=pool.region_code,
        ).id
    else:
        log.warning("loan.recovered %s not put into a pool: %s", data["recovery_id"], reason)
    _record(
        session,
        envelope,
        kind="recovery",
        request_id=data["recovery_id"],
        amount=amount,
        status="refused" if reason else "recorded",
        region_code=pool.region_code if pool else data.get("region_code", ""),
        reason=reason,
        transaction_id=transaction_id,
    )
