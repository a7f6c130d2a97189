"""Disbursement batches (资金发放): payments checked against caps and eligibility, sent, settled, reissued.

Money moves project line → clearing (在途) when the batch is sent, and clearing → payee only when a bank
statement line says paid; a failed line reverses the sending entry, and a reissue is a new payment.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.funds import accounts, rules
from services.funds.domain.eligibility import StatusEvent, check_payee
from services.funds.domain.ledger import ZERO, AccountKind, TransactionKind, transfer
from services.funds.domain.payments import HOLDING, BatchStatus, PaymentStatus, batch_closed, check_move
from services.funds.domain.policy import PaidLine, ProjectKind, SourceLevel, check_caps, check_once_per_period
from services.funds.models import (
    Batch,
    Beneficiary,
    Budget,
    DeceasedMember,
    FundSource,
    HouseholdStatus,
    Payment,
    Project,
    ProjectLine,
)
from services.funds.projects import FUNDED
from services.funds.schemas import BatchPublic, PaymentCreate, ReissueCreate
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, NotFound
from shared.events.outbox import emit
from shared.ids import new_id
from shared.masking import mask_account
from shared.refusals import Refusal, Refused, refuse_if
from shared.scope import get_in_scope

HOLDING_VALUES = [s.value for s in HOLDING]


def account_hash(number: str) -> str:
    """A stable fingerprint of an account number, so shared accounts are found without reading the number."""
    return hashlib.sha256(number.encode()).hexdigest()


def get_batch(session: Session, batch_id: str, principal: Principal) -> Batch:
    return get_in_scope(session, Batch, batch_id, principal, what="batch")


def get_payment(session: Session, payment_id: str, principal: Principal) -> Payment:
    return get_in_scope(session, Payment, payment_id, principal, what="payment")


def create_batch(session: Session, project: Project, principal: Principal) -> Batch:
    if project.status not in FUNDED:
        raise Conflict("payments go out only for an approved project", field="project_id")
    batch = Batch(
        project_id=project.id,
        region_code=project.region_code,
        created_by=principal.subject,
        created_at=session_clock(session).now(),
    )
    session.add(batch)
    session.flush()
    return batch


def batch_public(session: Session, batch: Batch) -> BatchPublic:
    count, total = session.exec(
        select(func.count(), func.coalesce(func.sum(Payment.amount), 0)).where(Payment.batch_id == batch.id)
    ).one()
    return BatchPublic(**batch.model_dump(), payments=count, total=total)


def status_events(session: Session, household_id: str) -> list[StatusEvent]:
    rows = session.exec(select(HouseholdStatus).where(HouseholdStatus.household_id == household_id)).all()
    return [StatusEvent(r.kind, r.effective_on) for r in rows]


def died_on(session: Session, member_id: str | None) -> date | None:
    if member_id is None:
        return None
    row = session.get(DeceasedMember, member_id)
    return row.died_on if row else None


def eligibility_refusals(session: Session, project: Project, payment: Payment, field: str = "") -> list[Refusal]:
    """Payments to households marked for registered poor households, and to people, checked on the payment date."""
    if payment.payee_household_id is None:
        return []
    refusals = check_payee(
        to_poor_only=project.to_poor_only,
        household_events=status_events(session, payment.payee_household_id),
        died_on=died_on(session, payment.payee_member_id),
        pay_date=payment.pay_date,
    )
    if not field:
        return refusals
    return [Refusal(code=r.code, message=r.message, field=f"{field}.{r.field}") for r in refusals]


def _line_level(session: Session, line: ProjectLine) -> SourceLevel:
    budget = session.get(Budget, line.budget_id)
    source = session.get(FundSource, budget.source_id) if budget else None
    return SourceLevel(source.level) if source else SourceLevel.county


def _earlier_paid(session: Session, project: Project, household_id: str) -> list[PaidLine]:
    rows = session.exec(
        select(col(Payment.amount), col(FundSource.level))
        .join(ProjectLine, col(ProjectLine.id) == Payment.line_id)
        .join(Budget, col(Budget.id) == ProjectLine.budget_id)
        .join(FundSource, col(FundSource.id) == Budget.source_id)
        .where(
            Payment.project_id == project.id,
            Payment.payee_household_id == household_id,
            col(Payment.status).in_(HOLDING_VALUES),
        )
    ).all()
    return [PaidLine(amount, SourceLevel(level)) for amount, level in rows]


def payee_key(*, household_id: str | None, member_id: str | None, entity_id: str | None) -> str:
    """Who is paid, as one key: the household (and member, for a personal subsidy) or the entity."""
    if household_id:
        return f"household:{household_id}:{member_id or '-'}"
    return f"entity:{entity_id}"


def _earlier_subsidies(session: Session, key: str) -> list[tuple[str, str]]:
    rows = session.exec(
        select(Payment.subsidy_code, Payment.period).where(
            Payment.payee_key == key, col(Payment.subsidy_code).is_not(None), col(Payment.status).in_(HOLDING_VALUES)
        )
    ).all()
    return [(code, period) for code, period in rows if code and period]


def _payee_refusals(session: Session, project: Project, body: PaymentCreate) -> list[Refusal]:
    if (body.payee_household_id is None) == (body.payee_entity_id is None):
        return [
            Refusal(
                code="one_payee", field="payee_household_id", message="a payment goes to one household or one entity"
            )
        ]
    if (
        body.payee_household_id
        and project.beneficiary_kind == "households"
        and session.get(Beneficiary, (project.id, body.payee_household_id)) is None
    ):
        return [
            Refusal(
                code="not_a_beneficiary",
                field="payee_household_id",
                message="the household is not on the project's approved beneficiary list",
            )
        ]
    return []


def add_payment(session: Session, batch: Batch, body: PaymentCreate, principal: Principal) -> Payment:
    """A payment in a draft batch, refused when it breaks a cap, a once-per-period rule or eligibility."""
    if batch.status != BatchStatus.draft:
        raise Conflict("payments are added only to a draft batch", field="batch_id")
    project = session.get(Project, batch.project_id)
    line = session.get(ProjectLine, body.line_id)
    assert project is not None
    if line is None or line.project_id != project.id:
        raise NotFound(f"no line {body.line_id} on this project", field="line_id")
    refuse_if(_payee_refusals(session, project, body))
    now = session_clock(session).now()
    payment = Payment(
        **body.values(exclude={"pay_date"}),
        pay_date=body.pay_date or now.date(),
        batch_id=batch.id,
        project_id=project.id,
        region_code=batch.region_code,
        reference="FP" + new_id().replace("-", "")[:30].upper(),
        account_hash=account_hash(body.account_number),
        payee_key=payee_key(
            household_id=body.payee_household_id, member_id=body.payee_member_id, entity_id=body.payee_entity_id
        ),
        created_at=now,
        updated_at=now,
    )
    refuse_if(_rule_refusals(session, project, line, payment, body))
    return _insert_payment(session, payment)


def _rule_refusals(
    session: Session, project: Project, line: ProjectLine, payment: Payment, body: PaymentCreate
) -> list[Refusal]:
    refusals = eligibility_refusals(session, project, payment)
    refusals += check_once_per_period(
        subsidy_code=body.subsidy_code, period=body.period, earlier=_earlier_subsidies(session, payment.payee_key)
    )
    if body.payee_household_id:
        beneficiary = session.get(Beneficiary, (project.id, body.payee_household_id))
        body_rules = rules.rules_for(session, region_code=project.region_code, year=project.year)
        refusals += check_caps(
            body_rules.caps,
            project_kind=ProjectKind(project.kind),
            earlier=_earlier_paid(session, project, body.payee_household_id),
            amount=body.amount,
            level=_line_level(session, line),
            cost=beneficiary.building_cost if beneficiary else None,
        )
    return refusals


def _insert_payment(session: Session, payment: Payment) -> Payment:
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError as exc:
        # Two requests for the same subsidy and period at once: the partial unique index keeps one.
        raise Conflict(f"{payment.subsidy_code} is already paid for {payment.period}", field="subsidy_code") from exc
    return payment


def payments_of(session: Session, batch_id: str) -> list[Payment]:
    return list(session.exec(select(Payment).where(Payment.batch_id == batch_id).order_by(Payment.id)))


def clearing_account(session: Session, project: Project) -> str:
    return accounts.account_for(
        session,
        kind=AccountKind.clearing,
        name=f"在途 {project.name}",
        region_code=project.region_code,
        owner_type="project",
        owner_id=project.id,
    ).id


def send(session: Session, batch: Batch, principal: Principal) -> Batch:
    """Send a draft batch to the bank: eligibility checked again on each payment's day, then line → clearing."""
    if batch.status != BatchStatus.draft:
        raise Conflict(f"the batch is {batch.status}, not a draft", field="status")
    project = session.get(Project, batch.project_id)
    assert project is not None
    payments = [p for p in payments_of(session, batch.id) if p.status == PaymentStatus.pending]
    if not payments:
        raise Refused(Refusal(code="empty_batch", field="payments", message="the batch has no pending payment"))
    refuse_if(r for i, p in enumerate(payments) for r in eligibility_refusals(session, project, p, f"payments.{i}"))
    clearing = clearing_account(session, project)
    for payment in payments:
        line = session.get(ProjectLine, payment.line_id)
        assert line is not None
        tx = accounts.post(
            session,
            kind=TransactionKind.disbursement,
            postings=transfer(from_account=line.account_id, to_account=clearing, amount=payment.amount),
            memo=f"拨付 {payment.purpose} {payment.payee_name}",
            actor=principal.subject,
            reference=payment.id,
            region_code=payment.region_code,
        )
        _set_status(session, payment, PaymentStatus.sent)
        payment.sent_transaction_id = tx.id
    now = session_clock(session).now()
    batch.status, batch.sent_at, batch.sent_by = BatchStatus.sent.value, now, principal.subject
    session.add(batch)
    return batch


def _set_status(session: Session, payment: Payment, status: PaymentStatus) -> None:
    refuse_if(check_move(PaymentStatus(payment.status), status), status=409)
    payment.status = status.value
    payment.updated_at = session_clock(session).now()
    session.add(payment)


def settle_paid(session: Session, payment: Payment, *, actor: str) -> None:
    """A statement line said paid: clearing → the payee's account, and funds.disbursed."""
    project = session.get(Project, payment.project_id)
    assert project is not None
    owner_type, owner_id = (
        ("household", payment.payee_household_id)
        if payment.payee_household_id
        else ("entity", payment.payee_entity_id or "")
    )
    payee = accounts.account_for(
        session,
        kind=AccountKind.payee,
        name=payment.payee_name,
        region_code=payment.region_code,
        owner_type=owner_type,
        owner_id=owner_id,
    )
    tx = accounts.post(
        session,
        kind=TransactionKind.settlement,
        postings=transfer(from_account=clearing_account(session, project), to_account=payee.id, amount=payment.amount),
        memo=f"到账 {payment.reference}",
        actor=actor,
        reference=payment.id,
        region_code=payment.region_code,
    )
    _set_status(session, payment, PaymentStatus.paid)
    payment.settled_transaction_id = tx.id
    emit(
        session,
        "funds.disbursed",
        payment.id,
        {
            "payment_id": payment.id,
            "payee_household_id": payment.payee_household_id,
            "payee_entity_id": payment.payee_entity_id,
            "amount": f"{payment.amount:.2f}",
            "account_ref_masked": mask_account(payment.account_number),
            "purpose": payment.purpose,
            "project_id": payment.project_id,
            "region_code": payment.region_code,
            "pay_date": payment.pay_date,
        },
    )


def settle_failed(session: Session, payment: Payment, *, reason: str, actor: str) -> None:
    """A statement line said failed: the sending entry is reversed, the money is back on the project line."""
    assert payment.sent_transaction_id is not None
    accounts.reverse(session, payment.sent_transaction_id, reason=f"银行退回 {reason}", actor=actor)
    _set_status(session, payment, PaymentStatus.failed)
    payment.failure_reason = reason[:200] or "failed"


def close_if_done(session: Session, batch: Batch) -> None:
    if batch_closed([PaymentStatus(p.status) for p in payments_of(session, batch.id)]):
        batch.status = BatchStatus.closed.value
        session.add(batch)


def reissue(session: Session, payment: Payment, body: ReissueCreate, principal: Principal) -> Payment:
    """Reissue (重新发放) a failed payment as a new pending one, in a draft batch, maybe to a corrected account."""
    if payment.status != PaymentStatus.failed:
        raise Conflict(f"only a failed payment is reissued; this one is {payment.status}", field="status")
    project = session.get(Project, payment.project_id)
    assert project is not None
    batch = get_batch(session, body.batch_id, principal) if body.batch_id else create_batch(session, project, principal)
    if batch.project_id != project.id or batch.status != BatchStatus.draft:
        raise Conflict("a reissue goes into a draft batch of the same project", field="batch_id")
    _set_status(session, payment, PaymentStatus.reissued)
    session.flush()
    number = body.account_number or payment.account_number
    now = session_clock(session).now()
    fresh = Payment(
        **payment.model_dump(
            exclude={
                "id",
                "batch_id",
                "reference",
                "status",
                "reissue_of",
                "sent_transaction_id",
                "settled_transaction_id",
                "failure_reason",
                "account_number",
                "account_hash",
                "bank_name",
                "created_at",
                "updated_at",
                "pay_date",
            }
        ),
        batch_id=batch.id,
        reference="FP" + new_id().replace("-", "")[:30].upper(),
        reissue_of=payment.id,
        account_number=number,
        account_hash=account_hash(number),
        bank_name=body.bank_name or payment.bank_name,
        pay_date=now.date(),
        created_at=now,
        updated_at=now,
    )
    refuse_if(eligibility_refusals(session, project, fresh))
    return _insert_payment(session, fresh)


def paid_total(session: Session, project_id: str) -> object:
    return session.exec(
        select(func.coalesce(func.sum(Payment.amount), ZERO)).where(
            Payment.project_id == project_id, Payment.status == PaymentStatus.paid
        )
    ).one()
