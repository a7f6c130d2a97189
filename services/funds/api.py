"""Funds routes: parse, call one service function, return."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response, UploadFile
from sqlmodel import col, select
from sqlmodel.sql.expression import Select
from starlette.concurrency import run_in_threadpool

from services.funds import (
    accounts,
    approval,
    assets,
    budgets,
    disbursements,
    findings,
    projects,
    publicity,
    reconcile,
    reports,
    rules,
    saga,
)
from services.funds.domain.ledger import AccountKind, Posting, TransactionKind
from services.funds.models import (
    WORKFLOW,
    Account,
    Arrival,
    Asset,
    AssetMovement,
    BankLayout,
    Batch,
    Beneficiary,
    Budget,
    Entry,
    Finding,
    FundSource,
    LedgerTransaction,
    Payment,
    Project,
    Reconciliation,
    RiskPool,
    SagaRequest,
)
from services.funds.schemas import (
    AccountEntryPublic,
    AccountPublic,
    AllocationCreate,
    ArrivalCreate,
    ArrivalPublic,
    AssetCreate,
    AssetPublic,
    BatchCreate,
    BatchPublic,
    BeneficiaryAdd,
    BeneficiaryPublic,
    BudgetCreate,
    BudgetPublic,
    ContributionCreate,
    DisposalApproval,
    EntryPublic,
    FindingDecision,
    FindingPublic,
    LayoutCreate,
    LayoutPublic,
    MovementCreate,
    MovementPublic,
    ObjectionCreate,
    ObjectionPublic,
    PaymentCreate,
    PaymentPublic,
    PoolCreate,
    PoolPublic,
    ProjectCreate,
    ProjectLineCreate,
    ProjectPublic,
    ReconciliationLinePublic,
    ReconciliationPublic,
    ReissueCreate,
    ReversalCreate,
    RuleSetPublic,
    RuleSetPut,
    SagaRequestPublic,
    SendBack,
    ShareStatusPublic,
    SourceCreate,
    SourcePublic,
    StatusMove,
    StepPublic,
    StepTake,
    TransactionCreate,
    TransactionPublic,
    TransitionPublic,
)
from shared.auth import Principal, Role, require
from shared.calls import ServiceClient, client_of
from shared.clock import session_clock
from shared.deps import ReadSessionDep, SessionDep
from shared.disclosure import Disclosure, DisclosureDep
from shared.errors import NotFound
from shared.files.mime import CSV, PDF, XLSX, attachment
from shared.files.uploads import spool
from shared.idempotency import IdempotencyDep
from shared.masking import mask_account
from shared.pagination import Page, PageDep, paginate
from shared.scope import RegionParam, get_in_scope, in_scope, narrow
from shared.workflow import store
from shared.workflow.template import Template, TemplateBody


@asynccontextmanager
async def load_templates(app: FastAPI) -> AsyncIterator[None]:
    """The built-in approval template is a data file, published at start when the database lacks it."""
    await run_in_threadpool(approval.load_builtin_templates, app.state.db)
    yield


router = APIRouter(lifespan=load_templates)
Reader = Annotated[
    Principal,
    Depends(
        require(
            Role.county_office, Role.township_reviewer, Role.village_cadre, Role.auditor, Role.bank_officer, Role.system
        )
    ),
]
Treasurer = Annotated[Principal, Depends(require(Role.county_office, Role.system))]
Planner = Annotated[
    Principal, Depends(require(Role.county_office, Role.township_reviewer, Role.village_cadre, Role.system))
]
Banker = Annotated[Principal, Depends(require(Role.bank_officer, Role.county_office, Role.system))]
LoanReader = Annotated[Principal, Depends(require(Role.county_office, Role.auditor, Role.bank_officer, Role.system))]
Inspecting = Annotated[
    Principal, Depends(require(Role.village_cadre, Role.township_reviewer, Role.county_office, Role.system))
]
Staff = Annotated[
    Principal, Depends(require(Role.village_cadre, Role.township_reviewer, Role.county_office, Role.system))
]
Inspector = Annotated[Principal, Depends(require(Role.auditor, Role.county_office, Role.system))]
RegionPath = Annotated[str, Path(pattern=r"^\d{2,12}$", description="a region code or prefix")]
YearPath = Annotated[int, Path(ge=2000, le=2100)]


# Accounts and transactions (账户, 记账凭证)


def _account_public(session: ReadSessionDep, rows: list[Account]) -> list[AccountPublic]:
    held = accounts.balances(session, [a.id for a in rows])
    return [AccountPublic(**a.model_dump(), balance=held[a.id]) for a in rows]


@router.get("/accounts", response_model=Page[AccountPublic], tags=["ledger"])
def list_accounts(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    kind: AccountKind | None = None,
) -> Page[AccountPublic]:
    """Accounts in your scope with balances derived from their entries."""
    query = select(Account).where(in_scope(Account.region_code, principal, region))
    if kind:
        query = query.where(Account.kind == kind.value)
    rows, cursor = paginate(session, query, order=[col(Account.id)], page=page)
    return Page(items=_account_public(session, rows), next_cursor=cursor)


@router.get("/accounts/{account_id}", response_model=AccountPublic, tags=["ledger"])
def get_account(account_id: str, session: ReadSessionDep, principal: Reader) -> AccountPublic:
    return _account_public(session, [accounts.get_account(session, account_id, principal)])[0]


@router.get("/accounts/{account_id}/entries", response_model=Page[AccountEntryPublic], tags=["ledger"])
def account_entries(
    account_id: str, session: ReadSessionDep, principal: Reader, page: PageDep
) -> Page[AccountEntryPublic]:
    """The entries of one account, oldest first (明细账)."""
    accounts.get_account(session, account_id, principal)
    # What select() builds; its overloads stop at four columns.
    columns: Select[str, str, Decimal, str, date, str] = Select(
        col(Entry.id),
        col(Entry.transaction_id),
        col(Entry.amount),
        col(LedgerTransaction.kind),
        col(LedgerTransaction.occurred_on),
        col(LedgerTransaction.memo),
    )
    query = columns.join(LedgerTransaction, col(LedgerTransaction.id) == Entry.transaction_id).where(
        Entry.account_id == account_id
    )
    rows, cursor = paginate(session, query, order=[col(Entry.id)], page=page)
    items = [
        AccountEntryPublic(
            transaction_id=r.transaction_id, kind=r.kind, occurred_on=r.occurred_on, memo=r.memo, amount=r.amount
        )
        for r in rows
    ]
    return Page(items=items, next_cursor=cursor)


def _transactions_public(session: ReadSessionDep, rows: list[LedgerTransaction]) -> list[TransactionPublic]:
    ids = [t.id for t in rows]
    entries = session.exec(select(Entry).where(col(Entry.transaction_id).in_(ids)).order_by(Entry.id)).all()
    by_tx: dict[str, list[EntryPublic]] = {}
    for e in entries:
        by_tx.setdefault(e.transaction_id, []).append(EntryPublic(account_id=e.account_id, amount=e.amount))
    reversed_by = accounts.reversed_by(session, ids)
    return [
        TransactionPublic(**t.model_dump(), entries=by_tx.get(t.id, []), reversed_by_id=reversed_by.get(t.id))
        for t in rows
    ]


@router.post("/transactions", status_code=201, response_model=TransactionPublic, tags=["ledger"])
def create_transaction(
    body: TransactionCreate, session: SessionDep, principal: Treasurer, idempotency: IdempotencyDep
) -> TransactionPublic:
    """A transfer, refund or adjustment: balanced entries on accounts in your scope (409 if one would go below 0)."""

    def act() -> TransactionPublic:
        accounts.require_accounts_in_scope(session, [p.account_id for p in body.postings], principal)
        tx = accounts.post(
            session,
            kind=body.kind,
            postings=[Posting(p.account_id, p.amount) for p in body.postings],
            memo=body.memo,
            actor=principal.subject,
            occurred_on=body.occurred_on,
        )
        return _transactions_public(session, [tx])[0]

    return idempotency.run(session, act)


@router.get("/transactions", response_model=Page[TransactionPublic], tags=["ledger"])
def list_transactions(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    kind: TransactionKind | None = None,
    reference: Annotated[str | None, Query(max_length=80)] = None,
) -> Page[TransactionPublic]:
    """Transactions in your scope, oldest first (日记账)."""
    query = select(LedgerTransaction).where(in_scope(LedgerTransaction.region_code, principal, region))
    if kind:
        query = query.where(LedgerTransaction.kind == kind.value)
    if reference:
        query = query.where(LedgerTransaction.reference == reference)
    rows, cursor = paginate(session, query, order=[col(LedgerTransaction.id)], page=page)
    return Page(items=_transactions_public(session, rows), next_cursor=cursor)


@router.get("/transactions/{transaction_id}", response_model=TransactionPublic, tags=["ledger"])
def get_transaction(transaction_id: str, session: ReadSessionDep, principal: Reader) -> TransactionPublic:
    return _transactions_public(session, [accounts.get_transaction(session, transaction_id, principal)])[0]


@router.post(
    "/transactions/{transaction_id}/reverse", status_code=201, response_model=TransactionPublic, tags=["ledger"]
)
def reverse_transaction(
    transaction_id: str, body: ReversalCreate, session: SessionDep, principal: Treasurer
) -> TransactionPublic:
    """Correct a transaction by reversing it (冲销): a new transaction with the opposite entries; never an edit."""
    original = accounts.get_transaction(session, transaction_id, principal)
    tx = accounts.reverse(session, original.id, reason=body.reason, actor=principal.subject)
    return _transactions_public(session, [tx])[0]


# Sources, budgets, arrivals (资金来源, 资金指标, 资金到位)


@router.post("/sources", status_code=201, response_model=SourcePublic, tags=["budgets"])
def create_source(
    body: SourceCreate, session: SessionDep, principal: Treasurer, idempotency: IdempotencyDep
) -> SourcePublic:
    return idempotency.run(
        session, lambda: budgets.source_public(session, budgets.create_source(session, body, principal))
    )


@router.get("/sources", response_model=Page[SourcePublic], tags=["budgets"])
def list_sources(
    session: ReadSessionDep, principal: Reader, page: PageDep, region: RegionParam = None
) -> Page[SourcePublic]:
    query = select(FundSource).where(in_scope(FundSource.region_code, principal, region))
    rows, cursor = paginate(session, query, order=[col(FundSource.id)], page=page)
    return Page(items=[budgets.source_public(session, s) for s in rows], next_cursor=cursor)


@router.get("/sources/{source_id}", response_model=SourcePublic, tags=["budgets"])
def get_source(source_id: str, session: ReadSessionDep, principal: Reader) -> SourcePublic:
    return budgets.source_public(session, budgets.get_source(session, source_id, principal))


@router.post("/budgets", status_code=201, response_model=BudgetPublic, tags=["budgets"])
def create_budget(
    body: BudgetCreate, session: SessionDep, principal: Treasurer, idempotency: IdempotencyDep
) -> BudgetPublic:
    return idempotency.run(
        session, lambda: budgets.budget_public(session, budgets.create_budget(session, body, principal))
    )


@router.get("/budgets", response_model=Page[BudgetPublic], tags=["budgets"])
def list_budgets(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[BudgetPublic]:
    """Budgets with planned, arrived, shortfall and whether the money is late (到位滞后)."""
    query = select(Budget).where(in_scope(Budget.region_code, principal, region))
    if year:
        query = query.where(Budget.year == year)
    rows, cursor = paginate(session, query, order=[col(Budget.id)], page=page)
    return Page(items=[budgets.budget_public(session, b) for b in rows], next_cursor=cursor)


@router.get("/budgets/{budget_id}", response_model=BudgetPublic, tags=["budgets"])
def get_budget(budget_id: str, session: ReadSessionDep, principal: Reader) -> BudgetPublic:
    return budgets.budget_public(session, budgets.get_budget(session, budget_id, principal))


@router.post("/budgets/{budget_id}/arrivals", status_code=201, response_model=ArrivalPublic, tags=["budgets"])
def record_arrival(
    budget_id: str, body: ArrivalCreate, session: SessionDep, principal: Treasurer, idempotency: IdempotencyDep
) -> ArrivalPublic:
    """Money arrived for a budget (资金到位): source → budget in the ledger."""
    budget = budgets.get_budget(session, budget_id, principal)
    return idempotency.run(
        session, lambda: ArrivalPublic(**budgets.record_arrival(session, budget, body, principal).model_dump())
    )


@router.get("/budgets/{budget_id}/arrivals", response_model=Page[ArrivalPublic], tags=["budgets"])
def list_arrivals(budget_id: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[ArrivalPublic]:
    budgets.get_budget(session, budget_id, principal)
    rows, cursor = paginate(
        session, select(Arrival).where(Arrival.budget_id == budget_id), order=[col(Arrival.id)], page=page
    )
    return Page(items=[ArrivalPublic(**a.model_dump()) for a in rows], next_cursor=cursor)


# Projects (扶贫项目)


@router.post("/projects", status_code=201, response_model=ProjectPublic, tags=["projects"])
def create_project(
    body: ProjectCreate, session: SessionDep, principal: Planner, idempotency: IdempotencyDep
) -> ProjectPublic:
    """A project in the project bank (项目库), with its budget lines."""
    return idempotency.run(session, lambda: projects.project_public(session, approval.create(session, body, principal)))


@router.get("/projects", response_model=Page[ProjectPublic], tags=["projects"])
def list_projects(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> Page[ProjectPublic]:
    query = select(Project).where(in_scope(Project.region_code, principal, region))
    if year:
        query = query.where(Project.year == year)
    if status:
        query = query.where(Project.status == status)
    rows, cursor = paginate(session, query, order=[col(Project.id)], page=page)
    return Page(items=[projects.project_public(session, p) for p in rows], next_cursor=cursor)


@router.get("/projects/{project_id}", response_model=ProjectPublic, tags=["projects"])
def get_project(project_id: str, session: ReadSessionDep, principal: Reader) -> ProjectPublic:
    return projects.project_public(session, projects.get_project(session, project_id, principal))


@router.post("/projects/{project_id}/lines", status_code=201, response_model=ProjectPublic, tags=["projects"])
def add_line(project_id: str, body: ProjectLineCreate, session: SessionDep, principal: Planner) -> ProjectPublic:
    project = projects.get_project(session, project_id, principal)
    projects.add_line(session, project, body, principal)
    return projects.project_public(session, project)


@router.post("/projects/{project_id}/steps", response_model=StepPublic, tags=["projects"])
def take_step(project_id: str, body: StepTake, session: SessionDep, principal: Staff) -> StepPublic:
    """Take the next approval step (户申请→村审核→乡镇审查→县审批 by default) with its evidence; the approving
    step checks the share rules (a breach needs ``acknowledge_warnings``)."""
    project = projects.get_project(session, project_id, principal)
    warnings = approval.take(session, project, body, principal)
    return StepPublic(
        project=projects.project_public(session, project), warnings=[ShareStatusPublic(**w.__dict__) for w in warnings]
    )


@router.post("/projects/{project_id}/send-back", response_model=ProjectPublic, tags=["projects"])
def send_back(project_id: str, body: SendBack, session: SessionDep, principal: Staff) -> ProjectPublic:
    """Send the approval back to an earlier step for re-review, with the reason."""
    project = projects.get_project(session, project_id, principal)
    approval.send_back(session, project, body, principal)
    return projects.project_public(session, project)


@router.post("/projects/{project_id}/objections", status_code=201, response_model=ObjectionPublic, tags=["projects"])
def file_objection(project_id: str, body: ObjectionCreate, session: SessionDep, principal: Staff) -> ObjectionPublic:
    """An objection raised while the project's notice runs (公示异议); when the period is over the project goes
    back to the noticed step for re-review. The notice itself ends by the clock, never by a call."""
    project = projects.get_project(session, project_id, principal)
    return ObjectionPublic(**approval.file_objection(session, project, body, principal).model_dump())


@router.get("/projects/{project_id}/objections", response_model=Page[ObjectionPublic], tags=["projects"])
def list_objections(
    project_id: str, session: ReadSessionDep, principal: Reader, page: PageDep
) -> Page[ObjectionPublic]:
    project = projects.get_project(session, project_id, principal)
    rows, cursor = approval.objections(session, project, page)
    return Page(items=[ObjectionPublic(**o.model_dump()) for o in rows], next_cursor=cursor)


@router.get("/projects/{project_id}/steps", response_model=Page[TransitionPublic], tags=["projects"])
def project_steps(project_id: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[TransitionPublic]:
    """Every approval step taken: who, with which role, when, on what evidence."""
    project = projects.get_project(session, project_id, principal)
    rows, cursor = approval.history(session, project, page)
    return Page(items=[TransitionPublic(**t.__dict__) for t in rows], next_cursor=cursor)


@router.post("/project-templates", status_code=201, response_model=Template, tags=["projects"])
def publish_template(body: TemplateBody, session: SessionDep, principal: Treasurer) -> Template:
    """A jurisdiction's variant of the approval template; projects started later use it, running ones keep theirs."""
    return approval.publish_template(session, body, principal)


@router.get("/project-templates", response_model=Page[Template], tags=["projects"])
def list_templates(session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[Template]:
    """Every version of the approval template whose jurisdiction overlaps the caller's region, oldest first."""
    items, cursor = store.templates_page(session, WORKFLOW, page, code=approval.CODE, region=principal.region)
    return Page(items=items, next_cursor=cursor)


@router.post("/projects/{project_id}/status", response_model=ProjectPublic, tags=["projects"])
def move_project(project_id: str, body: StatusMove, session: SessionDep, principal: Treasurer) -> ProjectPublic:
    """Tender → construction → completed → accepted (招标, 施工, 竣工, 验收), or cancelled."""
    project = projects.get_project(session, project_id, principal)
    return projects.project_public(session, projects.move(session, project, body, principal))


@router.post("/projects/{project_id}/allocations", status_code=201, response_model=TransactionPublic, tags=["projects"])
def allocate(
    project_id: str, body: AllocationCreate, session: SessionDep, principal: Treasurer, idempotency: IdempotencyDep
) -> TransactionPublic:
    """Allocate arrived money (资金分配): the line's budget → the project line's account."""
    project = projects.get_project(session, project_id, principal)

    def act() -> TransactionPublic:
        tx = session.get(LedgerTransaction, projects.allocate(session, project, body, principal))
        assert tx is not None
        return _transactions_public(session, [tx])[0]

    return idempotency.run(session, act)


@router.get("/projects/{project_id}/shares", response_model=list[ShareStatusPublic], tags=["projects"])
def project_shares(project_id: str, session: ReadSessionDep, principal: Reader) -> list[ShareStatusPublic]:
    """The share rules as they would stand with this project approved (报批前预警)."""
    project = projects.get_project(session, project_id, principal)
    report = projects.share_report(session, region_code=project.region_code, year=project.year, including=project.id)
    return [ShareStatusPublic(**s.__dict__) for s in report]


@router.post(
    "/projects/{project_id}/beneficiaries", status_code=201, response_model=BeneficiaryPublic, tags=["projects"]
)
def add_beneficiary(
    project_id: str, body: BeneficiaryAdd, session: SessionDep, principal: Planner
) -> BeneficiaryPublic:
    """A household on the project's beneficiary list (受益户名单), with its building cost for 危房 caps."""
    project = projects.get_project(session, project_id, principal)
    return BeneficiaryPublic(**projects.add_beneficiary(session, project, body).model_dump())


@router.get("/projects/{project_id}/beneficiaries", response_model=Page[BeneficiaryPublic], tags=["projects"])
def list_beneficiaries(
    project_id: str, session: ReadSessionDep, principal: Reader, page: PageDep
) -> Page[BeneficiaryPublic]:
    projects.get_project(session, project_id, principal)
    query = select(Beneficiary).where(Beneficiary.project_id == project_id)
    rows, cursor = paginate(session, query, order=[col(Beneficiary.household_id)], page=page)
    return Page(items=[BeneficiaryPublic(**b.model_dump()) for b in rows], next_cursor=cursor)


# Disbursements (资金发放)


def _payment_public(payment: Payment, show: Disclosure | None = None) -> PaymentPublic:
    """A payment with its account number masked, or whole for a caller who may see it (and then audited)."""
    number = show.account(payment.account_number) if show else mask_account(payment.account_number)
    return PaymentPublic(**(payment.model_dump() | {"account_number": number}))


@router.post("/disbursements", status_code=201, response_model=BatchPublic, tags=["disbursements"])
def create_batch(
    body: BatchCreate, session: SessionDep, principal: Treasurer, idempotency: IdempotencyDep
) -> BatchPublic:
    """A draft batch (发放批次) for an approved project."""
    project = projects.get_project(session, body.project_id, principal)
    return idempotency.run(
        session, lambda: disbursements.batch_public(session, disbursements.create_batch(session, project, principal))
    )


@router.get("/disbursements", response_model=Page[BatchPublic], tags=["disbursements"])
def list_batches(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    project_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[BatchPublic]:
    query = select(Batch).where(in_scope(Batch.region_code, principal, region))
    if project_id:
        query = query.where(Batch.project_id == project_id)
    rows, cursor = paginate(session, query, order=[col(Batch.id)], page=page)
    return Page(items=[disbursements.batch_public(session, b) for b in rows], next_cursor=cursor)


@router.get("/disbursements/{batch_id}", response_model=BatchPublic, tags=["disbursements"])
def get_batch(batch_id: str, session: ReadSessionDep, principal: Reader) -> BatchPublic:
    return disbursements.batch_public(session, disbursements.get_batch(session, batch_id, principal))


@router.post(
    "/disbursements/{batch_id}/payments", status_code=201, response_model=PaymentPublic, tags=["disbursements"]
)
def add_payment(
    batch_id: str, body: PaymentCreate, session: SessionDep, principal: Treasurer, idempotency: IdempotencyDep
) -> PaymentPublic:
    """A payment to a household's card or an entity; refused over a cap, twice in a period, or to an ineligible
    or deceased payee."""
    batch = disbursements.get_batch(session, batch_id, principal)
    return idempotency.run(
        session,
        lambda: _payment_public(disbursements.add_payment(session, batch, body, principal)),
    )


@router.get("/disbursements/{batch_id}/payments", response_model=Page[PaymentPublic], tags=["disbursements"])
def list_payments(
    batch_id: str, session: ReadSessionDep, principal: Reader, page: PageDep, show: DisclosureDep
) -> Page[PaymentPublic]:
    """A batch's payments; account numbers masked unless ``reveal``."""
    disbursements.get_batch(session, batch_id, principal)
    rows, cursor = paginate(
        session, select(Payment).where(Payment.batch_id == batch_id), order=[col(Payment.id)], page=page
    )
    show.audit(f"batch/{batch_id}/payments", payments=[p.id for p in rows])
    return Page(items=[_payment_public(p, show) for p in rows], next_cursor=cursor)


@router.post("/disbursements/{batch_id}/send", response_model=BatchPublic, tags=["disbursements"])
def send_batch(batch_id: str, session: SessionDep, principal: Treasurer) -> BatchPublic:
    """Send the batch to the bank: each payment moves project line → clearing (在途)."""
    batch = disbursements.get_batch(session, batch_id, principal)
    return disbursements.batch_public(session, disbursements.send(session, batch, principal))


@router.get("/payments/{payment_id}", response_model=PaymentPublic, tags=["disbursements"])
def get_payment(payment_id: str, session: ReadSessionDep, principal: Reader, show: DisclosureDep) -> PaymentPublic:
    """One payment; ``reveal=true`` shows the whole account number to county, township reviewer and system."""
    payment = disbursements.get_payment(session, payment_id, principal)
    show.audit(f"payment/{payment.id}")
    return _payment_public(payment, show)


@router.post("/payments/{payment_id}/reissue", status_code=201, response_model=PaymentPublic, tags=["disbursements"])
def reissue_payment(payment_id: str, body: ReissueCreate, session: SessionDep, principal: Treasurer) -> PaymentPublic:
    """Reissue a failed payment (重新发放) as a new pending payment in a draft batch."""
    payment = disbursements.get_payment(session, payment_id, principal)
    return _payment_public(disbursements.reissue(session, payment, body, principal))


# Rules (政策规则)


@router.put("/rule-sets/{region_prefix}/{year}", response_model=RuleSetPublic, tags=["rules"])
def put_rule_set(
    region_prefix: RegionPath, year: YearPath, body: RuleSetPut, session: SessionDep, principal: Treasurer
) -> RuleSetPublic:
    """The share rules, caps and thresholds of a jurisdiction and year (data, not code)."""
    row = rules.put_rules(session, region_prefix=region_prefix, year=year, body=body, principal=principal)
    return RuleSetPublic(**row.model_dump(exclude={"body"}), body=body)


@router.get("/rule-sets/{region_code}/{year}", response_model=RuleSetPublic, tags=["rules"])
def get_rule_set(region_code: RegionPath, year: YearPath, session: ReadSessionDep, principal: Reader) -> RuleSetPublic:
    """The rules in force for a region and year (the narrowest jurisdiction's, else the defaults)."""
    body = rules.rules_for(session, region_code=region_code, year=year)
    return RuleSetPublic(
        region_prefix=region_code, year=year, body=body, updated_by="", updated_at=session_clock(session).now()
    )


# Risk pools and the loans saga (风险补偿金, 贴息)


def _pool_public(session: ReadSessionDep | SessionDep, pool: RiskPool) -> PoolPublic:
    return PoolPublic(**pool.model_dump(), balance=accounts.balance(session, pool.account_id))


@router.post("/pools", status_code=201, response_model=PoolPublic, tags=["loans"])
def create_pool(body: PoolCreate, session: SessionDep, principal: Treasurer) -> PoolPublic:
    """The risk-compensation pool for a loans pool id."""
    return _pool_public(session, saga.create_pool(session, body, principal))


@router.get("/pools", response_model=Page[PoolPublic], tags=["loans"])
def list_pools(session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[PoolPublic]:
    query = select(RiskPool).where(in_scope(RiskPool.region_code, principal))
    rows, cursor = paginate(session, query, order=[col(RiskPool.id)], page=page)
    return Page(items=[_pool_public(session, p) for p in rows], next_cursor=cursor)


@router.post("/pools/{pool_id}/contributions", status_code=201, response_model=PoolPublic, tags=["loans"])
def contribute(pool_id: str, body: ContributionCreate, session: SessionDep, principal: Treasurer) -> PoolPublic:
    pool = saga.get_pool(session, pool_id, principal)
    saga.contribute(session, pool, body, principal)
    return _pool_public(session, pool)


@router.get("/loan-requests", response_model=Page[SagaRequestPublic], tags=["loans"])
def list_requests(
    session: ReadSessionDep,
    principal: LoanReader,
    page: PageDep,
    loan_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[SagaRequestPublic]:
    """Subsidy and compensation requests and recoveries from loans, and how each was answered (paid or recorded,
    or short or refused and why)."""
    query = select(SagaRequest).where(in_scope(SagaRequest.region_code, principal))
    if loan_id:
        query = query.where(SagaRequest.loan_id == loan_id)
    rows, cursor = paginate(session, query, order=[col(SagaRequest.id)], page=page)
    return Page(items=[SagaRequestPublic(**r.model_dump()) for r in rows], next_cursor=cursor)


# Findings (疑点)


@router.get("/anomalies", response_model=Page[FindingPublic], tags=["anomalies"])
def list_findings(
    session: ReadSessionDep,
    principal: Inspector,
    page: PageDep,
    region: RegionParam = None,
    status: Annotated[str | None, Query(pattern="^(open|explained|confirmed)$")] = None,
    kind: Annotated[str | None, Query(max_length=30)] = None,
) -> Page[FindingPublic]:
    query = select(Finding).where(in_scope(Finding.region_code, principal, region))
    if status:
        query = query.where(Finding.status == status)
    if kind:
        query = query.where(Finding.kind == kind)
    rows, cursor = paginate(session, query, order=[col(Finding.id)], page=page)
    return Page(items=[FindingPublic(**f.model_dump()) for f in rows], next_cursor=cursor)


@router.get("/anomalies/{finding_id}", response_model=FindingPublic, tags=["anomalies"])
def get_finding(finding_id: str, session: ReadSessionDep, principal: Inspector) -> FindingPublic:
    return FindingPublic(**findings.get_finding(session, finding_id, principal).model_dump())


@router.post("/anomalies/{finding_id}/decision", response_model=FindingPublic, tags=["anomalies"])
def decide_finding(finding_id: str, body: FindingDecision, session: SessionDep, principal: Inspector) -> FindingPublic:
    """Close a finding: explained (情况属实已说明) or confirmed (问题属实), with the reason."""
    finding = findings.get_finding(session, finding_id, principal)
    return FindingPublic(**findings.decide(session, finding, body, principal).model_dump())


# Bank files and reconciliation (代发文件, 对账)


@router.post("/bank-layouts", status_code=201, response_model=LayoutPublic, tags=["disbursements"])
def create_layout(body: LayoutCreate, session: SessionDep, principal: Banker) -> LayoutPublic:
    """A bank's file layout: the CSV header labels and which payment field goes under each."""
    return LayoutPublic(**reconcile.create_layout(session, body).model_dump())


@router.get("/bank-layouts", response_model=Page[LayoutPublic], tags=["disbursements"])
def list_layouts(session: ReadSessionDep, principal: Banker, page: PageDep) -> Page[LayoutPublic]:
    rows, cursor = paginate(session, select(BankLayout), order=[col(BankLayout.id)], page=page)
    return Page(items=[LayoutPublic(**r.model_dump()) for r in rows], next_cursor=cursor)


@router.get(
    "/disbursements/{batch_id}/bank-file",
    response_class=Response,
    tags=["disbursements"],
    responses={200: {"content": {"text/csv": {}}}},
)
def bank_file(
    batch_id: str, session: SessionDep, principal: Banker, layout_id: Annotated[str | None, Query(max_length=36)] = None
) -> Response:
    """The sent batch as the bank's CSV in the chosen layout (whole account numbers; audited)."""
    batch = disbursements.get_batch(session, batch_id, principal)
    body = reconcile.bank_file(session, batch, layout_id, principal)
    return Response(body.encode("utf-8-sig"), media_type=CSV, headers=attachment(f"batch-{batch.id}.csv"))


@router.post(
    "/disbursements/{batch_id}/reconciliations",
    status_code=201,
    response_model=ReconciliationPublic,
    tags=["disbursements"],
)
def upload_statement(
    batch_id: str, request: Request, file: UploadFile, session: SessionDep, principal: Banker
) -> ReconciliationPublic:
    """Reconcile a bank statement (CSV/XLSX with reference, amount, status): paid, failed, unmatched lines."""
    batch = disbursements.get_batch(session, batch_id, principal)
    path = spool(request, file, folder="statements")
    try:
        recon = reconcile.reconcile(session, batch, path, file.filename or path.name, principal)
    finally:
        path.unlink(missing_ok=True)
    return _reconciliation_public(session, recon)


def _reconciliation_public(session: ReadSessionDep | SessionDep, recon: Reconciliation) -> ReconciliationPublic:
    lines = [ReconciliationLinePublic(**line.model_dump()) for line in reconcile.lines_of(session, recon.id)]
    return ReconciliationPublic(**recon.model_dump(), lines=lines)


@router.get("/reconciliations/{reconciliation_id}", response_model=ReconciliationPublic, tags=["disbursements"])
def get_reconciliation(reconciliation_id: str, session: ReadSessionDep, principal: Reader) -> ReconciliationPublic:
    recon = get_in_scope(session, Reconciliation, reconciliation_id, principal, what="reconciliation")
    return _reconciliation_public(session, recon)


# Poverty assets (扶贫资产)


@router.post("/assets", status_code=201, response_model=AssetPublic, tags=["assets"])
def register_asset(body: AssetCreate, session: SessionDep, principal: Planner) -> AssetPublic:
    """Register an asset bought with project money, with its owner, funding shares and restrictions."""
    return AssetPublic(**assets.register(session, body, principal).model_dump())


@router.get("/assets", response_model=Page[AssetPublic], tags=["assets"])
def list_assets(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    project_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[AssetPublic]:
    query = select(Asset).where(in_scope(Asset.region_code, principal, region))
    if project_id:
        query = query.where(Asset.project_id == project_id)
    rows, cursor = paginate(session, query, order=[col(Asset.id)], page=page)
    return Page(items=[AssetPublic(**a.model_dump()) for a in rows], next_cursor=cursor)


@router.get("/assets/{asset_id}", response_model=AssetPublic, tags=["assets"])
def get_asset(asset_id: str, session: ReadSessionDep, principal: Reader) -> AssetPublic:
    return AssetPublic(**assets.get_asset(session, asset_id, principal).model_dump())


@router.post("/assets/{asset_id}/approvals", status_code=201, response_model=MovementPublic, tags=["assets"])
def approve_disposal(
    asset_id: str, body: DisposalApproval, session: SessionDep, principal: Inspecting
) -> MovementPublic:
    """A village cadre's or township's inspection that allows one disposal (出售前查验)."""
    asset = assets.get_asset(session, asset_id, principal)
    return MovementPublic(**assets.approve_disposal(session, asset, body, principal).model_dump())


@router.post("/assets/{asset_id}/movements", status_code=201, response_model=MovementPublic, tags=["assets"])
def move_asset(asset_id: str, body: MovementCreate, session: SessionDep, principal: Planner) -> MovementPublic:
    """Transfer, dispose of or write off an asset; refused (422) when its restrictions forbid it."""
    asset = assets.get_asset(session, asset_id, principal)
    return MovementPublic(**assets.move(session, asset, body, principal).model_dump())


@router.get("/assets/{asset_id}/movements", response_model=Page[MovementPublic], tags=["assets"])
def list_movements(asset_id: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[MovementPublic]:
    """The asset's transfer log, oldest first."""
    assets.get_asset(session, asset_id, principal)
    query = select(AssetMovement).where(AssetMovement.asset_id == asset_id)
    rows, cursor = paginate(session, query, order=[col(AssetMovement.id)], page=page)
    return Page(items=[MovementPublic(**m.model_dump()) for m in rows], next_cursor=cursor)


# Reports and publicity (报表, 公示)


@router.get("/reports/execution", response_model=reports.ExecutionReport, tags=["reports"])
def execution_report(
    session: ReadSessionDep,
    principal: Reader,
    year: Annotated[int, Query(ge=2000, le=2100)],
    region: RegionParam = None,
) -> reports.ExecutionReport:
    """Budget against arrival against allocation and spending, by source, project and township."""
    return reports.execution(session, principal, year=year, region=region)


@router.get("/reports/shares", response_model=list[ShareStatusPublic], tags=["reports"])
def share_report(
    session: ReadSessionDep,
    principal: Reader,
    year: Annotated[int, Query(ge=2000, le=2100)],
    region: Annotated[str, Query(pattern=r"^\d{6,12}$")],
) -> list[ShareStatusPublic]:
    """The share rules of a county (the first six digits of ``region``) and year over approved projects."""
    if narrow(principal.region, region) is None:
        return []
    return [ShareStatusPublic(**s.__dict__) for s in projects.share_report(session, region_code=region, year=year)]


@router.get("/reports/findings", response_model=list[reports.FindingCount], tags=["reports"])
def findings_report(
    session: ReadSessionDep, principal: Inspector, region: RegionParam = None
) -> list[reports.FindingCount]:
    """Open findings by township and kind."""
    return reports.open_findings(session, principal, region=region)


def _file(body: bytes, media: str, name: str) -> Response:
    return Response(body, media_type=media, headers=attachment(name))


FILES = {"pdf": PDF, "xlsx": XLSX}
RegistryDep = Annotated[ServiceClient, Depends(client_of("registry"))]
Format = Annotated[str, Path(pattern="^(pdf|xlsx)$")]


@router.get(
    "/publicity/projects/{project_id}.{fmt}",
    response_class=Response,
    tags=["publicity"],
    responses={200: {"content": {PDF: {}, XLSX: {}}}},
)
def project_publicity(
    project_id: str, fmt: Format, session: ReadSessionDep, principal: Reader, registry: RegistryDep
) -> Response:
    """The project's notice (项目公示): budget lines, beneficiaries (masked) and payments (accounts masked)."""
    project = projects.get_project(session, project_id, principal)
    place = publicity.place_of(registry, project.region_code)
    write = publicity.project_pdf if fmt == "pdf" else publicity.project_xlsx
    body = write(session, project, place)
    return _file(body, FILES[fmt], f"项目公示-{project.name}.{fmt}")


@router.get(
    "/publicity/villages/{village}/{year}.{fmt}",
    response_class=Response,
    tags=["publicity"],
    responses={200: {"content": {PDF: {}, XLSX: {}}}},
)
def village_publicity(
    village: Annotated[str, Path(pattern=r"^\d{12}$")],
    year: YearPath,
    fmt: Format,
    session: ReadSessionDep,
    principal: Reader,
    registry: RegistryDep,
) -> Response:
    """A village's receipts for a year (到户资金公示): each paid payment, accounts masked."""
    if not principal.covers(village):
        raise NotFound(f"no village {village}", field="village")
    write = publicity.village_pdf if fmt == "pdf" else publicity.village_xlsx
    body = write(session, village, year, publicity.place_of(registry, village))
    return _file(body, FILES[fmt], f"到户资金公示-{village}-{year}.{fmt}")
