"""Products (贷款产品) as versioned data, and the risk-compensation pools they draw on."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from services.loans.domain.allocation import check_order
from services.loans.domain.compensation import leverage_room
from services.loans.models import Claim, Loan, Pool, PoolEntry, Product
from services.loans.schemas import PoolContribution, PoolCreate, PoolPublic, ProductCreate
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import NotFound
from shared.refusals import Refusal, refuse_if
from shared.scope import get_in_scope, require_region

LENT = ("approved", "active")


def create_product(session: Session, body: ProductCreate, principal: Principal) -> Product:
    """A new product, or the next version of ``body.code``; loans already made keep their version."""
    require_region(principal, body.region_code)
    pool = get_in_scope(session, Pool, body.pool_id, principal, what="pool")
    refuse_if(
        check_order([p.value for p in body.allocation_order])
        + (
            [Refusal("bad_limits", "min_amount is above max_amount", "min_amount")]
            if body.min_amount > body.max_amount
            else []
        )
    )
    latest = session.exec(select(func.max(Product.version)).where(Product.code == body.code)).one()
    product = Product(
        **body.model_dump(exclude={"conventions", "allocation_order", "pool_id"}),
        conventions=body.conventions.model_dump(mode="json", exclude_none=True),
        allocation_order=[p.value for p in body.allocation_order],
        pool_id=pool.id,
        version=(latest or 0) + 1,
        created_by=principal.subject,
        created_at=session_clock(session).now(),
    )
    session.add(product)
    session.flush()
    audit.record(
        session,
        actor=principal.subject,
        action="product.version",
        resource=f"product:{product.id}",
        detail={"code": product.code, "version": product.version},
    )
    return product


def get_product(session: Session, product_id: str) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"no product {product_id}")
    return product


def create_pool(session: Session, body: PoolCreate, principal: Principal) -> Pool:
    require_region(principal, body.region_code)
    now = session_clock(session).now()
    pool = Pool(
        name=body.name,
        region_code=body.region_code,
        bank=body.bank,
        leverage_multiple=body.leverage_multiple,
        balance=Decimal("0.00"),
        created_at=now,
    )
    session.add(pool)
    session.flush()
    if body.initial_balance > 0:
        move_pool(
            session,
            pool,
            kind="contribution",
            amount=body.initial_balance,
            actor=principal.subject,
            note="initial capital",
        )
    return pool


def contribute(session: Session, pool_id: str, body: PoolContribution, principal: Principal) -> Pool:
    """A top-up of the pool (the government adds to the fund each year)."""
    pool = get_in_scope(session, Pool, pool_id, principal, what="pool")
    move_pool(session, pool, kind="contribution", amount=body.amount, actor=principal.subject, note=body.note)
    return pool


def move_pool(
    session: Session, pool: Pool, *, kind: str, amount: Decimal, actor: str, note: str = "", claim_id: str | None = None
) -> None:
    """One ledger entry and the balance it changes, audited."""
    pool.balance += amount
    session.add(pool)
    session.add(
        PoolEntry(
            pool_id=pool.id,
            kind=kind,
            amount=amount,
            claim_id=claim_id,
            note=note,
            created_by=actor,
            created_at=session_clock(session).now(),
        )
    )
    audit.record(
        session,
        actor=actor,
        action=f"pool.{kind}",
        resource=f"pool:{pool.id}",
        detail={"amount": str(amount), "balance": str(pool.balance), "claim_id": claim_id},
    )


def pool_outstanding(session: Session, pool_id: str, *, lock: bool = False) -> Decimal:
    """Principal the pool backs: outstanding on active loans plus approved amounts not yet disbursed."""
    if lock:
        session.exec(select(Pool.id).where(Pool.id == pool_id).with_for_update()).first()
    active = session.exec(
        select(func.coalesce(func.sum(Loan.principal_outstanding), 0)).where(
            Loan.pool_id == pool_id, Loan.status == "active"
        )
    ).one()
    approved = session.exec(
        select(func.coalesce(func.sum(Loan.amount), 0)).where(Loan.pool_id == pool_id, Loan.status == "approved")
    ).one()
    return Decimal(active) + Decimal(approved)


def claims_pending(session: Session, pool_id: str) -> Decimal:
    total = session.exec(
        select(func.coalesce(func.sum(Claim.amount), 0)).where(Claim.pool_id == pool_id, Claim.status == "requested")
    ).one()
    return Decimal(total)


def pool_public(session: Session, pool: Pool) -> PoolPublic:
    outstanding = pool_outstanding(session, pool.id)
    return PoolPublic(
        id=pool.id,
        name=pool.name,
        region_code=pool.region_code,
        bank=pool.bank,
        leverage_multiple=pool.leverage_multiple,
        balance=pool.balance,
        outstanding=outstanding.quantize(Decimal("0.01")),
        leverage_room=leverage_room(balance=pool.balance, multiple=pool.leverage_multiple, outstanding=outstanding),
        claims_pending=claims_pending(session, pool.id),
    )
