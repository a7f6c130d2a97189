"""Identification tables: cases on workflow templates, attachments, rule sets, evaluations, notices, objections,
data comparison."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import AwareDateTime, service_registry
from shared.events.tables import infra_tables
from shared.ids import new_id
from shared.workflow.tables import workflow_tables


class IdentificationTable(SQLModel, registry=service_registry()):
    pass


INFRA = infra_tables(IdentificationTable.metadata)
WORKFLOW = workflow_tables(IdentificationTable.metadata)


def _at() -> Any:
    return Field(sa_type=AwareDateTime)


def _at_null() -> Any:
    return Field(default=None, sa_type=AwareDateTime)


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def _money() -> Any:
    return Field(sa_column=Column(Numeric(14, 2), nullable=False))


class HouseholdFile(IdentificationTable, table=True):
    """Identification's read copy of a registered household: what a case is opened against."""

    household_id: str = Field(primary_key=True, max_length=36)
    region_code: str = Field(max_length=12, index=True)
    head_member_id: str = Field(max_length=36)
    member_count: int
    registry_version: int
    source_event_id: str = Field(max_length=36)
    received_at: datetime = _at()


class Case(IdentificationTable, table=True):
    """A recognition, exit or return case (识别 / 退出 / 返贫) of one household on one template version."""

    __tablename__ = "identification_case"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    kind: str = Field(max_length=20, index=True)
    household_id: str = Field(max_length=36, index=True)
    region_code: str = Field(max_length=12, index=True)
    year: int = Field(index=True)
    template_id: str = Field(max_length=36)
    template_version: int
    step_index: int = 0
    status: str = Field(default="open", max_length=20, index=True)
    held_step: str | None = Field(default=None, max_length=40)
    outcome: str | None = Field(default=None, max_length=20)
    opened_by: str = Field(max_length=120)
    opened_at: datetime = _at()
    moved_at: datetime = _at()
    closed_at: datetime | None = _at_null()
    quota_warning: str | None = Field(default=None, max_length=300)
    quota_acknowledged_by: str | None = Field(default=None, max_length=120)
    quota_acknowledged_at: datetime | None = _at_null()


class CaseNote(IdentificationTable, table=True):
    """A note on a case for re-verification, e.g. a member's death reported by the registry."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=40)
    text: str = Field(max_length=500)
    source_event_id: str | None = Field(default=None, max_length=36)
    at: datetime = _at()


class Attachment(IdentificationTable, table=True):
    """An uploaded file (signed form, minutes, photo), stored under the data folder with its checksum."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(max_length=36, index=True)
    region_code: str = Field(max_length=12)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=80)
    size: int
    sha256: str = Field(max_length=64)
    path: str = Field(max_length=300)
    uploaded_by: str = Field(max_length=120)
    uploaded_at: datetime = _at()


class RuleSet(IdentificationTable, table=True):
    """The standard of one jurisdiction and year, versioned: figures and the criteria's parameters."""

    __table_args__ = (UniqueConstraint("jurisdiction", "year", "version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    jurisdiction: str = Field(max_length=12)
    year: int
    version: int
    poverty_line: Decimal = _money()
    local_average_income: Decimal = _money()
    new_house_cutoff_year: int
    quota_float: Decimal = Field(sa_column=Column(Numeric(5, 4), nullable=False))
    village_exit_incidence: Decimal = Field(sa_column=Column(Numeric(5, 4), nullable=False))
    village_exit_conditions: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    measure: str = Field(max_length=20)
    source_ref: str | None = Field(default=None, max_length=200)
    stuck_after_days: int = Field(default=30)
    created_by: str = Field(max_length=120)
    created_at: datetime = _at()


class Evaluation(IdentificationTable, table=True):
    """A verdict with its reasons, the rule-set version it used and the registry snapshot it read."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    kind: str = Field(max_length=20)
    case_id: str | None = Field(default=None, max_length=36, index=True)
    household_id: str | None = Field(default=None, max_length=36)
    region_code: str = Field(max_length=12, index=True)
    rule_set_id: str = Field(max_length=36)
    rule_set_version: int
    as_of: date
    verdict: str = Field(max_length=20)
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    snapshot: dict[str, Any] = _json()
    evaluated_by: str = Field(max_length=120)
    evaluated_at: datetime = _at()


class Decision(IdentificationTable, table=True):
    """A human decision at a deciding step, with the advice it followed or went against, and why."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(max_length=36, index=True)
    region_code: str = Field(max_length=12, index=True)
    step: str = Field(max_length=40)
    decision: str = Field(max_length=20)
    evaluation_id: str | None = Field(default=None, max_length=36)
    advice: str | None = Field(default=None, max_length=20)
    against_advice: bool = Field(default=False, index=True)
    justification: str | None = Field(default=None, max_length=2000)
    actor: str = Field(max_length=120)
    at: datetime = _at()


class VillageQuota(IdentificationTable, table=True):
    """The number of recognitions a village is allotted for a year (规模控制)."""

    region_code: str = Field(primary_key=True, max_length=12)
    year: int = Field(primary_key=True)
    households: int
    set_by: str = Field(max_length=120)
    set_at: datetime = _at()


class VillagePopulation(IdentificationTable, table=True):
    """The village's agricultural population for a year, entered by the county (the incidence's denominator)."""

    region_code: str = Field(primary_key=True, max_length=12)
    year: int = Field(primary_key=True)
    agricultural_population: int
    set_by: str = Field(max_length=120)
    set_at: datetime = _at()


class ExitPlan(IdentificationTable, table=True):
    """The households and people a village plans to lift out of poverty in a year (脱贫计划), entered by the county."""

    region_code: str = Field(primary_key=True, max_length=12)
    year: int = Field(primary_key=True)
    households: int
    people: int
    set_by: str = Field(max_length=120)
    set_at: datetime = _at()


class Notice(IdentificationTable, table=True):
    """A public notice (公示) of one list version, for one level and region, from a start to an end."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    kind: str = Field(max_length=20)
    step: str = Field(max_length=40)
    level: str = Field(max_length=20)
    region_code: str = Field(max_length=12, index=True)
    list_version: int
    days: int
    starts_at: datetime = _at()
    ends_at: datetime = Field(sa_type=AwareDateTime, index=True)
    status: str = Field(default="open", max_length=20, index=True)
    channel: str = Field(max_length=100)
    location: str | None = Field(default=None, max_length=200)
    place: str = Field(default="", max_length=200)
    opened_by: str = Field(max_length=120)
    ended_at: datetime | None = _at_null()


class NoticeEntry(IdentificationTable, table=True):
    """One name on a notice as it was published (only what a notice board may show), and what its end made of it."""

    notice_id: str = Field(primary_key=True, max_length=36)
    case_id: str = Field(primary_key=True, max_length=36, index=True)
    household_id: str = Field(max_length=36)
    region_code: str = Field(default="", max_length=12)
    group_no: int | None = None
    head_name: str = Field(default="", max_length=60)
    head_id_masked: str = Field(default="", max_length=40)
    member_count: int = 0
    outcome: str = Field(default="pending", max_length=20)


class Objection(IdentificationTable, table=True):
    """An objection filed during a notice: who, how to reach them, what, about which household."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    notice_id: str = Field(max_length=36, index=True)
    case_id: str = Field(max_length=36, index=True)
    household_id: str = Field(max_length=36)
    region_code: str = Field(max_length=12)
    objector: str = Field(max_length=60)
    contact: str = Field(max_length=40)
    content: str = Field(max_length=2000)
    filed_by: str = Field(max_length=120)
    filed_at: datetime = _at()
    resolution: str | None = Field(default=None, max_length=2000)
    resolved_by: str | None = Field(default=None, max_length=120)
    resolved_at: datetime | None = _at_null()


class Sample(IdentificationTable, table=True):
    """A county sample of a township's batch at a sampled step, drawn with a recorded seed."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    kind: str = Field(max_length=20)
    step: str = Field(max_length=40)
    township_code: str = Field(max_length=9, index=True)
    region_code: str = Field(max_length=12)
    year: int
    rate: Decimal = Field(sa_column=Column(Numeric(5, 4), nullable=False))
    seed: int = Field(sa_type=BigInteger)
    batch_case_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sampled_case_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    drawn_by: str = Field(max_length=120)
    drawn_at: datetime = _at()


class SampleCheck(IdentificationTable, table=True):
    """The county's re-check of one sampled case."""

    sample_id: str = Field(primary_key=True, max_length=36)
    case_id: str = Field(primary_key=True, max_length=36)
    passed: bool
    note: str = Field(max_length=1000)
    checked_by: str = Field(max_length=120)
    checked_at: datetime = _at()


class DatasetKind(IdentificationTable, table=True):
    """A department's file as the county describes it once (比对数据类型): key, evidence, rule, conditions."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=100)
    department: str = Field(default="", max_length=100)
    key_column: str = Field(max_length=60)
    evidence_columns: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rule: str = Field(max_length=20)
    conditions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=120)
    created_at: datetime = _at()


class DatasetFile(IdentificationTable, table=True):
    """One uploaded version of a dataset kind's file, stored with its checksum and prepared for matching."""

    __table_args__ = (UniqueConstraint("kind_id", "sha256"), UniqueConstraint("kind_id", "version"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    kind_id: str = Field(max_length=36, index=True)
    version: int
    filename: str = Field(max_length=200)
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64)
    path: str = Field(max_length=300)
    prepared_path: str = Field(max_length=300)
    rows: int = Field(sa_type=BigInteger)
    bad_rows: int = Field(sa_type=BigInteger)
    uploaded_by: str = Field(max_length=120)
    uploaded_at: datetime = _at()


class DatasetReject(IdentificationTable, table=True):
    """A row of a department file whose resident ID is not a valid one, with its line in the file."""

    file_id: str = Field(primary_key=True, max_length=36)
    line: int = Field(primary_key=True, sa_type=BigInteger)
    value_masked: str = Field(max_length=40)
    reason: str = Field(max_length=20)


class ComparisonBatch(IdentificationTable, table=True):
    """A comparison run over a township, a county or the whole jurisdiction (a background job with progress)."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    region_code: str = Field(max_length=12, index=True)
    year: int
    status: str = Field(default="queued", max_length=12, index=True)
    phase: str = Field(default="queued", max_length=20)
    kinds_total: int = 0
    kinds_done: int = 0
    members: int = Field(default=0, sa_type=BigInteger)
    rows_compared: int = Field(default=0, sa_type=BigInteger)
    rejects: int = Field(default=0, sa_type=BigInteger)
    findings: int = 0
    new_findings: int = 0
    households_flagged: int = 0
    cases_sent_back: int = 0
    files: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    message: str | None = Field(default=None, max_length=500)
    started_by: str = Field(max_length=120)
    started_roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_region: str = Field(default="", max_length=12)
    full: bool = Field(default=False, description="asked to read the whole snapshot, not the cache and a delta")
    snapshot: str = Field(default="", max_length=8, description="how the members were read: full or delta")
    snapshot_rows: int = Field(default=0, sa_type=BigInteger, description="member rows downloaded")
    created_at: datetime = _at()
    started_at: datetime | None = _at_null()
    finished_at: datetime | None = _at_null()


class SnapshotCache(IdentificationTable, table=True):
    """The registry members kept from a region's last batch (a Parquet file): as of when and how many rows."""

    region_code: str = Field(primary_key=True, max_length=12)
    path: str = Field(max_length=300)
    watermark: datetime = _at()
    rows: int = Field(default=0, sa_type=BigInteger)


class Finding(IdentificationTable, table=True):
    """One hit (疑似对象): a member's resident ID in a department row that meets its kind's conditions.

    ``first_id`` names the earlier finding of the same evidence when a later batch saw it again; the resolution
    lives on the first one.
    """

    __table_args__ = (UniqueConstraint("batch_id", "fingerprint"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    batch_id: str = Field(max_length=36, index=True)
    fingerprint: str = Field(max_length=64, index=True)
    first_id: str | None = Field(default=None, max_length=36)
    kind_id: str = Field(max_length=36)
    dataset: str = Field(max_length=40)
    file_id: str = Field(max_length=36)
    line: int = Field(sa_type=BigInteger)
    rule: str = Field(max_length=20)
    member_id: str = Field(max_length=36)
    household_id: str = Field(max_length=36, index=True)
    region_code: str = Field(max_length=12, index=True)
    resident_id_masked: str = Field(max_length=40)
    evidence: dict[str, Any] = _json()
    case_id: str | None = Field(default=None, max_length=36)
    case_action: str = Field(default="none", max_length=20)
    resolution: str | None = Field(default=None, max_length=20)
    resolution_reason: str | None = Field(default=None, max_length=2000)
    resolved_by: str | None = Field(default=None, max_length=120)
    resolved_at: datetime | None = _at_null()
