"""Reports: the portfolio by region and product, with the households-vs-entities share (DOMAIN §4.9)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from services.loans.domain.arrears import BUCKETS, CURRENT, OVER_90
from services.loans.models import Claim, Loan, Product, Subsidy
from services.loans.schemas import BucketCount, PortfolioReport, PortfolioRow
from shared.auth import Principal
from shared.scope import in_scope, narrow

ZERO = Decimal("0.00")
LENT = ("active", "settled", "defaulted", "compensated")


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.01")) if whole else ZERO


def portfolio(session: Session, principal: Principal, region: str | None) -> PortfolioReport:
    """Every lent loan in scope: counts, amounts, buckets, subsidies paid, compensation claimed."""
    scope = in_scope(Loan.region_code, principal, region)
    # What select() builds; its overloads stop at four columns.
    per_product: Select[str, str, int, Decimal, Decimal] = Select(
        col(Loan.region_code),
        col(Product.code),
        func.count(),
        func.sum(Loan.amount),
        func.sum(Loan.principal_outstanding),
    )
    rows = session.exec(
        per_product.join(Product, col(Product.id) == Loan.product_id)
        .where(scope, col(Loan.status).in_(LENT))
        .group_by(col(Loan.region_code), col(Product.code))
        .order_by(col(Loan.region_code), col(Product.code))
    ).all()
    by_kind = dict(
        session.exec(
            select(Loan.borrower_kind, func.sum(Loan.amount))
            .where(scope, col(Loan.status).in_(LENT))
            .group_by(Loan.borrower_kind)
        ).all()
    )
    buckets = dict(
        (b, (n, Decimal(o or 0)))
        for b, n, o in session.exec(
            select(Loan.bucket, func.count(), func.sum(Loan.principal_outstanding))
            .where(scope, Loan.status == "active")
            .group_by(Loan.bucket)
        ).all()
    )
    enterprise = session.exec(
        select(func.count(), func.coalesce(func.sum(Loan.amount), 0)).where(
            scope, col(Loan.enterprise_use).is_(True), col(Loan.status).in_(LENT)
        )
    ).one()
    outstanding = sum((o for _, o in buckets.values()), ZERO)
    total = sum((Decimal(v or 0) for v in by_kind.values()), ZERO)
    subsidies = session.exec(
        select(func.coalesce(func.sum(Subsidy.amount), 0)).where(
            in_scope(Subsidy.region_code, principal, region), Subsidy.status == "paid"
        )
    ).one()
    claimed = session.exec(
        select(func.coalesce(func.sum(Claim.amount), 0)).where(in_scope(Claim.region_code, principal, region))
    ).one()
    names = [CURRENT, *(name for _, name in BUCKETS), OVER_90]
    return PortfolioReport(
        region_code=narrow(principal.region, region) or "",
        loans=sum(r[2] for r in rows),
        outstanding=outstanding,
        buckets=[
            BucketCount(
                bucket=b,
                loans=buckets.get(b, (0, ZERO))[0],
                outstanding=buckets.get(b, (0, ZERO))[1],
                rate=_share(buckets.get(b, (0, ZERO))[1], outstanding),
            )
            for b in names
        ],
        subsidies_paid=Decimal(subsidies).quantize(Decimal("0.01")),
        compensation_claimed=Decimal(claimed).quantize(Decimal("0.01")),
        household_amount_share=_share(Decimal(by_kind.get("household") or 0), total),
        entity_amount_share=_share(Decimal(by_kind.get("entity") or 0), total),
        enterprise_use_loans=enterprise[0],
        enterprise_use_amount=Decimal(enterprise[1]).quantize(Decimal("0.01")),
        rows=[
            PortfolioRow(
                region_code=r[0],
                product_code=r[1],
                loans=r[2],
                amount=Decimal(r[3]).quantize(ZERO),
                outstanding=Decimal(r[4]).quantize(ZERO),
            )
            for r in rows
        ],
    )
