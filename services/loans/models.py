"""Loans tables: products, pools, borrowers, ratings, loans with installments, repayments, subsidies and claims."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint, cast, func
from sqlmodel import Field, SQLModel

from shared.db import AwareDateTime, service_registry
from shared.events.tables import infra_tables
from shared.ids import new_id


class LoansTable(SQLModel, registry=service_registry()):
    pass


INFRA = infra_tables(LoansTable.metadata)


def Id() -> Any:
    return Field(default_factory=new_id, primary_key=True, max_length=36)


def Ref(*, index: bool = True, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, max_length=36, index=index)
    return Field(max_length=36, index=index)


def Stamp(*, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=AwareDateTime)
    return Field(sa_type=AwareDateTime)


def Amount() -> Any:
    return Field(default=Decimal("0.00"), max_digits=14, decimal_places=2)


def in_fen(column: Any) -> Any:
    """A money column as whole fen in SQL, so sums of it are exact on every backend (SQLite keeps NUMERIC as REAL)."""
    return cast(func.round(column * 100), BigInteger)


def from_fen(fen: Any) -> Decimal:
    """Yuan from a sum of ``in_fen`` (None when nothing was summed)."""
    return (Decimal(fen or 0) / 100).quantize(Decimal("0.01"))


def Accrual() -> Any:
    """Unrounded accruals (penalty interest per day) keep six places; they are rounded when billed."""
    return Field(default=Decimal("0"), max_digits=20, decimal_places=6)


def Rate() -> Any:
    return Field(max_digits=9, decimal_places=4)


def Json() -> Any:
    return Field(default_factory=dict, sa_type=JSON)


class Pool(LoansTable, table=True):
    """A risk-compensation pool (风险补偿金): its balance backs loans up to ``leverage_multiple`` times."""

    id: str = Id()
    name: str = Field(max_length=100)
    region_code: str = Field(max_length=12, index=True)
    bank: str = Field(max_length=100)
    leverage_multiple: Decimal = Rate()
    balance: Decimal = Amount()
    created_at: datetime = Stamp()


class PoolEntry(LoansTable, table=True):
    """One movement of a pool's balance; the balance is their sum (contribution, compensation, recovery)."""

    id: str = Id()
    pool_id: str = Ref()
    kind: str = Field(max_length=20)
    amount: Decimal = Amount()
    claim_id: str | None = Ref(nullable=True)
    note: str = Field(default="", max_length=200)
    created_by: str = Field(max_length=100)
    created_at: datetime = Stamp()


class Product(LoansTable, table=True):
    """One version of a loan product (贷款产品); a loan keeps the version it was approved under."""

    __table_args__ = (UniqueConstraint("code", "version"),)

    id: str = Id()
    code: str = Field(max_length=40, index=True)
    version: int
    name: str = Field(max_length=100)
    bank: str = Field(max_length=100)
    region_code: str = Field(max_length=12, index=True)
    borrower_kind: str = Field(max_length=12)
    min_amount: Decimal = Amount()
    max_amount: Decimal = Amount()
    max_term_months: int
    collateral_required: bool = False
    guarantee_required: bool = False
    rate_basis: str = Field(max_length=20)
    annual_rate: Decimal = Rate()
    benchmark_rate: Decimal = Rate()
    conventions: dict[str, Any] = Json()
    subsidy_coverage: str = Field(max_length=20)
    subsidy_mode: str = Field(max_length=30)
    subsidy_period_months: int = 3
    government_share: Decimal = Rate()
    compensation_covers_interest: bool = False
    pool_id: str = Ref()
    grace_days: int = 0
    penalty_uplift: Decimal = Rate()
    default_after_days: int = 90
    reminder_days: int = 3
    insurance_premium_subsidy: Decimal | None = Field(default=None, max_digits=14, decimal_places=2)
    allocation_order: list[str] = Field(default_factory=list, sa_type=JSON)
    eligible_purposes: list[str] = Field(default_factory=list, sa_type=JSON)
    max_extensions: int = 1
    max_extension_months: int = 12
    hotline: str = Field(default="", max_length=40)
    created_by: str = Field(max_length=100)
    created_at: datetime = Stamp()


class Borrower(LoansTable, table=True):
    """The loans service's read copy of a household's poverty status (from identification's decisions)."""

    household_id: str = Field(primary_key=True, max_length=36)
    region_code: str = Field(max_length=12, index=True)
    status: str = Field(max_length=12)
    year: int
    case_id: str = Field(max_length=36)
    decided_at: datetime = Stamp()


class Rating(LoansTable, table=True):
    """A credit rating and line (评级授信) given by the lead bank to a household or an entity."""

    id: str = Id()
    borrower_kind: str = Field(max_length=12)
    household_id: str | None = Ref(nullable=True)
    entity_code: str | None = Field(default=None, max_length=18, index=True)
    region_code: str = Field(max_length=12, index=True)
    grade: str = Field(max_length=8)
    line_amount: Decimal = Amount()
    valid_from: date
    valid_to: date
    rated_by: str = Field(max_length=100)
    created_at: datetime = Stamp()


class Loan(LoansTable, table=True):
    """An application and, once approved and disbursed, the loan (贷款) with its running balances."""

    # (status, id): the nightly job reads active loans in id order, a batch at a time, without sorting them all
    __table_args__ = (
        Index("ix_loan_status_region", "status", "region_code"),
        Index("ix_loan_status_id", "status", "id"),
    )

    id: str = Id()
    contract_no: str | None = Field(default=None, max_length=40, unique=True)
    product_id: str = Ref()
    pool_id: str = Ref()
    rating_id: str | None = Ref(nullable=True)
    renewal_of: str | None = Ref(nullable=True)
    borrower_kind: str = Field(max_length=12)
    household_id: str | None = Ref(nullable=True)
    entity_code: str | None = Field(default=None, max_length=18, index=True)
    entity_poor_households: int | None = None
    borrower_name: str = Field(max_length=100)
    id_number: str | None = Field(default=None, max_length=18)
    phone: str | None = Field(default=None, max_length=20)
    account_no: str | None = Field(default=None, max_length=32)
    region_code: str = Field(max_length=12, index=True)
    purpose: str = Field(max_length=200)
    enterprise_use: bool = False
    helper_id: str | None = Field(default=None, max_length=36)
    voluntary: bool
    acknowledged_repayable: bool
    survey_report: str = Field(default="", max_length=4000)
    amount_requested: Decimal = Amount()
    amount: Decimal = Amount()
    terms: dict[str, Any] = Json()
    status: str = Field(max_length=16, index=True)
    decision_reason: str = Field(default="", max_length=500)
    applied_by: str = Field(max_length=100)
    applied_at: datetime = Stamp()
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = Stamp(nullable=True)
    disbursed_on: date | None = None
    maturity_date: date | None = None
    schedule_version: int = 0
    principal_outstanding: Decimal = Amount()
    interest_accrued: Decimal = Amount()
    accrued_through: date | None = None
    days_past_due: int = 0
    bucket: str = Field(default="current", max_length=8)
    settled_on: date | None = None
    defaulted_on: date | None = None


class Installment(LoansTable, table=True):
    """One period of a loan's schedule; a 展期 writes a new schedule version, the old rows stay as they were."""

    __table_args__ = (
        UniqueConstraint("loan_id", "schedule_version", "number"),
        Index("ix_installment_open_due", "open", "due_date"),
    )

    id: str = Id()
    loan_id: str = Ref()
    schedule_version: int
    number: int
    from_date: date
    due_date: date
    principal_due: Decimal = Amount()
    interest_due: Decimal = Amount()
    subsidy_due: Decimal = Amount()
    borrower_interest_due: Decimal = Amount()
    interest_waived: Decimal = Amount()
    principal_paid: Decimal = Amount()
    interest_paid: Decimal = Amount()
    penalty_accrued: Decimal = Accrual()
    penalty_through: date | None = None
    penalty_paid: Decimal = Amount()
    paid_on: date | None = None
    last_paid_on: date | None = None
    reminded_on: date | None = None
    open: bool = True


class Repayment(LoansTable, table=True):
    """A repayment (还款) or its reversal: a compensating entry with negated parts, never an edit."""

    id: str = Id()
    loan_id: str = Ref()
    kind: str = Field(max_length=12)
    reverses_id: str | None = Field(default=None, max_length=36, unique=True)
    paid_on: date
    amount: Decimal = Amount()
    penalty: Decimal = Amount()
    interest: Decimal = Amount()
    principal: Decimal = Amount()
    allocations: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    reference: str = Field(default="", max_length=100)
    reason: str = Field(default="", max_length=500)
    created_by: str = Field(max_length=100)
    created_at: datetime = Stamp()


class Extension(LoansTable, table=True):
    """An extension (展期, same loan, later maturity) or a renewal (续贷, a new loan closing this one)."""

    id: str = Id()
    loan_id: str = Ref()
    kind: str = Field(max_length=10)
    reason: str = Field(max_length=500)
    extra_months: int = 0
    new_maturity_date: date | None = None
    new_loan_id: str | None = Field(default=None, max_length=36)
    created_by: str = Field(max_length=100)
    created_at: datetime = Stamp()


class Subsidy(LoansTable, table=True):
    """What the government owes on a loan for one subsidy period (贴息), claimed from funds and paid back."""

    __table_args__ = (UniqueConstraint("loan_id", "period_start"),)

    id: str = Id()
    loan_id: str = Ref()
    region_code: str = Field(max_length=12, index=True)
    mode: str = Field(max_length=30)
    payee: str = Field(max_length=10)
    period_start: date
    period_end: date
    interest_accrued: Decimal = Amount()
    interest_paid: Decimal = Amount()
    amount: Decimal = Amount()
    advance_days: int = 0
    status: str = Field(default="due", max_length=10)
    claimed_on: date
    paid_on: date | None = None


class Claim(LoansTable, table=True):
    """A risk-compensation claim (风险补偿) on a defaulted loan, bounded by the pool's balance."""

    id: str = Id()
    loan_id: str = Field(max_length=36, unique=True)
    pool_id: str = Ref()
    region_code: str = Field(max_length=12, index=True)
    principal_loss: Decimal = Amount()
    interest_loss: Decimal = Amount()
    government_share: Decimal = Rate()
    amount: Decimal = Amount()
    recovered: Decimal = Amount()
    status: str = Field(default="requested", max_length=10)
    requested_on: date
    paid_on: date | None = None
