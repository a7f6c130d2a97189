"""Request and response bodies of templates and cases."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from shared.workflow.template import TemplateBody


class CaseKind(StrEnum):
    """识别 (recognition), 退出 (exit), 返贫 (return)."""

    recognition = "recognition"
    exit = "exit"
    return_ = "return"


class TemplatePublic(TemplateBody):
    id: str
    version: int


class CaseCreate(BaseModel):
    kind: CaseKind
    household_id: str = Field(pattern=r"^[0-9a-fA-F-]{1,36}$", description="the registry's household id")
    year: int | None = Field(default=None, ge=2000, le=2100, description="the case's year; this year when absent")


class StepTake(BaseModel):
    step: str = Field(min_length=1, max_length=40, description="the key of the step due now")
    evidence: dict[str, Any] = Field(default_factory=dict, description="what the step's template asks for")
    comment: str | None = Field(default=None, max_length=2000)
    reject: bool = Field(default=False, description="end the case as rejected at this step (where allowed)")
    justification: str | None = Field(
        default=None, max_length=2000, description="required when the decision goes against the rules' advice"
    )


class SendBack(BaseModel):
    to_step: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=2000)


class StepPublic(BaseModel):
    key: str
    label: str
    roles: list[str]
    level: str


class CaseNotePublic(BaseModel):
    kind: str
    text: str
    at: datetime


class CasePublic(BaseModel):
    id: str
    kind: str
    household_id: str
    region_code: str
    year: int
    template_id: str
    template_version: int
    status: str
    next_step: StepPublic | None
    held_step: str | None
    outcome: str | None
    opened_by: str
    opened_at: datetime
    moved_at: datetime
    closed_at: datetime | None
    quota_warning: str | None
    quota_acknowledged_by: str | None
    notes: list[CaseNotePublic] = Field(default_factory=list)


class TransitionPublic(BaseModel):
    action: str
    step: str
    role: str | None
    actor: str
    at: datetime
    evidence: dict[str, Any]
    comment: str | None
    status_after: str
