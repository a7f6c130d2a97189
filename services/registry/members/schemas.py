"""Request and response bodies of the member routes: members, member changes (动态调整) and incomes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.registry.domain.changes import ChangeKind
from services.registry.domain.codes import Education, Employment, Health, IncomeSource, Labour, Relation
from shared.money import Money
from shared.text import Name, Text

Sex = Literal["male", "female"]


class MemberBase(BaseModel):
    model_config = ConfigDict(use_enum_values=True)

    name: Name = Field(min_length=1, max_length=60)
    relation: Relation
    sex: Sex | None = None
    birth_date: date | None = None
    in_hukou: bool = True
    co_resident: bool = True
    labour: Labour | None = None
    health: Health | None = None
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    medical_insurance: bool | None = None
    family_doctor: bool | None = None
    education: Education | None = None
    school: str | None = Field(default=None, max_length=100)
    dropout: bool = False
    skills: str | None = Field(default=None, max_length=200)
    migrant_place: str | None = Field(default=None, max_length=100)
    migrant_months: int | None = Field(default=None, ge=0, le=12)
    employment: Employment | None = None
    party_member: bool = False
    public_payroll: bool = False
    village_cadre: bool = False


class MemberCreate(MemberBase):
    id_number: str = Field(min_length=15, max_length=18, description="18-digit resident ID (居民身份证号)")
    phone: str | None = Field(default=None, max_length=20, description="mainland mobile number")


class MemberPublic(MemberBase):
    id: str
    id_number: str
    phone: str | None
    sex: Sex
    birth_date: date
    joined_on: date
    left_on: date | None
    left_reason: str | None
    active: bool
    id_warning: str | None = Field(default=None, description="a note on the resident ID to verify (never a refusal)")


class MemberDetailsUpdate(BaseModel):
    """A versioned edit of a member's details (health, schooling, work, phone, flags) with its reason."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    reason: Text = Field(min_length=1, max_length=500, description="why the record changes")
    effective_date: date | None = Field(default=None, description="when it became true; today when absent")
    phone: str | None = Field(default=None, max_length=20, description="mainland mobile number")
    in_hukou: bool | None = None
    co_resident: bool | None = None
    labour: Labour | None = None
    health: Health | None = None
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    medical_insurance: bool | None = None
    family_doctor: bool | None = None
    education: Education | None = None
    school: str | None = Field(default=None, max_length=100)
    dropout: bool | None = None
    skills: str | None = Field(default=None, max_length=200)
    migrant_place: str | None = Field(default=None, max_length=100)
    migrant_months: int | None = Field(default=None, ge=0, le=12)
    employment: Employment | None = None
    party_member: bool | None = None
    public_payroll: bool | None = None
    village_cadre: bool | None = None


class MemberVersionPublic(BaseModel):
    """A member's details as they were from ``valid_from`` until an edit replaced them on ``valid_to``."""

    member_id: str
    household_version: int
    valid_from: date
    valid_to: date
    changed: list[str] = Field(description="the details the edit changed")
    details: dict[str, Any] = Field(description="the details before the edit (phone masked unless revealed)")
    replaced_at: datetime
    replaced_by: str
    replace_reason: str


class SplitSpec(BaseModel):
    """分户: members leave to a new household with its own hukou number."""

    member_ids: list[str] = Field(min_length=1)
    hukou_number: Name = Field(min_length=1, max_length=40)
    head_member_id: str
    address: Name | None = Field(default=None, max_length=200)


class ChangeCreate(BaseModel):
    """A member change (动态调整) with evidence, date and reason."""

    kind: ChangeKind
    effective_date: date
    evidence: Text = Field(min_length=1, max_length=500, description="document that proves it (证明材料)")
    reason: Text = Field(min_length=1, max_length=500)
    member_id: str | None = Field(default=None, description="who leaves (death, marriage_out, moved_away, …)")
    member: MemberCreate | None = Field(default=None, description="who joins (birth, marriage_in)")
    new_head_member_id: str | None = Field(default=None, description="needed when the head leaves")
    split: SplitSpec | None = None
    merge_from_household_id: str | None = Field(default=None, description="合户: the household absorbed")


class ChangePublic(BaseModel):
    id: str
    household_id: str
    member_id: str
    kind: ChangeKind
    effective_date: date
    evidence: str
    reason: str
    actor: str
    household_version: int
    other_household_id: str | None
    recorded_at: datetime


class IncomeCreate(BaseModel):
    year: int = Field(ge=2000, le=2100)
    source: IncomeSource = IncomeSource.self_declared
    wages: Money = Decimal("0.00")
    production_gross: Money = Field(default=Decimal("0.00"), description="farming and business takings (经营收入)")
    production_costs: Money = Field(default=Decimal("0.00"), description="costs of production and business")
    property: Money = Decimal("0.00")
    transfers: Money = Field(default=Decimal("0.00"), description="transfers: 低保, pensions, remittances")
    policy_payments: Money = Field(default=Decimal("0.00"), description="policy payments (政策性补贴, 分红)")


class IncomePublic(IncomeCreate):
    id: str
    household_id: str
    household_size: int
    net_income: Money
    per_capita_net_income: Money
    recorded_by: str
    recorded_at: datetime
