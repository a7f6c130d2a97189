"""Loans routes: parse, call one service function, return."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlmodel import select

from services.loans import claims, documents, lending, products, repayments, reports, subsidies
from services.loans.domain.schedule import Schedule, generate_schedule
from services.loans.models import Claim, Extension, Installment, Loan, Pool, Product, Rating, Repayment, Subsidy
from services.loans.schemas import (
    ClaimPublic,
    DefaultDeclare,
    ExtensionCreate,
    ExtensionPublic,
    InstallmentPublic,
    LoanApply,
    LoanDecision,
    LoanDisburse,
    LoanPublic,
    LoanReject,
    LoanSubsidySummary,
    PeriodPublic,
    PoolContribution,
    PoolCreate,
    PoolPublic,
    PortfolioReport,
    ProductCreate,
    ProductPublic,
    RatingCreate,
    RatingPublic,
    RecoveryCreate,
    RepaymentCreate,
    RepaymentPublic,
    RepaymentReverse,
    SchedulePreview,
    SchedulePublic,
    SubsidyPublic,
)
from shared.auth import Principal, Role, require
from shared.deps import ReadSessionDep, SessionDep
from shared.files.mime import PDF, attachment
from shared.idempotency import IdempotencyDep
from shared.masking import mask_account, mask_phone, mask_resident_id
from shared.pagination import Page, PageDep, paginate
from shared.scope import RegionParam, get_in_scope, in_scope

router = APIRouter(tags=["loans"])
STAFF = (
    Role.bank_officer,
    Role.county_office,
    Role.township_reviewer,
    Role.village_cadre,
    Role.helper,
    Role.auditor,
    Role.system,
)
Reader = Annotated[Principal, Depends(require(*STAFF))]
Officer = Annotated[Principal, Depends(require(Role.bank_officer, Role.system))]
Designer = Annotated[Principal, Depends(require(Role.county_office, Role.bank_officer, Role.system))]
Treasurer = Annotated[Principal, Depends(require(Role.county_office, Role.system))]
Applicant = Annotated[Principal, Depends(require(Role.village_cadre, Role.helper, Role.bank_officer, Role.system))]
Supervisor = Annotated[Principal, Depends(require(Role.county_office, Role.bank_officer, Role.auditor, Role.system))]
SEES_PERSONAL_DATA = (Role.bank_officer, Role.system)


@router.post("/schedules/preview", response_model=SchedulePublic, tags=["schedules"])
def preview_schedule(body: SchedulePreview, _: Reader) -> SchedulePublic:
    """The repayment schedule (还款计划) for given terms, without creating a loan."""
    return schedule_public(generate_schedule(lending.preview_terms(body)))


@router.post("/products", status_code=201, response_model=ProductPublic, tags=["products"])
def create_product(body: ProductCreate, session: SessionDep, principal: Designer, idem: IdempotencyDep) -> Any:
    """A product, or the next version of an existing code; loans keep the version they were approved under."""
    return idem.run(
        session,
        lambda: ProductPublic.model_validate(products.create_product(session, body, principal), from_attributes=True),
    )


@router.get("/products", response_model=Page[ProductPublic], tags=["products"])
def list_products(session: ReadSessionDep, _: Reader, page: PageDep, code: str | None = None) -> Page[ProductPublic]:
    """Product versions, oldest first (products are public terms, seen by every role)."""
    query = select(Product).where(Product.code == code) if code else select(Product)
    rows, cursor = paginate(session, query, order=[Product.id], page=page)
    return Page(items=[ProductPublic.model_validate(r, from_attributes=True) for r in rows], next_cursor=cursor)


@router.get("/products/{product_id}", response_model=ProductPublic, tags=["products"])
def get_product(product_id: str, session: ReadSessionDep, _: Reader) -> ProductPublic:
    return ProductPublic.model_validate(products.get_product(session, product_id), from_attributes=True)


@router.get(
    "/products/{product_id}/brochure.pdf",
    tags=["products"],
    response_class=Response,
    responses={200: {"content": {PDF: {}}}},
)
def product_brochure(product_id: str, session: ReadSessionDep, _: Reader) -> Response:
    """The product's brochure (terms, process, subsidy, compensation, supervision hotline) as a PDF."""
    product = products.get_product(session, product_id)
    pool = session.get(Pool, product.pool_id)
    assert pool is not None
    return Response(documents.brochure(product, pool), media_type=PDF, headers=attachment(f"{product.code}.pdf"))


@router.post("/pools", status_code=201, response_model=PoolPublic, tags=["pools"])
def create_pool(body: PoolCreate, session: SessionDep, principal: Treasurer, idem: IdempotencyDep) -> Any:
    """A risk-compensation pool (风险补偿金) with its leverage multiple and first capital."""
    return idem.run(session, lambda: products.pool_public(session, products.create_pool(session, body, principal)))


@router.get("/pools", response_model=Page[PoolPublic], tags=["pools"])
def list_pools(session: ReadSessionDep, principal: Supervisor, page: PageDep, region: RegionParam = None) -> Any:
    query = select(Pool).where(in_scope(Pool.region_code, principal, region))
    rows, cursor = paginate(session, query, order=[Pool.id], page=page)
    return Page(items=[products.pool_public(session, p) for p in rows], next_cursor=cursor)


@router.get("/pools/{pool_id}", response_model=PoolPublic, tags=["pools"])
def get_pool(pool_id: str, session: ReadSessionDep, principal: Supervisor) -> PoolPublic:
    """A pool's balance, the principal it backs, and the leverage room left."""
    return products.pool_public(session, get_in_scope(session, Pool, pool_id, principal, what="pool"))


@router.post("/pools/{pool_id}/contributions", status_code=201, response_model=PoolPublic, tags=["pools"])
def contribute(
    pool_id: str, body: PoolContribution, session: SessionDep, principal: Treasurer, idem: IdempotencyDep
) -> Any:
    """Top up a pool (the county adds to the fund each year)."""
    return idem.run(
        session, lambda: products.pool_public(session, products.contribute(session, pool_id, body, principal))
    )


@router.post("/ratings", status_code=201, response_model=RatingPublic, tags=["ratings"])
def create_rating(body: RatingCreate, session: SessionDep, principal: Officer, idem: IdempotencyDep) -> Any:
    """A credit rating and line (评级授信) for a household or an entity."""
    return idem.run(
        session,
        lambda: RatingPublic.model_validate(lending.create_rating(session, body, principal), from_attributes=True),
    )


@router.get("/ratings", response_model=Page[RatingPublic], tags=["ratings"])
def list_ratings(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    household_id: str | None = None,
) -> Page[RatingPublic]:
    query = select(Rating).where(in_scope(Rating.region_code, principal, region))
    if household_id:
        query = query.where(Rating.household_id == household_id)
    rows, cursor = paginate(session, query, order=[Rating.id], page=page)
    return Page(items=[RatingPublic.model_validate(r, from_attributes=True) for r in rows], next_cursor=cursor)


@router.post("/loans", status_code=201, response_model=LoanPublic)
def apply_for_loan(body: LoanApply, session: SessionDep, principal: Applicant, idem: IdempotencyDep) -> Any:
    """An application: only households recognised as poor and not exited, or entities by credit code."""
    return idem.run(session, lambda: loan_public(lending.apply(session, body, principal), principal))


@router.get("/loans", response_model=Page[LoanPublic])
def list_loans(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    status: str | None = None,
    bucket: str | None = None,
    household_id: str | None = None,
) -> Page[LoanPublic]:
    """Loans in your region scope; personal data masked outside the bank."""
    query = select(Loan).where(in_scope(Loan.region_code, principal, region))
    for column, value in ((Loan.status, status), (Loan.bucket, bucket), (Loan.household_id, household_id)):
        if value:
            query = query.where(column == value)
    rows, cursor = paginate(session, query, order=[Loan.id], page=page)
    return Page(items=[loan_public(r, principal) for r in rows], next_cursor=cursor)


@router.get("/loans/{loan_id}", response_model=LoanPublic)
def get_loan(loan_id: str, session: ReadSessionDep, principal: Reader) -> LoanPublic:
    return loan_public(get_in_scope(session, Loan, loan_id, principal, what="loan"), principal)


@router.post("/loans/{loan_id}/approval", response_model=LoanPublic)
def approve_loan(loan_id: str, body: LoanDecision, session: SessionDep, principal: Officer) -> LoanPublic:
    """Approve within the credit line, the product's limits and the pool's leverage room (loan.approved)."""
    return loan_public(lending.approve(session, loan_id, body, principal), principal)


@router.post("/loans/{loan_id}/rejection", response_model=LoanPublic)
def reject_loan(loan_id: str, body: LoanReject, session: SessionDep, principal: Officer) -> LoanPublic:
    return loan_public(lending.reject(session, loan_id, body, principal), principal)


@router.post("/loans/{loan_id}/disbursement", response_model=LoanPublic)
def disburse_loan(loan_id: str, body: LoanDisburse, session: SessionDep, principal: Officer) -> LoanPublic:
    """Disburse (放款): the schedule is made from the product's conventions (loan.disbursed)."""
    return loan_public(lending.disburse(session, loan_id, body, principal), principal)


@router.get("/loans/{loan_id}/schedule", response_model=Page[InstallmentPublic])
def loan_schedule(loan_id: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Any:
    """The loan's installments (every schedule version; the open flag marks what is still owed)."""
    loan = get_in_scope(session, Loan, loan_id, principal, what="loan")
    query = select(Installment).where(Installment.loan_id == loan.id)
    rows, cursor = paginate(session, query, order=[Installment.schedule_version, Installment.number], page=page)
    return Page(items=[InstallmentPublic.model_validate(r, from_attributes=True) for r in rows], next_cursor=cursor)


@router.post("/loans/{loan_id}/repayments", status_code=201, response_model=RepaymentPublic)
def repay(loan_id: str, body: RepaymentCreate, session: SessionDep, principal: Officer, idem: IdempotencyDep) -> Any:
    """A repayment: penalty → interest → principal (the product's order), oldest installment first."""
    return idem.run(session, lambda: _repayment(repayments.repay(session, loan_id, body, principal)))


@router.get("/loans/{loan_id}/repayments", response_model=Page[RepaymentPublic])
def list_repayments(loan_id: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Any:
    loan = get_in_scope(session, Loan, loan_id, principal, what="loan")
    rows, cursor = paginate(
        session, select(Repayment).where(Repayment.loan_id == loan.id), order=[Repayment.id], page=page
    )
    return Page(items=[_repayment(r) for r in rows], next_cursor=cursor)


@router.post("/loans/{loan_id}/repayments/{repayment_id}/reversal", status_code=201, response_model=RepaymentPublic)
def reverse_repayment(
    loan_id: str, repayment_id: str, body: RepaymentReverse, session: SessionDep, principal: Officer
) -> RepaymentPublic:
    """Reverse a mistaken repayment with a compensating entry (冲正)."""
    return _repayment(repayments.reverse(session, loan_id, repayment_id, body, principal))


@router.post("/loans/{loan_id}/extensions", status_code=201, response_model=ExtensionPublic)
def extend_loan(loan_id: str, body: ExtensionCreate, session: SessionDep, principal: Officer) -> ExtensionPublic:
    """展期 (a later maturity for the same loan) or 续贷 (a new application that settles this loan)."""
    return ExtensionPublic.model_validate(repayments.extend(session, loan_id, body, principal), from_attributes=True)


@router.get("/loans/{loan_id}/extensions", response_model=Page[ExtensionPublic])
def list_extensions(loan_id: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Any:
    loan = get_in_scope(session, Loan, loan_id, principal, what="loan")
    rows, cursor = paginate(
        session, select(Extension).where(Extension.loan_id == loan.id), order=[Extension.id], page=page
    )
    return Page(items=[ExtensionPublic.model_validate(r, from_attributes=True) for r in rows], next_cursor=cursor)


@router.post("/loans/{loan_id}/default", status_code=201, response_model=ClaimPublic)
def declare_default(loan_id: str, body: DefaultDeclare, session: SessionDep, principal: Officer) -> ClaimPublic:
    """Declare default past the product's threshold; the compensation claim goes to funds."""
    return ClaimPublic.model_validate(claims.declare_default(session, loan_id, body, principal), from_attributes=True)


@router.post("/loans/{loan_id}/recoveries", status_code=201, response_model=RepaymentPublic)
def recover(loan_id: str, body: RecoveryCreate, session: SessionDep, principal: Officer) -> RepaymentPublic:
    """Money recovered after default; the government's share flows back to the pool."""
    return _repayment(claims.recover(session, loan_id, body, principal))


@router.get("/loans/{loan_id}/subsidy", response_model=LoanSubsidySummary, tags=["subsidies"])
def loan_subsidy(loan_id: str, session: ReadSessionDep, principal: Reader) -> LoanSubsidySummary:
    """Interest accrued and paid, subsidy claimed and paid, and what the borrower advanced (先收后贴)."""
    return subsidies.loan_summary(session, get_in_scope(session, Loan, loan_id, principal, what="loan"))


@router.get("/loans/{loan_id}/statement.pdf", response_class=Response, responses={200: {"content": {PDF: {}}}})
def loan_statement(loan_id: str, session: ReadSessionDep, principal: Reader) -> Response:
    """The borrower's statement (对账单): schedule, payments, reversals; the ID number masked outside the bank."""
    loan = get_in_scope(session, Loan, loan_id, principal, what="loan")
    shown = loan.id_number if principal.has(*SEES_PERSONAL_DATA) else mask_resident_id(loan.id_number)
    pdf = documents.statement(session, loan, id_number=shown)
    return Response(pdf, media_type=PDF, headers=attachment(f"statement-{loan.contract_no or loan.id}.pdf"))


@router.get("/subsidies", response_model=Page[SubsidyPublic], tags=["subsidies"])
def list_subsidies(
    session: ReadSessionDep, principal: Supervisor, page: PageDep, region: RegionParam = None, status: str | None = None
) -> Any:
    query = select(Subsidy).where(in_scope(Subsidy.region_code, principal, region))
    if status:
        query = query.where(Subsidy.status == status)
    rows, cursor = paginate(session, query, order=[Subsidy.id], page=page)
    return Page(items=[SubsidyPublic.model_validate(r, from_attributes=True) for r in rows], next_cursor=cursor)


@router.get("/claims", response_model=Page[ClaimPublic], tags=["claims"])
def list_claims(session: ReadSessionDep, principal: Supervisor, page: PageDep, region: RegionParam = None) -> Any:
    query = select(Claim).where(in_scope(Claim.region_code, principal, region))
    rows, cursor = paginate(session, query, order=[Claim.id], page=page)
    return Page(items=[ClaimPublic.model_validate(r, from_attributes=True) for r in rows], next_cursor=cursor)


@router.get("/reports/portfolio", response_model=PortfolioReport, tags=["reports"])
def portfolio(session: ReadSessionDep, principal: Supervisor, region: RegionParam = None) -> PortfolioReport:
    """Loans, outstanding, overdue by bucket, subsidies, compensation, households vs entities (DOMAIN §4.9)."""
    return reports.portfolio(session, principal, region)


def schedule_public(schedule: Schedule) -> SchedulePublic:
    return SchedulePublic(
        periods=[PeriodPublic.model_validate(p, from_attributes=True) for p in schedule.periods],
        total_principal_expected=schedule.total_principal_expected,
        total_interest_charged=schedule.total_interest_charged,
        total_repayment_expected=schedule.total_repayment_expected,
        maturity_date=schedule.maturity_date,
    )


def loan_public(loan: Loan, principal: Principal) -> LoanPublic:
    """A loan; ID number, phone and account shown whole only to the bank."""
    public = LoanPublic.model_validate(loan, from_attributes=True)
    if principal.has(*SEES_PERSONAL_DATA):
        return public
    return public.model_copy(
        update={
            "id_number": mask_resident_id(loan.id_number),
            "phone": mask_phone(loan.phone),
            "account_no": mask_account(loan.account_no),
        }
    )


def _repayment(r: Repayment) -> RepaymentPublic:
    return RepaymentPublic.model_validate(r, from_attributes=True)
