"""What notifications consumes (other services' events become queued messages) and publishes.

Events carry no phone numbers: the handlers find people in the service's own contact directory (filled by
operators and from the registry's REST API) and queue a row per recipient; the sender sends it later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

from sqlmodel import Session, col, select

from services.notifications.models import HelperPairing, HouseholdRecipient, LoanBorrower
from services.notifications.outbound import Recipient, helpers_of, household_recipient, officers, person, queue
from services.notifications.settings import NotificationSettings
from shared.clock import SHANGHAI, session_clock
from shared.events.consumer import Subscription
from shared.events.envelope import Envelope

SETTINGS: list[NotificationSettings] = []
LEVELS = {"village": "村级", "township": "乡镇", "county": "县级"}


def settings() -> NotificationSettings:
    if not SETTINGS:
        SETTINGS.append(NotificationSettings())
    return SETTINGS[0]


def region_of(session: Session, household_id: str, fallback: str = "") -> str:
    row = session.get(HouseholdRecipient, household_id)
    return row.region_code if row else fallback


def label(recipient: Recipient) -> str:
    return f"{recipient.name}户" if recipient.name else "一户"


def to_helpers(session: Session, event: Envelope, household_id: str, kind: str, template: str, **params: str) -> None:
    """The household's active helpers, each once for this event."""
    region = region_of(session, household_id, event.data.get("region_code", ""))
    head = person(session, "household", household_id, region_code=region)
    for helper_id in helpers_of(session, household_id):
        helper = person(session, "helper", helper_id, region_code=region)
        values = {"helper": helper.name or "帮扶责任人", "household": label(head), **params}
        queue(
            session,
            cause=f"event:{event.id}",
            recipient=helper,
            kind=kind,
            template_code=template,
            params=values,
            settings=settings(),
        )


def to_township(
    session: Session, event: Envelope, region_code: str, kind: str, template: str, /, **params: str
) -> None:
    for officer in officers(session, "township_officer", region_code):
        recipient = Recipient(f"township_officer:{officer.ref_id}", officer.region_code, officer.name, officer.phone)
        values = {"officer": officer.name or "同志", "region": region_code, **params}
        queue(
            session,
            cause=f"event:{event.id}",
            recipient=recipient,
            kind=kind,
            template_code=template,
            params=values,
            settings=settings(),
        )


def on_household_registered(session: Session, event: Envelope) -> None:
    """A newly registered household becomes a recipient (its head is who we write to)."""
    if session.get(HouseholdRecipient, event.data["household_id"]) is not None:
        return
    session.add(
        HouseholdRecipient(
            household_id=event.data["household_id"],
            region_code=event.data["region_code"],
            head_member_id=event.data["head_member_id"],
            registered_event_id=event.id,
            known_since=session_clock(session).now(),
        )
    )


def on_helper_assigned(session: Session, event: Envelope) -> None:
    data = event.data
    pairing_id = data.get("pairing_id") or f"{data['helper_id']}:{data['household_id']}"
    if session.get(HelperPairing, pairing_id) is None:
        start = date.fromisoformat(data["start_date"])
        session.add(
            HelperPairing(
                pairing_id=pairing_id, helper_id=data["helper_id"], household_id=data["household_id"], start_date=start
            )
        )


def on_helper_released(session: Session, event: Envelope) -> None:
    data = event.data
    query = select(HelperPairing).where(
        HelperPairing.helper_id == data["helper_id"],
        HelperPairing.household_id == data["household_id"],
        col(HelperPairing.end_date).is_(None),
    )
    for pairing in session.exec(query).all():
        pairing.end_date = date.fromisoformat(data["end_date"])
        session.add(pairing)


STATUS_TEMPLATES = {
    "household.approved": "household_recognised",
    "household.exited": "household_exited",
    "household.returned": "household_returned",
}


def on_status(session: Session, event: Envelope) -> None:
    """Recognised, exited or returned: tell the household's helper."""
    template = STATUS_TEMPLATES[event.type]
    to_helpers(session, event, event.data["household_id"], template, template)


def on_member_changed(session: Session, event: Envelope) -> None:
    """A birth or a death in a helped household: the helper should visit (三必访)."""
    change = event.data["change"]
    if change in ("birth", "death"):
        to_helpers(session, event, event.data["household_id"], f"member_{change}", f"member_{change}")


def on_loan_known(session: Session, event: Envelope) -> None:
    household_id = event.data.get("borrower_household_id")
    if household_id and session.get(LoanBorrower, event.data["loan_id"]) is None:
        session.add(LoanBorrower(loan_id=event.data["loan_id"], household_id=household_id))


def on_repayment_due(session: Session, event: Envelope) -> None:
    """The borrower and the helper, N days before the due date (in the morning), or at once if later than that."""
    borrower = session.get(LoanBorrower, event.data["loan_id"])
    if borrower is None:
        return
    due = date.fromisoformat(event.data["due_date"])
    notice_day = date.fromordinal(due.toordinal() - settings().repayment_notice_days)
    at = datetime.combine(notice_day, time(9, 0), tzinfo=SHANGHAI)
    household = borrower.household_id
    region = region_of(session, household)
    head = household_recipient(session, household, region_code=region, settings=settings())
    due_text = f"{due.month}月{due.day}日"
    if head is not None:
        values = {"name": head.name or "您", "installment": str(event.data["installment_no"]), "due_date": due_text}
        queue(
            session,
            cause=f"event:{event.id}",
            recipient=head,
            kind="repayment_due",
            template_code="repayment_due",
            params=values,
            settings=settings(),
            not_before=at,
        )
    for helper_id in helpers_of(session, household):
        helper = person(session, "helper", helper_id, region_code=region)
        values = {
            "helper": helper.name or "帮扶责任人",
            "household": label(head) if head else "一户",
            "due_date": due_text,
        }
        queue(
            session,
            cause=f"event:{event.id}",
            recipient=helper,
            kind="repayment_due",
            template_code="repayment_due_helper",
            params=values,
            settings=settings(),
            not_before=at,
        )


def on_overdue(session: Session, event: Envelope) -> None:
    """Each overdue bucket the loan enters: the borrower and the helper (the event comes once per bucket)."""
    borrower = session.get(LoanBorrower, event.data["loan_id"])
    if borrower is None:
        return
    household, days = borrower.household_id, str(event.data["days_past_due"])
    region = region_of(session, household)
    head = household_recipient(session, household, region_code=region, settings=settings())
    if head is not None:
        queue(
            session,
            cause=f"event:{event.id}",
            recipient=head,
            kind="loan_overdue",
            template_code="loan_overdue",
            params={"name": head.name or "您", "days": days},
            settings=settings(),
        )
    to_helpers(session, event, household, "loan_overdue", "loan_overdue_helper", days=days)


def on_publicity_started(session: Session, event: Envelope) -> None:
    """Every household named in the notice: where it is posted and until when."""
    data = event.data
    starts, ends = (datetime.fromisoformat(data[k]).astimezone(SHANGHAI) for k in ("starts_at", "ends_at"))
    for household in data["household_ids"]:
        region = region_of(session, household, data["region_code"])
        head = household_recipient(session, household, region_code=region, settings=settings())
        if head is None:
            continue
        values = {
            "name": head.name or "您",
            "level": LEVELS.get(data["level"], data["level"]),
            "starts": f"{starts.month}月{starts.day}日",
            "ends": f"{ends.month}月{ends.day}日",
            "place": data.get("place") or "村务公开栏",
        }
        queue(
            session,
            cause=f"event:{event.id}",
            recipient=head,
            kind="publicity_started",
            template_code="publicity_started",
            params=values,
            settings=settings(),
        )


def on_comparison_flagged(session: Session, event: Envelope) -> None:
    region = region_of(session, event.data["household_id"])
    if region:
        to_township(
            session, event, region, "comparison_flagged", "comparison_flagged", count=str(len(event.data["findings"]))
        )


def on_funds_anomaly(session: Session, event: Envelope) -> None:
    to_township(
        session, event, event.data["region_code"], "funds_anomaly", "funds_anomaly", kind=str(event.data["kind"])[:35]
    )


HANDLERS: dict[str, Callable[[Session, Envelope], None]] = {
    "household.registered": on_household_registered,
    "helper.assigned": on_helper_assigned,
    "helper.released": on_helper_released,
    "household.approved": on_status,
    "household.exited": on_status,
    "household.returned": on_status,
    "member.changed": on_member_changed,
    "member.deceased": on_member_changed,
    "loan.approved": on_loan_known,
    "loan.disbursed": on_loan_known,
    "loan.repayment_due": on_repayment_due,
    "loan.overdue": on_overdue,
    "publicity.started": on_publicity_started,
    "comparison.flagged": on_comparison_flagged,
    "funds.anomaly": on_funds_anomaly,
}

# The first consumer keeps its name, so its durable position on a running stack survives this change.
SUBSCRIPTIONS = (Subscription(name="notifications-households", handlers=HANDLERS),)
