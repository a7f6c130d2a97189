"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.notifications.domain.duties import Frequency

ContactKind = Literal["helper", "household", "township_officer", "info_officer"]
Audience = Literal["helper", "household", "township_officer", "info_officer"]


class HouseholdRecipientPublic(BaseModel):
    household_id: str
    region_code: str
    head_member_id: str
    known_since: datetime


class TemplateCreate(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", description="the template's name, e.g. spring_visit")
    body: str = Field(min_length=4, max_length=500, description="Chinese text with {parameters} and a 【signature】")
    parameters: list[str] = Field(default_factory=list, max_length=20)
    provider_codes: dict[str, str] = Field(default_factory=dict, description="the template's code at each gateway")
    broadcast: bool = Field(default=False, description="a broadcast template must tell how to opt out")


class SegmentsPublic(BaseModel):
    encoding: str
    characters: int
    segments: int
    per_segment: int


class TemplatePublic(BaseModel):
    code: str
    body: str
    parameters: list[str]
    provider_codes: dict[str, str]
    broadcast: bool
    builtin: bool
    segments: SegmentsPublic = Field(description="the length of the text with empty parameters")


class Preview(BaseModel):
    params: dict[str, str] = Field(default_factory=dict)


class RenderedPublic(BaseModel):
    text: str
    length: SegmentsPublic


class ContactSet(BaseModel):
    region_code: str = Field(pattern=r"^\d{6,12}$")
    name: str = Field(default="", max_length=60)
    phone: str | None = Field(
        default=None, max_length=30, description="mainland mobile; +86, spaces, 全角 digits accepted"
    )


class ContactPublic(BaseModel):
    id: str
    kind: str
    ref_id: str
    region_code: str
    name: str
    phone: str | None = Field(description="masked: 138****1234")
    opted_out: bool
    updated_at: datetime


class OptOutCreate(BaseModel):
    phone: str = Field(max_length=30)


class OptOutPublic(BaseModel):
    phone: str
    opted_out_at: datetime
    source: str


class MessagePublic(BaseModel):
    id: str
    cause: str
    recipient: str
    kind: str
    region_code: str
    template_code: str
    body: str
    segments: int
    phone: str | None = Field(description="masked")
    via: str | None
    status: str
    provider: str | None
    provider_message_id: str | None
    attempts: int
    last_error: str | None
    not_before: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class ReplyPublic(BaseModel):
    id: str
    phone: str
    text: str
    kind: str
    topic: str | None
    received_at: datetime


class BroadcastCreate(BaseModel):
    template_code: str = Field(max_length=40)
    params: dict[str, str] = Field(default_factory=dict)
    region_code: str = Field(pattern=r"^\d{6,12}$")
    audience: Audience


class BroadcastPublic(BaseModel):
    id: str
    template_code: str
    region_code: str
    audience: str
    recipients: int
    sample: str
    segments: int
    status: str
    created_at: datetime
    confirmed_at: datetime | None


class CallbackAnswer(BaseModel):
    accepted: int


class StatusCount(BaseModel):
    region_code: str
    kind: str
    status: str
    messages: int


class MessageReport(BaseModel):
    rows: list[StatusCount]
    delivery_rate: float | None = Field(description="delivered ÷ (delivered + sent + failed), None when nothing went")
    opt_outs: int


class DutyRuleCreate(BaseModel):
    """A duty rule for a jurisdiction from ``effective_from`` on (帮扶责任人工作日历)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", description="the duty, e.g. monthly_contact")
    region_code: str = Field(pattern=r"^\d{2,12}$", description="the jurisdiction: province, county, township, village")
    effective_from: date
    title: str = Field(min_length=2, max_length=60, description="what the helper has to do, as the SMS says it")
    actor_role: Literal["helper"] = "helper"
    frequency: Frequency
    remind_day: int = Field(ge=1, le=366, description="the day of the period the reminder goes out (1 = first)")
    escalate_day: int = Field(
        default=0, ge=0, le=366, description="the day of the next period the township hears who missed it (0: never)"
    )
    template_code: str = Field(default="duty_reminder", pattern=r"^[a-z][a-z0-9_]{1,39}$")
    enabled: bool = Field(default=True, description="false switches the duty off in this jurisdiction")


class DutyRulePublic(DutyRuleCreate):
    id: str
    region_code: str = Field(description="the jurisdiction; '' for the built-in rules that apply everywhere")
    built_in: bool
    created_by: str
    created_at: datetime


class DutyCompliance(BaseModel):
    """One helper's, unit's or village's duties in a month: due = done + missed + open (households × duties)."""

    group: str = Field(description="the helper id, unit id ('' for helpers without a unit) or village code")
    month: str
    due: int
    done: int = Field(description="contact logged in time (the reminder was skipped or heeded)")
    missed: int = Field(description="the period ended without it")
    open: int = Field(description="not done yet, the period still running")


class MessageGroup(BaseModel):
    """Messages to one helper, unit or village by status, the delivery rate and the numbers that opted out."""

    group: str
    messages: int
    by_status: dict[str, int]
    delivery_rate: float | None = Field(description="delivered ÷ (delivered + sent + failed), None when nothing went")
    opted_out: int = Field(description="distinct numbers of this group that replied TD")
