"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

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
