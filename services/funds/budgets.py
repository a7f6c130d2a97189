"""Fund sources, yearly budgets and the money that arrives for them (资金到位: late or short shows)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from services.funds import accounts
from services.funds.domain.ledger import ZERO, AccountKind, TransactionKind, transfer
from services.funds.domain.policy import SourceKind
from services.funds.models import Arrival, Budget, FundSource, LedgerTransaction
from services.funds.schemas import ArrivalCreate, BudgetCreate, BudgetPublic, SourceCreate, SourcePublic
from shared.auth import Principal
from shared.clock import session_clock
from shared.scope import get_in_scope, require_region


def create_source(session: Session, body: SourceCreate, principal: Principal) -> FundSource:
    require_region(principal, body.region_code)
    source = FundSource(**body.model_dump(mode="json"), account_id="", created_at=session_clock(session).now())
    account = accounts.open_account(
        session,
        kind=AccountKind.source,
        name=body.name,
        region_code=body.region_code,
        owner_type="source",
        owner_id=source.id,
    )
    source.account_id = account.id
    session.add(source)
    session.flush()
    return source


def source_public(session: Session, source: FundSource) -> SourcePublic:
    delivered = -accounts.balance(session, source.account_id)
    return SourcePublic(**source.model_dump(), delivered=delivered)


def get_source(session: Session, source_id: str, principal: Principal) -> FundSource:
    return get_in_scope(session, FundSource, source_id, principal, what="fund source")


def create_budget(session: Session, body: BudgetCreate, principal: Principal) -> Budget:
    require_region(principal, body.region_code)
    source = get_in_scope(session, FundSource, body.source_id, principal, what="fund source")
    budget = Budget(**body.values(), account_id="", created_at=session_clock(session).now())
    account = accounts.open_account(
        session,
        kind=AccountKind.budget,
        name=f"{source.name} {body.year} {body.name}",
        region_code=body.region_code,
        owner_type="budget",
        owner_id=budget.id,
    )
    budget.account_id = account.id
    session.add(budget)
    session.flush()
    return budget


def get_budget(session: Session, budget_id: str, principal: Principal) -> Budget:
    return get_in_scope(session, Budget, budget_id, principal, what="budget")


def arrived(session: Session, budget_id: str) -> tuple[Decimal, date | None]:
    """What has arrived for a budget (reversed arrivals left out) and the day of the last arrival."""
    reversed_ = select(LedgerTransaction.id).where(LedgerTransaction.reverses_id == Arrival.transaction_id)
    total, last = session.exec(
        select(func.coalesce(func.sum(Arrival.amount), 0), func.max(Arrival.arrived_on)).where(
            Arrival.budget_id == budget_id, ~reversed_.exists()
        )
    ).one()
    return Decimal(total).quantize(Decimal("0.01")), last


def is_late(*, expected_by: date | None, planned: Decimal, total: Decimal, last: date | None, today: date) -> bool:
    """Late (迟到): money came after the expected day, or the day has passed and some is still missing."""
    if expected_by is None:
        return False
    return (last is not None and last > expected_by) or (today > expected_by and total < planned)


def budget_public(session: Session, budget: Budget) -> BudgetPublic:
    total, last = arrived(session, budget.id)
    source = session.get(FundSource, budget.source_id)
    today = session_clock(session).today()
    late = is_late(expected_by=budget.expected_by, planned=budget.planned_amount, total=total, last=last, today=today)
    return BudgetPublic(
        **budget.model_dump(),
        source_kind=SourceKind(source.kind) if source else SourceKind.other,
        arrived=total,
        shortfall=max(budget.planned_amount - total, ZERO),
        late=late,
        available=accounts.balance(session, budget.account_id),
    )


def record_arrival(session: Session, budget: Budget, body: ArrivalCreate, principal: Principal) -> Arrival:
    """Money arrived for a budget: source → budget in the ledger, and the arrival with its day."""
    source = session.get(FundSource, budget.source_id)
    assert source is not None
    tx = accounts.post(
        session,
        kind=TransactionKind.arrival,
        postings=transfer(from_account=source.account_id, to_account=budget.account_id, amount=body.amount),
        memo=f"资金到位 {budget.name} {body.document_no or ''}".strip(),
        actor=principal.subject,
        occurred_on=body.arrived_on,
        reference=budget.id,
        region_code=budget.region_code,
    )
    arrival = Arrival(budget_id=budget.id, transaction_id=tx.id, created_at=tx.created_at, **body.values())
    session.add(arrival)
    session.flush()
    return arrival
