"""Request and response bodies of the loans API. Money is a decimal string in JSON; rates are percents."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from services.loans.domain.allocation import Part
from services.loans.domain.calendar import DaysInMonthType, DaysInYearType, RepaymentFrequencyType
from services.loans.domain.schedule import (
    AmortizationType,
    InterestCalculationPeriodType,
    InterestRateFrequencyType,
    InterestType,
    RepaymentMethod,
    RoundingMode,
)
from services.loans.domain.subsidy import Coverage, SubsidyMode
from shared.money import MAX_AMOUNT, Money

Out = Annotated[Decimal, PlainSerializer(lambda d: str(d), return_type=str)]
"""A Decimal sent as a string, with the places it holds."""
Amount = Annotated[
    Decimal,
    Field(gt=0, le=MAX_AMOUNT, max_digits=14, decimal_places=2),
    AfterValidator(lambda d: d.quantize(Decimal("0.01"))),
]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=9, decimal_places=4)]
Region = Annotated[str, Field(pattern=r"^\d{6,12}$", description="a region (division) code")]
Text = Annotated[str, Field(min_length=1, max_length=500)]
BorrowerKind = Literal["household", "entity"]
CREDIT_CODE = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Conventions(Body):
    """Schedule conventions, named as Apache Fineract names them (snake_case)."""

    repayment_method: RepaymentMethod | None = Field(
        default=None, description="a preset: 等额本息, 等额本金, 阶段性等额本息, 按期付息到期还本, 利随本清"
    )
    repayment_every: int = Field(default=1, ge=1, le=120, description="repaymentEvery")
    repayment_frequency_type: RepaymentFrequencyType = Field(default=RepaymentFrequencyType.months)
    amortization_type: AmortizationType = AmortizationType.equal_installments
    interest_type: InterestType = InterestType.declining_balance
    interest_calculation_period_type: InterestCalculationPeriodType = (
        InterestCalculationPeriodType.same_as_repayment_period
    )
    allow_partial_period_interest_calculation: bool = True
    days_in_year_type: DaysInYearType = DaysInYearType.days_360
    days_in_month_type: DaysInMonthType = DaysInMonthType.actual
    grace_on_principal_payment: int = Field(default=0, ge=0, le=600, description="interest-only periods")
    grace_on_interest_payment: int = Field(default=0, ge=0, le=600, description="periods whose interest is deferred")
    grace_on_interest_charged: int = Field(default=0, ge=0, le=600, description="periods with no interest (forgiven)")
    rounding_mode: RoundingMode = RoundingMode.half_up
    digits_after_decimal: int = Field(default=2, ge=0, le=6)
    installment_amount_in_multiples_of: Decimal | None = Field(default=None, gt=0, le=100000, decimal_places=2)
    last_installment_absorbs_remainder: bool = True


class SchedulePreview(Conventions):
    """Terms to compute a schedule for, without creating a loan."""

    principal: Amount
    interest_rate_per_period: Percent = Field(description="percent, e.g. 7.35")
    interest_rate_frequency_type: InterestRateFrequencyType = InterestRateFrequencyType.per_year
    number_of_repayments: int = Field(ge=1, le=600)
    expected_disbursement_date: date
    repayments_starting_from_date: date | None = None


class PeriodPublic(BaseModel):
    period: int
    from_date: date
    due_date: date
    days_in_period: int
    principal_due: Out
    interest_due: Out
    total_due: Out
    principal_loan_balance_outstanding: Out


class SchedulePublic(BaseModel):
    currency: str = "CNY"
    periods: list[PeriodPublic]
    total_principal_expected: Out
    total_interest_charged: Out
    total_repayment_expected: Out
    maturity_date: date


class ProductCreate(Body):
    """A product definition; posting a code that exists makes its next version (a loan keeps its version)."""

    code: str = Field(pattern=r"^[A-Za-z0-9_-]{2,40}$")
    name: str = Field(min_length=1, max_length=100)
    bank: str = Field(min_length=1, max_length=100)
    region_code: Region
    borrower_kind: BorrowerKind
    min_amount: Amount = Decimal("1000.00")
    max_amount: Amount = Field(description="e.g. 50000 for 5万元以下")
    max_term_months: int = Field(ge=1, le=120)
    collateral_required: bool = False
    guarantee_required: bool = False
    rate_basis: Literal["lpr_1y", "lpr_5y", "benchmark", "fixed"] = "lpr_1y"
    annual_rate: Percent
    benchmark_rate: Percent
    conventions: Conventions = Field(default_factory=Conventions)
    subsidy_coverage: Coverage = Coverage.full
    subsidy_mode: SubsidyMode = SubsidyMode.direct_periodic
    subsidy_period_months: Literal[1, 3, 6, 12] = 3
    government_share: Percent = Field(description="the government's share of a loss, e.g. 70 for 7:3")
    compensation_covers_interest: bool = False
    pool_id: str = Field(max_length=36)
    grace_days: int = Field(default=3, ge=0, le=90, description="days after a due date before it counts overdue")
    penalty_uplift: Percent = Field(default=Decimal("50"), description="罚息: the contract rate plus this percent")
    default_after_days: int = Field(default=90, ge=1, le=1000)
    reminder_days: int = Field(default=3, ge=0, le=60)
    insurance_premium_subsidy: Money | None = None
    allocation_order: list[Part] = Field(default=[Part.penalty, Part.interest, Part.principal], min_length=3)
    eligible_purposes: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(default=[], max_length=30)
    max_extensions: int = Field(default=1, ge=0, le=5)
    max_extension_months: int = Field(default=12, ge=0, le=36)
    hotline: str = Field(default="", max_length=40)


class ProductPublic(BaseModel):
    id: str
    code: str
    version: int
    name: str
    bank: str
    region_code: str
    borrower_kind: str
    min_amount: Out
    max_amount: Out
    max_term_months: int
    collateral_required: bool
    guarantee_required: bool
    rate_basis: str
    annual_rate: Out
    benchmark_rate: Out
    conventions: dict[str, Any]
    subsidy_coverage: str
    subsidy_mode: str
    subsidy_period_months: int
    government_share: Out
    compensation_covers_interest: bool
    pool_id: str
    grace_days: int
    penalty_uplift: Out
    default_after_days: int
    reminder_days: int
    insurance_premium_subsidy: Out | None
    allocation_order: list[str]
    eligible_purposes: list[str]
    max_extensions: int
    max_extension_months: int
    hotline: str
    created_at: datetime


class PoolCreate(Body):
    name: str = Field(min_length=1, max_length=100)
    region_code: Region
    bank: str = Field(min_length=1, max_length=100)
    leverage_multiple: Annotated[Decimal, Field(gt=0, le=100, max_digits=9, decimal_places=4)] = Decimal(10)
    initial_balance: Money = Decimal("0.00")


class PoolContribution(Body):
    amount: Amount
    note: str = Field(default="", max_length=200)


class PoolPublic(BaseModel):
    id: str
    name: str
    region_code: str
    bank: str
    leverage_multiple: Out
    balance: Out
    outstanding: Out
    leverage_room: Out
    claims_pending: Out


class RatingCreate(Body):
    """A credit rating and line (评级授信) by the lead bank."""

    borrower_kind: BorrowerKind
    household_id: str | None = Field(default=None, max_length=36)
    entity_code: str | None = Field(default=None, pattern=CREDIT_CODE)
    region_code: Region | None = Field(default=None, description="required for an entity; a household's is known")
    grade: Literal["AAA", "AA", "A", "B", "C"]
    line_amount: Amount
    valid_from: date
    valid_to: date


class RatingPublic(BaseModel):
    id: str
    borrower_kind: str
    household_id: str | None
    entity_code: str | None
    region_code: str
    grade: str
    line_amount: Out
    valid_from: date
    valid_to: date
    rated_by: str
    created_at: datetime


class LoanApply(Body):
    """An application (贷款申请) made through the village or the work team."""

    product_id: str = Field(max_length=36)
    borrower_kind: BorrowerKind
    household_id: str | None = Field(default=None, max_length=36)
    entity_code: str | None = Field(default=None, pattern=CREDIT_CODE)
    entity_poor_households: int | None = Field(default=None, ge=0, le=100000, description="poor households it employs")
    region_code: Region | None = Field(default=None, description="required for an entity; a household's is known")
    borrower_name: str = Field(min_length=1, max_length=100)
    id_number: str | None = Field(default=None, pattern=r"^\d{17}[\dX]$")
    phone: str | None = Field(default=None, pattern=r"^1[3-9]\d{9}$")
    purpose: str = Field(min_length=1, max_length=200)
    enterprise_use: bool = Field(default=False, description="户贷企用: the money is used by an enterprise")
    helper_id: str | None = Field(default=None, max_length=36)
    voluntary: bool
    acknowledged_repayable: bool = Field(description="the borrower knows this is a loan to repay, not a grant")
    survey_report: str = Field(default="", max_length=4000)
    amount: Amount
    number_of_repayments: int = Field(ge=1, le=600)
    repayments_starting_from_date: date | None = None


class LoanDecision(Body):
    amount: Amount | None = Field(default=None, description="approved amount (不顶格: at most the request)")
    rating_id: str | None = Field(default=None, max_length=36)
    reason: str = Field(default="", max_length=500)


class LoanReject(Body):
    reason: Text


class LoanDisburse(Body):
    contract_no: str = Field(pattern=r"^[A-Za-z0-9-]{4,40}$")
    account_no: str = Field(pattern=r"^\d{8,32}$")
    disbursed_on: date | None = Field(default=None, description="default: today")


class LoanPublic(BaseModel):
    id: str
    contract_no: str | None
    product_id: str
    pool_id: str
    renewal_of: str | None
    borrower_kind: str
    household_id: str | None
    entity_code: str | None
    entity_poor_households: int | None
    borrower_name: str
    id_number: str | None
    phone: str | None
    account_no: str | None
    region_code: str
    purpose: str
    enterprise_use: bool
    voluntary: bool
    acknowledged_repayable: bool
    amount_requested: Out
    amount: Out
    terms: dict[str, Any]
    status: str
    decision_reason: str
    applied_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    disbursed_on: date | None
    maturity_date: date | None
    principal_outstanding: Out
    interest_accrued: Out
    accrued_through: date | None
    days_past_due: int
    bucket: str
    settled_on: date | None
    defaulted_on: date | None


class InstallmentPublic(BaseModel):
    schedule_version: int
    number: int
    from_date: date
    due_date: date
    principal_due: Out
    interest_due: Out
    subsidy_due: Out
    borrower_interest_due: Out
    interest_waived: Out
    principal_paid: Out
    interest_paid: Out
    penalty_accrued: Out
    penalty_paid: Out
    paid_on: date | None
    open: bool


class RepaymentCreate(Body):
    amount: Amount
    paid_on: date | None = Field(default=None, description="default: today; never a future day")
    reference: str = Field(default="", max_length=100)


class RepaymentReverse(Body):
    reason: Text


class RepaymentPublic(BaseModel):
    id: str
    loan_id: str
    kind: str
    reverses_id: str | None
    paid_on: date
    amount: Out
    penalty: Out
    interest: Out
    principal: Out
    allocations: list[dict[str, Any]]
    reference: str
    reason: str
    created_by: str
    created_at: datetime


class ExtensionCreate(Body):
    kind: Literal["extension", "renewal"] = Field(description="展期 (same loan, later maturity) or 续贷 (a new loan)")
    reason: Text = Field(description="e.g. 非主观因素: illness, disaster")
    extra_months: int = Field(default=0, ge=0, le=36, description="for an extension")
    amount: Amount | None = Field(default=None, description="for a renewal; default: the outstanding principal")


class ExtensionPublic(BaseModel):
    id: str
    loan_id: str
    kind: str
    reason: str
    extra_months: int
    new_maturity_date: date | None
    new_loan_id: str | None
    created_by: str
    created_at: datetime


class DefaultDeclare(Body):
    reason: Text


class RecoveryCreate(Body):
    amount: Amount
    paid_on: date | None = None
    reference: str = Field(default="", max_length=100)


class SubsidyPublic(BaseModel):
    id: str
    loan_id: str
    region_code: str
    mode: str
    payee: str
    period_start: date
    period_end: date
    interest_accrued: Out
    interest_paid: Out
    amount: Out
    advance_days: int
    status: str
    claimed_on: date
    paid_on: date | None


class ClaimPublic(BaseModel):
    id: str
    loan_id: str
    pool_id: str
    region_code: str
    principal_loss: Out
    interest_loss: Out
    government_share: Out
    amount: Out
    recovered: Out
    status: str
    requested_on: date
    paid_on: date | None


class LoanSubsidySummary(BaseModel):
    """Per loan (DOMAIN §4.5): interest accrued, paid by the borrower, subsidy claimed and paid, days advanced."""

    loan_id: str
    mode: str
    interest_accrued: Out
    interest_paid_by_borrower: Out
    subsidy_claimed: Out
    subsidy_paid: Out
    borrower_advanced: Out
    advance_days: int


class BucketCount(BaseModel):
    bucket: str
    loans: int
    outstanding: Out
    rate: Out = Field(description="share of the outstanding principal, percent")


class PortfolioRow(BaseModel):
    region_code: str
    product_code: str
    loans: int
    amount: Out
    outstanding: Out


class PortfolioReport(BaseModel):
    """Portfolio by region and product (DOMAIN §4.9 shows the targeting drift: households vs entities)."""

    region_code: str
    loans: int
    outstanding: Out
    buckets: list[BucketCount]
    subsidies_paid: Out
    compensation_claimed: Out
    household_amount_share: Out
    entity_amount_share: Out
    enterprise_use_loans: int
    enterprise_use_amount: Out
    rows: list[PortfolioRow]
