"""Notification tables: contacts, templates, the outbound SMS log, receipts, replies, opt-outs, broadcasts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import AwareDateTime, service_registry
from shared.events.tables import infra_tables
from shared.ids import new_id


class NotificationsTable(SQLModel, registry=service_registry()):
    pass


INFRA = infra_tables(NotificationsTable.metadata)


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=AwareDateTime, **kwargs)


class HouseholdRecipient(NotificationsTable, table=True):
    """A household that may receive messages, learnt from the registry's events."""

    household_id: str = Field(primary_key=True, max_length=36)
    region_code: str = Field(max_length=12, index=True)
    head_member_id: str = Field(max_length=36)
    registered_event_id: str = Field(max_length=36)
    known_since: datetime = _when()


class HelperPairing(NotificationsTable, table=True):
    """Which helper (帮扶责任人) helps which household, from helper.assigned / helper.released."""

    pairing_id: str = Field(primary_key=True, max_length=36)
    helper_id: str = Field(max_length=36, index=True)
    household_id: str = Field(max_length=36, index=True)
    start_date: date
    end_date: date | None = None


class LoanBorrower(NotificationsTable, table=True):
    """The household behind a loan, from loan.approved / loan.disbursed (repayment events name only the loan)."""

    loan_id: str = Field(primary_key=True, max_length=36)
    household_id: str = Field(max_length=36, index=True)


class Contact(NotificationsTable, table=True):
    """Someone we can text: a helper, a household head, a township officer or a village information officer."""

    __table_args__ = (UniqueConstraint("kind", "ref_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    kind: str = Field(max_length=20)
    ref_id: str = Field(max_length=64)
    region_code: str = Field(max_length=12, index=True)
    name: str = Field(default="", max_length=60)
    phone: str | None = Field(default=None, max_length=11, index=True)
    source: str = Field(default="operator", max_length=20)
    updated_at: datetime = _when()
    unit_id: str | None = Field(default=None, max_length=36, index=True)  # a helper's unit, from the registry
    active: bool = True  # False once the registry ends the helper or dissolves the household


class OptOut(NotificationsTable, table=True):
    """A number that replied 退订 (or was stopped by an operator): nothing more goes to it."""

    phone: str = Field(primary_key=True, max_length=11)
    opted_out_at: datetime = _when()
    source: str = Field(max_length=20)


class Template(NotificationsTable, table=True):
    """A message template (短信模板) with named parameters and a signature 【…】."""

    code: str = Field(primary_key=True, max_length=40)
    body: str = Field(max_length=500)
    parameters: list[str] = Field(sa_column=Column(JSON, nullable=False))
    provider_codes: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    broadcast: bool = False
    created_by: str = Field(max_length=100)
    created_at: datetime = _when()


class Message(NotificationsTable, table=True):
    """One outbound SMS: queued → sending → sent → delivered, or failed / suppressed.

    ``cause`` (an event id, a duty period, a broadcast) and ``recipient`` make it unique: the same cause never
    texts the same person twice, however often the event is redelivered or the job re-run.
    """

    __table_args__ = (
        UniqueConstraint("cause", "recipient"),
        Index("ix_message_due", "status", "not_before"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cause: str = Field(max_length=120)
    recipient: str = Field(max_length=90)
    kind: str = Field(max_length=40, index=True)
    region_code: str = Field(max_length=12, index=True)
    template_code: str = Field(max_length=40)
    params: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    body: str = Field(max_length=600)
    segments: int
    urgent: bool = False
    phone: str | None = Field(default=None, max_length=11, index=True)
    via: str | None = Field(default=None, max_length=90)
    status: str = Field(default="queued", max_length=12)
    provider: str | None = Field(default=None, max_length=20)
    provider_message_id: str | None = Field(default=None, max_length=100, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    not_before: datetime = _when()
    lease_owner: str | None = Field(default=None, max_length=60)
    lease_until: datetime | None = _when(default=None)
    first_sent_at: datetime | None = _when(default=None)
    sent_at: datetime | None = _when(default=None)
    delivered_at: datetime | None = _when(default=None)
    created_at: datetime = _when()


class Receipt(NotificationsTable, table=True):
    """A delivery report (状态报告) from the gateway; reports come at least once and out of order."""

    __table_args__ = (UniqueConstraint("provider", "provider_message_id", "phone"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    provider: str = Field(max_length=20)
    provider_message_id: str = Field(max_length=100)
    phone: str = Field(max_length=11)
    delivered: bool
    code: str = Field(default="", max_length=60)
    message_id: str | None = Field(default=None, max_length=36)
    received_at: datetime = _when()


class InboundSms(NotificationsTable, table=True):
    """A reply from a phone (上行短信): an opt-out, a keyword reply (objection, complaint) or anything else."""

    __table_args__ = (UniqueConstraint("provider", "provider_ref"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    provider: str = Field(max_length=20)
    provider_ref: str = Field(max_length=100)
    phone: str = Field(max_length=11, index=True)
    text: str = Field(max_length=500)
    kind: str = Field(max_length=12)
    topic: str | None = Field(default=None, max_length=30)
    region_code: str | None = Field(default=None, max_length=12)
    received_at: datetime = _when()


class Broadcast(NotificationsTable, table=True):
    """An ad-hoc message to a filtered set (region, role, category): previewed, then confirmed."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    template_code: str = Field(max_length=40)
    params: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    region_code: str = Field(max_length=12, index=True)
    audience: str = Field(max_length=30)
    recipients: int
    sample: str = Field(max_length=600)
    segments: int
    status: str = Field(default="previewed", max_length=12)
    created_by: str = Field(max_length=100)
    created_at: datetime = _when()
    confirmed_at: datetime | None = _when(default=None)


class DirectorySync(NotificationsTable, table=True):
    """How far the contact directory has read the registry's phone directory, per list (helpers, households):
    the newest change taken; the next sync asks from there (inclusive: re-reading a row changes nothing)."""

    list_name: str = Field(primary_key=True, max_length=20)
    watermark: datetime = _when()
    synced_at: datetime = _when()
    rows_taken: int = 0


class DutyRuleVersion(NotificationsTable, table=True):
    """A duty rule (帮扶责任人工作日历) for a jurisdiction from a day on: the most specific jurisdiction wins
    (village > township > county > province > built-in ``""``), then the latest effective day."""

    __table_args__ = (UniqueConstraint("code", "region_code", "effective_from"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    code: str = Field(max_length=40)
    region_code: str = Field(max_length=12, index=True)
    effective_from: date
    title: str = Field(max_length=60)
    actor_role: str = Field(default="helper", max_length=20)
    frequency: str = Field(max_length=12)
    remind_day: int
    escalate_day: int = 0
    template_code: str = Field(default="duty_reminder", max_length=40)
    enabled: bool = True
    created_by: str = Field(max_length=100)
    created_at: datetime = _when()


class DutyOutcome(NotificationsTable, table=True):
    """One duty of one helper for one household in one period: open, done (contact logged, reminder skipped)
    or missed (the period ended without it). Written by the duty job; the compliance report counts these."""

    __table_args__ = (
        UniqueConstraint("rule_code", "period_key", "helper_id", "household_id"),
        Index("ix_dutyoutcome_month", "month", "village_code"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    rule_code: str = Field(max_length=40)
    period_key: str = Field(max_length=10)
    month: str = Field(max_length=7)  # the month the period ends in (YYYY-MM)
    helper_id: str = Field(max_length=36, index=True)
    unit_id: str | None = Field(default=None, max_length=36)
    household_id: str = Field(max_length=36)
    village_code: str = Field(max_length=12)
    status: str = Field(max_length=8)
    updated_at: datetime = _when()
