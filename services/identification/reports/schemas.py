"""Report rows: incidence, cases by step and their waiting, exits planned against done, decisions against advice."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class IncidenceRow(BaseModel):
    """贫困发生率: registered poor population over the agricultural population the county entered for the year."""

    region_code: str = Field(description="the village (12 digits) or township (9 digits)")
    level: str
    year: int
    as_of: date
    villages: int = Field(description="villages with an agricultural population entered")
    agricultural_population: int
    poor_households: int
    poor_population: int
    incidence: Decimal | None = Field(description="poor_population / agricultural_population, 4 places")
    exit_threshold: Decimal | None = Field(description="the rule set's village-exit incidence (出列标准)")
    below_threshold: bool | None


class StepCount(BaseModel):
    kind: str
    step: str
    label: str
    status: str = Field(description="open: the step is due; held: its public notice runs")
    cases: int
    longest_wait_days: int


class StepSummary(BaseModel):
    as_of: date
    steps: list[StepCount]


class WaitingCase(BaseModel):
    case_id: str
    kind: str
    household_id: str
    region_code: str
    year: int
    step: str
    label: str
    status: str
    since: datetime = Field(description="when the case reached this step")
    waited_days: int


class ExitRow(BaseModel):
    """脱贫计划 against 已脱贫 for one village and year."""

    region_code: str
    year: int
    planned_households: int | None
    planned_people: int | None
    exited_households: int
    exited_people: int
    done_share: Decimal | None = Field(description="exited households over planned households")


class AgainstAdvice(BaseModel):
    """A decision that went against the rule engine's advice, with the written justification."""

    decision_id: str
    case_id: str
    household_id: str
    region_code: str
    kind: str
    step: str
    advice: str | None
    decision: str
    justification: str | None
    rule_set_version: int | None
    actor: str
    at: datetime
