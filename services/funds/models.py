"""Funds tables: sources, budgets, the ledger, projects, disbursements, policy rules, read models, findings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from shared.db import AwareDateTime, service_registry
from shared.events.tables import infra_tables
from shared.ids import new_id
from shared.workflow.tables import workflow_tables


class FundsTable(SQLModel, registry=service_registry()):
    pass


INFRA = infra_tables(FundsTable.metadata)
WORKFLOW = workflow_tables(FundsTable.metadata)


def Id() -> Any:
    return Field(default_factory=new_id, primary_key=True, max_length=36)


def Ref(**kw: Any) -> Any:
    return Field(max_length=36, **kw)


def Stamp(**kw: Any) -> Any:
    return Field(sa_type=AwareDateTime, **kw)


def Amount(**kw: Any) -> Any:
    return Field(max_digits=14, decimal_places=2, **kw)


def Json(**kw: Any) -> Any:
    return Field(sa_type=JSON, **kw)


class Account(FundsTable, table=True):
    """A ledger account (账户); its balance is the sum of its entries, never a stored number."""

    id: str = Id()
    kind: str = Field(max_length=12, index=True)
    name: str = Field(max_length=200)
    region_code: str = Field(max_length=12, index=True)
    owner_type: str = Field(max_length=20)
    owner_id: str = Field(max_length=64)
    created_at: datetime = Stamp()

    __table_args__ = (UniqueConstraint("kind", "owner_type", "owner_id"),)


class LedgerTransaction(FundsTable, table=True):
    """One balanced transaction (记账凭证); a correction is a reversal naming what it reverses."""

    __tablename__ = "ledger_transaction"

    id: str = Id()
    kind: str = Field(max_length=20)
    region_code: str = Field(max_length=12, index=True)
    occurred_on: date
    memo: str = Field(max_length=500)
    reference: str | None = Field(default=None, max_length=80, index=True)
    reverses_id: str | None = Field(default=None, max_length=36, unique=True)
    actor: str = Field(max_length=120)
    created_at: datetime = Stamp()


class Entry(FundsTable, table=True):
    """One entry (分录) of a transaction on one account: + money in, − money out."""

    id: str = Id()
    transaction_id: str = Ref(foreign_key="ledger_transaction.id", index=True)
    account_id: str = Ref(foreign_key="account.id")
    amount: Decimal = Amount()

    __table_args__ = (Index("ix_entry_account", "account_id", "transaction_id"),)


class FundSource(FundsTable, table=True):
    """A fund source (资金来源): a level and kind, e.g. central 财政专项扶贫资金, 整合涉农资金, 社会帮扶."""

    __tablename__ = "fund_source"

    id: str = Id()
    name: str = Field(max_length=200)
    kind: str = Field(max_length=30)
    level: str = Field(max_length=12)
    region_code: str = Field(max_length=12, index=True)
    account_id: str = Ref(foreign_key="account.id")
    created_at: datetime = Stamp()


class Budget(FundsTable, table=True):
    """A year's budget (资金指标) from one source: the planned amount and when it should arrive."""

    id: str = Id()
    source_id: str = Ref(foreign_key="fund_source.id", index=True)
    year: int = Field(index=True)
    name: str = Field(max_length=200)
    region_code: str = Field(max_length=12, index=True)
    planned_amount: Decimal = Amount()
    expected_by: date | None = None
    document_no: str | None = Field(default=None, max_length=100)
    account_id: str = Ref(foreign_key="account.id")
    created_at: datetime = Stamp()


class Arrival(FundsTable, table=True):
    """Money of a budget that arrived (资金到位), with its day and the ledger transaction."""

    id: str = Id()
    budget_id: str = Ref(foreign_key="budget.id", index=True)
    amount: Decimal = Amount()
    arrived_on: date
    document_no: str | None = Field(default=None, max_length=100)
    transaction_id: str = Ref(foreign_key="ledger_transaction.id")
    created_at: datetime = Stamp()


class Project(FundsTable, table=True):
    """A poverty project (扶贫项目): kind, region, year, beneficiaries, budget lines, status."""

    id: str = Id()
    name: str = Field(max_length=200)
    kind: str = Field(max_length=30)
    region_code: str = Field(max_length=12, index=True)
    year: int
    status: str = Field(default="bank", max_length=20)
    beneficiary_kind: str = Field(default="households", max_length=12)
    direct_to_households: bool = False
    to_poor_only: bool = True
    planned_outputs: list[dict[str, Any]] = Json(default_factory=list)
    created_by: str = Field(max_length=120)
    created_at: datetime = Stamp()
    approved_at: datetime | None = Stamp(default=None)
    approved_by: str | None = Field(default=None, max_length=120)
    # Where the approval stands on its workflow template (the engine's Progress).
    template_id: str | None = Field(default=None, max_length=36)
    step_index: int = 0
    workflow_status: str = Field(default="open", max_length=12)
    held_step: str | None = Field(default=None, max_length=40)
    # The running notice of ``held_step``: when it was posted and when its period is over (the job ends it then).
    notice_started_at: datetime | None = Stamp(default=None)
    notice_ends_at: datetime | None = Stamp(default=None, index=True)


class ProjectObjection(FundsTable, table=True):
    """An objection (异议) to a project raised while its notice runs; the notice it was raised on is its end."""

    __tablename__ = "project_objection"

    id: str = Id()
    project_id: str = Ref(foreign_key="project.id", index=True)
    region_code: str = Field(max_length=12, index=True)
    step: str = Field(max_length=40)
    notice_ends_at: datetime = Stamp()
    objector: str = Field(max_length=60)
    content: str = Field(max_length=1000)
    filed_by: str = Field(max_length=120)
    filed_at: datetime = Stamp()


class ProjectLine(FundsTable, table=True):
    """A project's budget line (资金来源构成): planned money from one budget, held on its own account."""

    __tablename__ = "project_line"

    id: str = Id()
    project_id: str = Ref(foreign_key="project.id", index=True)
    budget_id: str = Ref(foreign_key="budget.id", index=True)
    planned_amount: Decimal = Amount()
    account_id: str = Ref(foreign_key="account.id")

    __table_args__ = (UniqueConstraint("project_id", "budget_id"),)


class Beneficiary(FundsTable, table=True):
    """A household on a project's approved beneficiary list, with the building cost where a cap needs it."""

    project_id: str = Field(foreign_key="project.id", primary_key=True, max_length=36)
    household_id: str = Field(primary_key=True, max_length=36)
    building_cost: Decimal | None = Amount(default=None)
    added_at: datetime = Stamp()


class Batch(FundsTable, table=True):
    """A disbursement batch (发放批次) of one approved project, sent to the bank as one file."""

    id: str = Id()
    project_id: str = Ref(foreign_key="project.id", index=True)
    region_code: str = Field(max_length=12, index=True)
    status: str = Field(default="draft", max_length=12)
    created_by: str = Field(max_length=120)
    created_at: datetime = Stamp()
    sent_at: datetime | None = Stamp(default=None)
    sent_by: str | None = Field(default=None, max_length=120)


class Payment(FundsTable, table=True):
    """One payment (资金发放) to a household's card (一卡通) or an entity's account; the account is masked on read."""

    id: str = Id()
    batch_id: str = Ref(foreign_key="batch.id", index=True)
    project_id: str = Ref(foreign_key="project.id", index=True)
    line_id: str = Ref(foreign_key="project_line.id")
    region_code: str = Field(max_length=12, index=True)
    reference: str = Field(max_length=40, unique=True)
    payee_household_id: str | None = Field(default=None, max_length=36, index=True)
    payee_member_id: str | None = Field(default=None, max_length=36)
    payee_entity_id: str | None = Field(default=None, max_length=64)
    payee_key: str = Field(max_length=120, description="who is paid, for one-per-period: household/member or entity")
    payee_name: str = Field(max_length=120)
    account_number: str = Field(max_length=40)
    account_hash: str = Field(max_length=64, index=True)
    bank_name: str = Field(default="", max_length=120)
    amount: Decimal = Amount()
    purpose: str = Field(max_length=200)
    subsidy_code: str | None = Field(default=None, max_length=40)
    period: str | None = Field(default=None, max_length=20)
    status: str = Field(default="pending", max_length=12, index=True)
    pay_date: date
    reissue_of: str | None = Field(default=None, max_length=36, unique=True)
    sent_transaction_id: str | None = Field(default=None, max_length=36)
    settled_transaction_id: str | None = Field(default=None, max_length=36)
    failure_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Stamp()
    updated_at: datetime = Stamp()

    __table_args__ = (
        # One payment of a subsidy per payee and period, held by every payment not failed or cancelled.
        Index(
            "uq_payment_subsidy_once",
            "payee_key",
            "subsidy_code",
            "period",
            unique=True,
            sqlite_where=text("subsidy_code IS NOT NULL AND status IN ('pending', 'sent', 'paid')"),
            postgresql_where=text("subsidy_code IS NOT NULL AND status IN ('pending', 'sent', 'paid')"),
        ),
    )


class BankLayout(FundsTable, table=True):
    """A bank's file layout (银行代发文件格式): the header and column order the operator configured."""

    __tablename__ = "bank_layout"

    id: str = Id()
    name: str = Field(max_length=120, unique=True)
    columns: list[dict[str, str]] = Json()
    created_at: datetime = Stamp()


class Reconciliation(FundsTable, table=True):
    """An uploaded bank statement (银行回单) and what its lines matched."""

    id: str = Id()
    batch_id: str = Ref(foreign_key="batch.id", index=True)
    region_code: str = Field(max_length=12, index=True)
    filename: str = Field(max_length=200)
    lines_paid: int = 0
    lines_failed: int = 0
    lines_unmatched: int = 0
    created_by: str = Field(max_length=120)
    created_at: datetime = Stamp()


class ReconciliationLine(FundsTable, table=True):
    __tablename__ = "reconciliation_line"

    id: str = Id()
    reconciliation_id: str = Ref(foreign_key="reconciliation.id", index=True)
    row: int
    reference: str = Field(max_length=80)
    amount: Decimal = Amount()
    outcome: str = Field(max_length=12)
    payment_id: str | None = Field(default=None, max_length=36)
    reason: str = Field(default="", max_length=300)


class RuleSet(FundsTable, table=True):
    """Policy rules (政策规则) of a jurisdiction (a region prefix) and year, as data."""

    __tablename__ = "rule_set"

    id: str = Id()
    region_prefix: str = Field(max_length=12)
    year: int
    body: dict[str, Any] = Json()
    updated_by: str = Field(max_length=120)
    updated_at: datetime = Stamp()

    __table_args__ = (UniqueConstraint("region_prefix", "year"),)


class HouseholdStatus(FundsTable, table=True):
    """Read model: identification's decisions on a household (approved, exited, returned), by effective day."""

    __tablename__ = "household_status"

    event_id: str = Field(primary_key=True, max_length=36)
    household_id: str = Field(max_length=36, index=True)
    region_code: str = Field(max_length=12)
    kind: str = Field(max_length=30)
    effective_on: date
    case_id: str = Field(max_length=36)


class DeceasedMember(FundsTable, table=True):
    """Read model: members the registry reported dead (member.deceased)."""

    __tablename__ = "deceased_member"

    member_id: str = Field(primary_key=True, max_length=36)
    household_id: str = Field(max_length=36, index=True)
    died_on: date


class FlaggedHousehold(FundsTable, table=True):
    """Read model: households with a village cadre or public-payroll member (from comparison findings)."""

    __tablename__ = "flagged_household"

    household_id: str = Field(primary_key=True, max_length=36)
    reason: str = Field(max_length=200)
    flagged_at: datetime = Stamp()


class RiskPool(FundsTable, table=True):
    """The loan risk-compensation pool (风险补偿金) a loans pool id is paid from."""

    __tablename__ = "risk_pool"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    region_code: str = Field(max_length=12, index=True)
    account_id: str = Ref(foreign_key="account.id")
    created_at: datetime = Stamp()


class SagaRequest(FundsTable, table=True):
    """A loans request (贴息 or 风险补偿) and how funds answered it: paid once, or short with why."""

    __tablename__ = "saga_request"

    id: str = Id()
    kind: str = Field(max_length=20)
    request_id: str = Field(max_length=64)
    loan_id: str = Field(max_length=64, index=True)
    region_code: str = Field(default="", max_length=12, index=True)
    amount: Decimal = Amount()
    status: str = Field(max_length=12)
    reason: str = Field(default="", max_length=300)
    transaction_id: str | None = Field(default=None, max_length=36)
    event_id: str = Field(max_length=36)
    created_at: datetime = Stamp()

    __table_args__ = (UniqueConstraint("kind", "request_id"),)


class Finding(FundsTable, table=True):
    """An anomaly finding (疑点) with its evidence and a status: open → explained / confirmed, by whom and why."""

    id: str = Id()
    kind: str = Field(max_length=30, index=True)
    key: str = Field(max_length=400, unique=True)
    region_code: str = Field(max_length=12, index=True)
    amount: Decimal = Amount()
    evidence_ids: list[str] = Json()
    summary: str = Field(max_length=300)
    status: str = Field(default="open", max_length=12, index=True)
    found_on: date
    found_at: datetime = Stamp()
    decided_by: str | None = Field(default=None, max_length=120)
    decided_at: datetime | None = Stamp(default=None)
    decision_reason: str | None = Field(default=None, max_length=500)


class Asset(FundsTable, table=True):
    """A poverty asset (扶贫资产) bought with project money: its owner, funding shares and restrictions."""

    id: str = Id()
    project_id: str = Ref(foreign_key="project.id", index=True)
    tag: str = Field(max_length=60, unique=True, description="ear tag, plate or register number (打耳编号)")
    name: str = Field(max_length=200)
    region_code: str = Field(max_length=12, index=True)
    owner_household_id: str | None = Field(default=None, max_length=36, index=True)
    owner_entity: str | None = Field(default=None, max_length=120)
    value: Decimal = Amount()
    funding_shares: list[dict[str, str]] = Json(default_factory=list)
    scope: str = Field(default="any", max_length=10)
    poor_households_only: bool = False
    locked_until: date | None = None
    disposal_needs_approval: bool = False
    status: str = Field(default="held", max_length=12)
    created_at: datetime = Stamp()


class AssetMovement(FundsTable, table=True):
    """The asset's transfer log (流转记录): transfers, disposals and natural losses, with who approved."""

    __tablename__ = "asset_movement"

    id: str = Id()
    asset_id: str = Ref(foreign_key="asset.id", index=True)
    movement: str = Field(max_length=20)
    on: date
    from_household_id: str | None = Field(default=None, max_length=36)
    to_household_id: str | None = Field(default=None, max_length=36)
    to_region_code: str | None = Field(default=None, max_length=12)
    approved_by: str | None = Field(default=None, max_length=120)
    note: str = Field(default="", max_length=500)
    actor: str = Field(max_length=120)
    created_at: datetime = Stamp()
