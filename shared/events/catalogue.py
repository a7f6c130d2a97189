"""The event catalogue: every event type, the fields its ``data`` carries, and its JSON schema.

Consumers may rely on these fields; producers may add more (``extra="allow"``).
Ids are strings, money is a decimal string, dates ISO 8601.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.events.envelope import Envelope, subject_for


class EventData(BaseModel):
    model_config = ConfigDict(extra="allow")


class HouseholdRegistered(EventData):
    household_id: str
    region_code: str
    head_member_id: str
    member_ids: list[str]
    version: int


class MemberChanged(EventData):
    household_id: str
    member_id: str
    change: Literal[
        "birth",
        "death",
        "marriage_in",
        "marriage_out",
        "moved_away",
        "imprisoned",
        "emigrated",
        "split",
        "merge",
    ]
    effective_date: date


class HelperAssigned(EventData):
    helper_id: str
    household_id: str
    phone_masked: str
    start_date: date


class HelperReleased(EventData):
    helper_id: str
    household_id: str
    phone_masked: str
    end_date: date


class CaseAdvanced(EventData):
    case_id: str
    household_id: str
    kind: Literal["recognition", "exit", "return"]
    step: str
    actor_role: str


class Publicity(EventData):
    notice_id: str
    level: str
    region_code: str
    starts_at: datetime
    ends_at: datetime
    household_ids: list[str]


class ComparisonFinding(BaseModel):
    dataset: str
    rule: str
    member_id: str | None = None


class ComparisonFlagged(EventData):
    batch_id: str
    household_id: str
    findings: list[ComparisonFinding]


class HouseholdDecision(EventData):
    household_id: str
    region_code: str
    year: int
    case_id: str


class ProjectApproved(EventData):
    project_id: str
    region_code: str
    amount: str


class FundsDisbursed(EventData):
    payment_id: str
    payee_household_id: str | None = None
    payee_entity_id: str | None = None
    amount: str
    account_ref_masked: str
    purpose: str


class FundsAnomaly(EventData):
    finding_id: str
    kind: str
    region_code: str
    amount: str
    evidence_ids: list[str]


class LoanEvent(EventData):
    loan_id: str
    borrower_household_id: str | None = None
    borrower_entity_code: str | None = None
    amount: str
    product_id: str


class RepaymentDue(EventData):
    loan_id: str
    due_date: date
    amount_due: str
    installment_no: int


class LoanOverdue(EventData):
    loan_id: str
    days_past_due: int
    bucket: str
    amount_overdue: str


class Subsidy(EventData):
    subsidy_id: str
    loan_id: str
    period_start: date
    period_end: date
    amount: str


class Compensation(EventData):
    claim_id: str
    loan_id: str
    pool_id: str
    amount: str


class Recovery(EventData):
    """loans recovered money on a loan the pool compensated (追偿回收): ``amount`` is the pool's share of it."""

    recovery_id: str
    claim_id: str
    loan_id: str
    pool_id: str
    amount: str
    recovered_on: date


class SubsidyPaid(Subsidy):
    """funds paid a loan.subsidy_due from the interest-subsidy budget (贴息资金)."""

    transaction_id: str
    paid_on: date


class CompensationPaid(Compensation):
    """funds paid a loan.compensation_requested from the risk-compensation pool (风险补偿金)."""

    transaction_id: str
    paid_on: date


class SubsidyShort(Subsidy):
    """funds paid nothing: the budget is short (``reason`` budget_short) or missing (no_budget)."""

    reason: str
    available: str


class CompensationShort(Compensation):
    """funds paid nothing: the pool is short (``reason`` pool_short) or unknown (unknown_pool)."""

    reason: str
    available: str


class Notification(EventData):
    message_id: str
    cause_event_id: str | None = None
    recipient_masked: str
    template: str


class NotificationReply(EventData):
    """A keyword reply to an SMS (an objection to a notice, a complaint); the phone only masked."""

    reply_id: str
    topic: str
    text: str
    phone_masked: str
    region_code: str | None = None
    in_reply_to_message_id: str | None = None
    in_reply_to_cause: str | None = None


CATALOGUE: dict[str, type[EventData]] = {
    "household.registered": HouseholdRegistered,
    "household.updated": HouseholdRegistered,
    "member.changed": MemberChanged,
    "member.deceased": MemberChanged,
    "helper.assigned": HelperAssigned,
    "helper.released": HelperReleased,
    "case.advanced": CaseAdvanced,
    "publicity.started": Publicity,
    "publicity.ended": Publicity,
    "comparison.flagged": ComparisonFlagged,
    "household.approved": HouseholdDecision,
    "household.rejected": HouseholdDecision,
    "household.exited": HouseholdDecision,
    "household.returned": HouseholdDecision,
    "project.approved": ProjectApproved,
    "funds.disbursed": FundsDisbursed,
    "funds.anomaly": FundsAnomaly,
    "compensation.paid": CompensationPaid,
    "compensation.short": CompensationShort,
    "subsidy.paid": SubsidyPaid,
    "subsidy.short": SubsidyShort,
    "loan.approved": LoanEvent,
    "loan.disbursed": LoanEvent,
    "loan.repaid": LoanEvent,
    "loan.defaulted": LoanEvent,
    "loan.repayment_due": RepaymentDue,
    "loan.overdue": LoanOverdue,
    "loan.subsidy_due": Subsidy,
    "loan.compensation_requested": Compensation,
    "loan.recovered": Recovery,
    "notification.sent": Notification,
    "notification.delivered": Notification,
    "notification.failed": Notification,
    "notification.reply_received": NotificationReply,
}


class UnknownEventType(ValueError):
    pass


def validate_data(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """Check ``data`` against the catalogue and return it in its JSON form."""
    model = CATALOGUE.get(event_type)
    if model is None:
        raise UnknownEventType(f"event type {event_type!r} is not in the catalogue")
    return model.model_validate(data).model_dump(mode="json")


def json_schema(event_type: str) -> dict[str, Any]:
    schema = Envelope.model_json_schema()
    schema["properties"]["data"] = CATALOGUE[event_type].model_json_schema()
    schema["properties"]["type"] = {"const": event_type}
    schema["title"] = event_type
    return schema


def asyncapi() -> dict[str, Any]:
    """The catalogue as an AsyncAPI 3 document."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for event_type in CATALOGUE:
        key = event_type.replace(".", "_")
        channels[key] = {
            "address": subject_for(event_type),
            "messages": {key: {"name": event_type, "payload": json_schema(event_type)}},
        }
        operations[f"publish_{key}"] = {"action": "send", "channel": {"$ref": f"#/channels/{key}"}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Fupin domain events", "version": "1"},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
    }
