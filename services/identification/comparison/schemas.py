"""Request and response bodies of the data comparison: dataset kinds, their files, batches, findings."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.identification.domain.comparison import MAX_COLUMNS, MAX_VALUES, Op, Resolution

CODE = r"^[a-z][a-z0-9_-]{1,39}$"
COLUMN = r"^[^\x00-\x1f\"]{1,60}$"


class ConditionIn(BaseModel):
    """A condition on one evidence column: ``in`` values, ``after`` a date, ``since_cutoff_year`` (the rule set's
    cut-off year), ``after_registration`` (the household's registration day), ``above`` an amount in yuan."""

    model_config = ConfigDict(extra="forbid")

    column: str = Field(pattern=COLUMN)
    op: Op
    values: list[str] = Field(default_factory=list, max_length=MAX_VALUES)
    date: dt.date | None = None
    amount: Decimal | None = Field(default=None, ge=0, le=Decimal("1e12"), decimal_places=2)

    def stored(self) -> dict[str, Any]:
        out: dict[str, Any] = {"column": self.column, "op": self.op.value}
        if self.values:
            out["values"] = [v.strip() for v in self.values]
        if self.date is not None:
            out["date"] = self.date.isoformat()
        if self.amount is not None:
            out["amount"] = str(self.amount)
        return out


class DatasetKindCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE, description="short name used in paths and `fupin compare load`, e.g. vehicles")
    name: str = Field(min_length=1, max_length=100, description="e.g. 机动车登记信息")
    department: str = Field(default="", max_length=100, description="e.g. 县公安局交警大队")
    key_column: str = Field(pattern=COLUMN, description="the column holding the resident ID, e.g. 身份证号")
    evidence_columns: list[str] = Field(default_factory=list, max_length=MAX_COLUMNS)
    rule: str = Field(min_length=1, max_length=20, description="七不进-1 … 七不进-7, deceased, emigrated, …")
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=10)


class DatasetKindPublic(BaseModel):
    id: str
    code: str
    name: str
    department: str
    key_column: str
    evidence_columns: list[str]
    rule: str
    rule_label: str
    conditions: list[dict[str, Any]]
    created_by: str
    created_at: datetime
    current_version: int | None = None


class DatasetFilePublic(BaseModel):
    id: str
    kind_id: str
    version: int
    filename: str
    size: int
    sha256: str
    rows: int
    bad_rows: int
    uploaded_by: str
    uploaded_at: datetime
    unchanged: bool = Field(default=False, description="true when these very bytes were already uploaded")


class RejectPublic(BaseModel):
    line: int = Field(description="the row in the file (the header is row 1)")
    value_masked: str
    reason: str
    message: str


class BatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_code: str = Field(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9})$", description="a township, county, city or province")
    year: int | None = Field(default=None, ge=2000, le=2100, description="whose rule set's cut-off year; default: this")
    full: bool = Field(default=False, description="read every member again instead of the cache and the changes since")


class BatchPublic(BaseModel):
    id: str
    region_code: str
    year: int
    status: str
    phase: str
    progress: int = Field(description="percent of dataset kinds matched")
    kinds_total: int
    kinds_done: int
    members: int
    rows_compared: int
    rejects: int
    findings: int
    new_findings: int
    households_flagged: int
    cases_sent_back: int
    full: bool
    snapshot: str = Field(description="full (every member read) or delta (the cache and the changes since)")
    snapshot_rows: int = Field(description="member rows downloaded from the registry")
    message: str | None
    started_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class FindingPublic(BaseModel):
    id: str
    batch_id: str
    dataset: str
    rule: str
    rule_label: str
    file_id: str
    line: int
    member_id: str
    household_id: str
    region_code: str
    resident_id_masked: str
    evidence: dict[str, Any]
    repeat_of: str | None = Field(description="the earlier finding of the same record, when seen before")
    case_id: str | None
    case_action: str = Field(description="sent_back, noted (the case could not move now) or none")
    resolution: str | None
    resolution_reason: str | None
    resolved_by: str | None
    resolved_at: datetime | None


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Resolution
    reason: str = Field(min_length=1, max_length=2000, description="what re-verification found (核实情况)")


class SummaryLine(BaseModel):
    dataset: str
    rule: str
    findings: int
    confirmed: int
    dismissed: int
    open: int


class BatchSummary(BaseModel):
    batch: BatchPublic
    lines: list[SummaryLine]
