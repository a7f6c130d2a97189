"""What loans publishes (loan.*) and consumes (identification's decisions, funds' payments)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from services.loans.models import Borrower, Loan
from shared.events.consumer import Subscription
from shared.events.envelope import Envelope
from shared.events.outbox import emit


def loan_data(loan: Loan) -> dict[str, object]:
    return {
        "loan_id": loan.id,
        "borrower_household_id": loan.household_id,
        "borrower_entity_code": loan.entity_code,
        "amount": str(loan.amount),
        "product_id": loan.product_id,
        "region_code": loan.region_code,
        "borrower_kind": loan.borrower_kind,
        "contract_no": loan.contract_no,
        "principal_outstanding": str(loan.principal_outstanding),
        "enterprise_use": loan.enterprise_use,
    }


def loan_event(session: Session, event_type: str, loan: Loan, **extra: object) -> None:
    """loan.approved / disbursed / repaid / defaulted."""
    emit(session, event_type, loan.id, loan_data(loan) | extra)


def on_household_decision(session: Session, event: Envelope) -> None:
    """household.approved / returned make a household eligible; household.exited ends it (脱贫)."""
    data = event.data
    status = "exited" if event.type == "household.exited" else "poor"
    borrower = session.get(Borrower, data["household_id"])
    if borrower is not None and borrower.decided_at > event.time:
        return  # a late, older decision must not undo a newer one
    if borrower is None:
        borrower = Borrower(
            household_id=data["household_id"],
            region_code=data["region_code"],
            status=status,
            year=data["year"],
            case_id=data["case_id"],
            decided_at=event.time,
        )
    else:
        borrower.sqlmodel_update(
            {
                "region_code": data["region_code"],
                "status": status,
                "year": data["year"],
                "case_id": data["case_id"],
                "decided_at": event.time,
            }
        )
    session.add(borrower)


def on_subsidy_paid(session: Session, event: Envelope) -> None:
    from services.loans import subsidies

    subsidies.record_paid(session, event.data["subsidy_id"], paid_on=_paid_on(event))


def on_compensation_paid(session: Session, event: Envelope) -> None:
    from services.loans import claims

    claims.record_paid(session, event.data["claim_id"], amount=event.data["amount"], paid_on=_paid_on(event))


def _paid_on(event: Envelope) -> date:
    raw = event.data.get("paid_on")
    return date.fromisoformat(raw) if isinstance(raw, str) else event.time.date()


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(
        name="loans-borrowers",
        handlers={
            "household.approved": on_household_decision,
            "household.returned": on_household_decision,
            "household.exited": on_household_decision,
        },
    ),
    Subscription(
        name="loans-funds",
        handlers={"subsidy.paid": on_subsidy_paid, "compensation.paid": on_compensation_paid},
    ),
)
