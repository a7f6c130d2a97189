"""Request and response bodies of rule sets and evaluations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from shared.money import Money

Rate = Field(ge=Decimal("0"), le=Decimal("1"), max_digits=5, decimal_places=4)


class ExitCondition(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=120)


class RuleSetCreate(BaseModel):
    """A jurisdiction's standard for a year; a second one for the same jurisdiction and year is its next version."""

    jurisdiction: str = Field(pattern=r"^\d{2,12}$", description="region-code prefix it governs")
    year: int = Field(ge=2000, le=2100)
    poverty_line: Money = Field(description="per person per year, yuan (国家现行扶贫标准)")
    local_average_income: Money = Field(description="the local average per-capita net income (七不进-1, -6)")
    new_house_cutoff_year: int = Field(ge=1990, le=2100, description="七不进-2: houses since this year exclude")
    quota_float: Decimal = Field(default=Decimal("0.10"), ge=0, le=1, max_digits=5, decimal_places=4)
    village_exit_incidence: Decimal = Field(default=Decimal("0.03"), ge=0, le=1, max_digits=5, decimal_places=4)
    village_exit_conditions: list[ExitCondition] = Field(default_factory=list, max_length=20)
    measure: str = Field(default="net", pattern=r"^(net|disposable)$", description="纯收入 or 可支配收入")
    source_ref: str | None = Field(default=None, max_length=200)
    stuck_after_days: int = Field(default=30, ge=1, le=3650, description="a case waiting longer is reported stuck")


class RuleSetPublic(RuleSetCreate):
    id: str
    version: int
    created_by: str
    created_at: datetime


class ReasonPublic(BaseModel):
    code: str
    label: str
    outcome: str
    facts: dict[str, Any]
    threshold: str | None


class EvaluationPublic(BaseModel):
    id: str
    kind: str
    case_id: str | None
    household_id: str | None
    region_code: str
    rule_set_id: str
    rule_set_version: int
    as_of: date
    verdict: str
    reasons: list[ReasonPublic]
    snapshot: dict[str, Any]
    evaluated_by: str
    evaluated_at: datetime


class VillageExitRequest(BaseModel):
    region_code: str = Field(pattern=r"^\d{12}$", description="the village")
    year: int = Field(ge=2000, le=2100)
    conditions: dict[str, bool] = Field(default_factory=dict, description="the rule set's extra conditions, answered")


class VillageFigureSet(BaseModel):
    year: int = Field(ge=2000, le=2100)
    agricultural_population: int | None = Field(default=None, ge=0, le=10_000_000)
    quota_households: int | None = Field(default=None, ge=0, le=100_000, description="recognitions allotted (规模)")
    planned_exit_households: int | None = Field(default=None, ge=0, le=100_000, description="脱贫计划: households")
    planned_exit_people: int | None = Field(default=None, ge=0, le=10_000_000, description="脱贫计划: people")


class VillageFigurePublic(BaseModel):
    region_code: str
    year: int
    agricultural_population: int | None
    quota_households: int | None
    planned_exit_households: int | None = None
    planned_exit_people: int | None = None
