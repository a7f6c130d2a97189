"""Request and response bodies of public notices (公示) and objections (异议)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class NoticeCreate(BaseModel):
    """Publish the names held at one step in one region as a list version."""

    kind: str = Field(pattern=r"^(recognition|exit|return)$")
    step: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="the step whose notice this is")
    region_code: str = Field(pattern=r"^\d{6,12}$", description="the group's village, the village, township or county")
    case_ids: list[str] | None = Field(default=None, max_length=2000, description="default: every name held there")
    days: int | None = Field(default=None, ge=1, le=60, description="default: the template's, else the level's")
    channel: str = Field(default="张榜公示", min_length=1, max_length=100)
    location: str | None = Field(default=None, max_length=200)


class NoticeEntryPublic(BaseModel):
    case_id: str
    household_id: str
    region_code: str
    group_no: int | None
    head_name: str
    head_id_masked: str
    member_count: int
    outcome: str


class NoticePublic(BaseModel):
    id: str
    kind: str
    step: str
    level: str
    region_code: str
    list_version: int
    days: int
    starts_at: datetime
    ends_at: datetime
    status: str
    channel: str
    location: str | None
    place: str
    ended_at: datetime | None
    entries: list[NoticeEntryPublic]


class ObjectionCreate(BaseModel):
    household_id: str = Field(min_length=1, max_length=36, description="the name objected to")
    objector: str = Field(min_length=1, max_length=60)
    contact: str = Field(min_length=3, max_length=40, description="phone or address; masked outside the county")
    content: str = Field(min_length=1, max_length=2000)


class ObjectionPublic(BaseModel):
    id: str
    notice_id: str
    case_id: str
    household_id: str
    objector: str
    contact: str
    content: str
    filed_at: datetime
    resolution: str | None
    resolved_by: str | None
    resolved_at: datetime | None


class Resolution(BaseModel):
    resolution: str = Field(min_length=1, max_length=2000, description="what the re-review found")
