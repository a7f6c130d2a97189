"""Request and response bodies of the funds API."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.funds.domain.assets import Movement
from services.funds.domain.ledger import AccountKind, TransactionKind
from services.funds.domain.policy import ProjectKind, RuleSetBody, SourceKind, SourceLevel
from shared.money import Money
from shared.text import Name
from shared.text import Text as FreeText

REGION = r"^\d{12}$"
REGION_PREFIX = r"^\d{2,12}$"
Text = Field(min_length=1, max_length=200)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def values(self, *, exclude: Collection[str] = frozenset()) -> dict[str, Any]:
        """The fields as Python values (Decimal stays Decimal; ``model_dump`` would give money as strings)."""
        return {k: getattr(self, k) for k in type(self).model_fields if k not in exclude}


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be more than 0")
    return value


# Accounts and transactions


class AccountPublic(BaseModel):
    id: str
    kind: AccountKind
    name: str
    region_code: str
    owner_type: str
    owner_id: str
    balance: Money


class PostingIn(Body):
    account_id: str = Field(min_length=1, max_length=36)
    amount: Money


class TransactionCreate(Body):
    """A manual transaction: a transfer (调剂), refund (退回) or adjustment (调账); entries must sum to 0."""

    kind: Literal[TransactionKind.transfer, TransactionKind.refund, TransactionKind.adjustment]
    postings: list[PostingIn] = Field(min_length=2, max_length=50)
    memo: str = Text
    occurred_on: date | None = None


class ReversalCreate(Body):
    reason: str = Text


class EntryPublic(BaseModel):
    account_id: str
    amount: Money


class TransactionPublic(BaseModel):
    id: str
    kind: TransactionKind
    region_code: str
    occurred_on: date
    memo: str
    reference: str | None
    reverses_id: str | None
    reversed_by_id: str | None = None
    actor: str
    created_at: datetime
    entries: list[EntryPublic]


class AccountEntryPublic(BaseModel):
    transaction_id: str
    kind: TransactionKind
    occurred_on: date
    memo: str
    amount: Money


# Sources, budgets, arrivals


class SourceCreate(Body):
    name: str = Text
    kind: SourceKind
    level: SourceLevel
    region_code: str = Field(pattern=REGION_PREFIX, description="the jurisdiction: a region-code prefix")


class SourcePublic(BaseModel):
    id: str
    name: str
    kind: SourceKind
    level: SourceLevel
    region_code: str
    account_id: str
    delivered: Money


class BudgetCreate(Body):
    source_id: str = Field(min_length=1, max_length=36)
    year: int = Field(ge=2000, le=2100)
    name: str = Text
    region_code: str = Field(pattern=REGION_PREFIX, description="the jurisdiction: a region-code prefix")
    planned_amount: Money
    expected_by: date | None = None
    document_no: str | None = Field(default=None, max_length=100)

    _check = field_validator("planned_amount")(_positive)


class BudgetPublic(BaseModel):
    id: str
    source_id: str
    source_kind: SourceKind
    year: int
    name: str
    region_code: str
    planned_amount: Money
    arrived: Money
    shortfall: Money
    late: bool
    expected_by: date | None
    document_no: str | None
    account_id: str
    available: Money


class ArrivalCreate(Body):
    amount: Money
    arrived_on: date
    document_no: str | None = Field(default=None, max_length=100)

    _check = field_validator("amount")(_positive)


class ArrivalPublic(BaseModel):
    id: str
    budget_id: str
    amount: Money
    arrived_on: date
    document_no: str | None
    transaction_id: str


# Projects


class ProjectLineCreate(Body):
    budget_id: str = Field(min_length=1, max_length=36)
    planned_amount: Money

    _check = field_validator("planned_amount")(_positive)


class Output(Body):
    item: str = Field(min_length=1, max_length=100)
    quantity: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    unit: str = Field(min_length=1, max_length=20)


class ProjectCreate(Body):
    name: str = Text
    kind: ProjectKind
    region_code: str = Field(pattern=REGION)
    year: int = Field(ge=2000, le=2100)
    beneficiary_kind: Literal["households", "village"] = "households"
    direct_to_households: bool = False
    to_poor_only: bool = True
    planned_outputs: list[Output] = Field(default_factory=list, max_length=50)
    lines: list[ProjectLineCreate] = Field(default_factory=list, max_length=20)


class ProjectLinePublic(BaseModel):
    id: str
    budget_id: str
    planned_amount: Money
    account_id: str
    balance: Money


class ProjectPublic(BaseModel):
    id: str
    name: str
    kind: ProjectKind
    region_code: str
    year: int
    status: str
    beneficiary_kind: str
    direct_to_households: bool
    to_poor_only: bool
    planned_outputs: list[dict[str, Any]]
    lines: list[ProjectLinePublic]
    budget: Money
    created_by: str
    approved_at: datetime | None
    approved_by: str | None
    template_id: str | None
    workflow_status: str
    held_step: str | None
    notice_started_at: datetime | None = None
    notice_ends_at: datetime | None = None
    next_step: str | None = None


class ShareStatusPublic(BaseModel):
    code: str
    label: str
    part: Money
    total: Money
    ratio: Decimal | None
    min_ratio: Decimal
    breached: bool


class StepTake(Body):
    """Take the next approval step, with the evidence its template asks for."""

    step: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    evidence: dict[str, Any] = Field(default_factory=dict)
    comment: str | None = Field(default=None, max_length=1000)
    reject: bool = False
    acknowledge_warnings: bool = Field(default=False, description="approve although a share rule is breached")


class SendBack(Body):
    to_step: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    reason: str = Field(min_length=1, max_length=1000)


class ObjectionCreate(Body):
    """An objection raised while the project's notice runs (who raised it, what it says)."""

    objector: Name = Field(min_length=1, max_length=60)
    content: FreeText = Field(min_length=1, max_length=1000)


class ObjectionPublic(BaseModel):
    id: str
    project_id: str
    region_code: str
    step: str
    notice_ends_at: datetime
    objector: str
    content: str
    filed_by: str
    filed_at: datetime


class StepPublic(BaseModel):
    project: ProjectPublic
    warnings: list[ShareStatusPublic]


class TransitionPublic(BaseModel):
    id: str
    action: str
    step: str
    role: str | None
    actor: str
    at: datetime
    evidence: dict[str, Any]
    comment: str | None
    status_after: str


class StatusMove(Body):
    status: Literal["tender", "construction", "completed", "accepted", "cancelled"]
    note: str | None = Field(default=None, max_length=500)


class AllocationCreate(Body):
    line_id: str = Field(min_length=1, max_length=36)
    amount: Money
    occurred_on: date | None = None

    _check = field_validator("amount")(_positive)


class BeneficiaryAdd(Body):
    household_id: str = Field(min_length=1, max_length=36)
    building_cost: Money | None = None


class BeneficiaryPublic(BaseModel):
    project_id: str
    household_id: str
    building_cost: Money | None


# Disbursements


class BatchCreate(Body):
    project_id: str = Field(min_length=1, max_length=36)


class PaymentCreate(Body):
    line_id: str = Field(min_length=1, max_length=36)
    payee_household_id: str | None = Field(default=None, min_length=1, max_length=36)
    payee_member_id: str | None = Field(default=None, min_length=1, max_length=36)
    payee_entity_id: str | None = Field(default=None, min_length=1, max_length=64)
    payee_name: str = Field(min_length=1, max_length=120)
    account_number: str = Field(pattern=r"^\d{8,32}$", description="bank card or 一卡通 account number")
    bank_name: str = Field(default="", max_length=120)
    amount: Money
    purpose: str = Text
    subsidy_code: str | None = Field(default=None, min_length=1, max_length=40)
    period: str | None = Field(default=None, pattern=r"^\d{4}(-(Q[1-4]|\d{2}))?$")
    pay_date: date | None = None

    _check = field_validator("amount")(_positive)


class PaymentPublic(BaseModel):
    id: str
    batch_id: str
    project_id: str
    line_id: str
    region_code: str
    reference: str
    payee_household_id: str | None
    payee_member_id: str | None
    payee_entity_id: str | None
    payee_name: str
    account_number: str
    bank_name: str
    amount: Money
    purpose: str
    subsidy_code: str | None
    period: str | None
    status: str
    pay_date: date
    reissue_of: str | None
    failure_reason: str | None


class BatchPublic(BaseModel):
    id: str
    project_id: str
    region_code: str
    status: str
    created_by: str
    created_at: datetime
    sent_at: datetime | None
    payments: int
    total: Money


class ReissueCreate(Body):
    account_number: str | None = Field(default=None, pattern=r"^\d{8,32}$")
    bank_name: str | None = Field(default=None, max_length=120)
    batch_id: str | None = Field(default=None, min_length=1, max_length=36)


class LayoutColumn(Body):
    header: str = Field(min_length=1, max_length=60)
    field: Literal[
        "reference",
        "payee_name",
        "account_number",
        "bank_name",
        "amount",
        "purpose",
        "pay_date",
        "payee_household_id",
        "period",
    ]


class LayoutCreate(Body):
    name: str = Field(min_length=1, max_length=120)
    columns: list[LayoutColumn] = Field(min_length=1, max_length=30)


class LayoutPublic(BaseModel):
    id: str
    name: str
    columns: list[dict[str, str]]


class ReconciliationLinePublic(BaseModel):
    row: int
    reference: str
    amount: Money
    outcome: str
    payment_id: str | None
    reason: str


class ReconciliationPublic(BaseModel):
    id: str
    batch_id: str
    filename: str
    lines_paid: int
    lines_failed: int
    lines_unmatched: int
    created_at: datetime
    lines: list[ReconciliationLinePublic]


# Rules, pools, findings


class RuleSetPut(RuleSetBody):
    model_config = ConfigDict(extra="forbid")


class RuleSetPublic(BaseModel):
    region_prefix: str
    year: int
    body: RuleSetBody
    updated_by: str
    updated_at: datetime


class PoolCreate(Body):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$", description="the loans pool id")
    name: str = Text
    region_code: str = Field(pattern=REGION_PREFIX, description="the jurisdiction: a region-code prefix")


class PoolPublic(BaseModel):
    id: str
    name: str
    region_code: str
    account_id: str
    balance: Money


class ContributionCreate(Body):
    from_account_id: str = Field(min_length=1, max_length=36)
    amount: Money
    memo: str = Text

    _check = field_validator("amount")(_positive)


class SagaRequestPublic(BaseModel):
    id: str
    kind: str
    request_id: str
    loan_id: str
    region_code: str
    amount: Money
    status: str
    reason: str
    transaction_id: str | None
    created_at: datetime


class FindingPublic(BaseModel):
    id: str
    kind: str
    region_code: str
    amount: Money
    evidence_ids: list[str]
    summary: str
    status: str
    found_on: date
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


class FindingDecision(Body):
    status: Literal["explained", "confirmed"]
    reason: str = Field(min_length=1, max_length=500)


# Poverty assets (扶贫资产)


class FundingShare(Body):
    source_id: str = Field(min_length=1, max_length=36)
    amount: Money


class RestrictionsIn(Body):
    scope: Literal["village", "township", "county", "any"] = "any"
    poor_households_only: bool = False
    locked_until: date | None = None
    disposal_needs_approval: bool = False


class AssetCreate(Body):
    project_id: str = Field(min_length=1, max_length=36)
    tag: str = Field(min_length=1, max_length=60, description="ear tag, plate or register number (打耳编号)")
    name: str = Text
    owner_household_id: str | None = Field(default=None, min_length=1, max_length=36)
    owner_entity: str | None = Field(default=None, min_length=1, max_length=120)
    value: Money
    funding_shares: list[FundingShare] = Field(default_factory=list, max_length=20)
    restrictions: RestrictionsIn = Field(default_factory=RestrictionsIn)


class AssetPublic(BaseModel):
    id: str
    project_id: str
    tag: str
    name: str
    region_code: str
    owner_household_id: str | None
    owner_entity: str | None
    value: Money
    funding_shares: list[dict[str, Any]]
    scope: str
    poor_households_only: bool
    locked_until: date | None
    disposal_needs_approval: bool
    status: str


class MovementCreate(Body):
    movement: Movement
    on: date
    to_household_id: str | None = Field(default=None, min_length=1, max_length=36)
    to_entity: str | None = Field(default=None, min_length=1, max_length=120)
    to_region_code: str | None = Field(default=None, pattern=REGION)
    note: str = Field(default="", max_length=500)


class DisposalApproval(Body):
    on: date
    note: str = Field(default="", max_length=500)


class MovementPublic(BaseModel):
    id: str
    asset_id: str
    movement: str
    on: date
    from_household_id: str | None
    to_household_id: str | None
    to_region_code: str | None
    approved_by: str | None
    note: str
    actor: str
    created_at: datetime
