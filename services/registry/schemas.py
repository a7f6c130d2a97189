"""Request and response bodies of the registry API (one XBase / XCreate / XUpdate / XPublic family each)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.registry.domain.changes import ChangeKind
from services.registry.domain.codes import (
    Category,
    Cause,
    ContactKind,
    Education,
    Employment,
    Health,
    HousingGrade,
    HukouType,
    IncomeSource,
    Labour,
    Rank,
    Relation,
    Relocation,
    Status,
    Structure,
    WaterIssue,
)
from shared.money import Money

Sex = Literal["male", "female"]
VILLAGE_CODE = r"^\d{12}$"


class Block(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class Land(Block):
    """Land and production (耕地, 林地, 草地; crops and livestock)."""

    cultivated_mu: Decimal | None = Field(default=None, ge=0, max_digits=10, decimal_places=2)
    forest_mu: Decimal | None = Field(default=None, ge=0, max_digits=10, decimal_places=2)
    grassland_mu: Decimal | None = Field(default=None, ge=0, max_digits=10, decimal_places=2)
    crops: str | None = Field(default=None, max_length=200)
    livestock: str | None = Field(default=None, max_length=200)


class Housing(Block):
    """Housing safety (危房等级 A–D), structure and relocation (易地搬迁)."""

    grade: HousingGrade | None = None
    structure: Structure | None = None
    relocation: Relocation = Relocation.none
    renovated_year: int | None = Field(default=None, ge=1950, le=2100)


class Utilities(Block):
    """Drinking water (饮水安全) and household electricity."""

    safe_water: bool | None = None
    water_issue: WaterIssue | None = None
    electricity: bool | None = None


class Assurances(Block):
    """两不愁三保障: food and clothing; compulsory education, safe housing, basic medical care."""

    food: bool | None = None
    clothing: bool | None = None
    education: bool | None = None
    housing: bool | None = None
    medical: bool | None = None


class Access(Block):
    road: bool | None = None
    phone: bool | None = None
    broadband: bool | None = None


class Exclusions(Block):
    """The household-level facts behind 七不进 (members carry payroll and cadre flags)."""

    vehicle: bool = False
    machinery: bool = False
    enterprise: bool = False
    new_house_year: int | None = Field(default=None, ge=1950, le=2100)
    family_away: bool = False


# block name → (column prefix, model)
BLOCKS: dict[str, tuple[str, type[Block]]] = {
    "land": ("land_", Land),
    "housing": ("housing_", Housing),
    "utilities": ("utilities_", Utilities),
    "assurances": ("assurance_", Assurances),
    "access": ("access_", Access),
    "exclusions": ("exclusion_", Exclusions),
}


class MemberBase(BaseModel):
    model_config = ConfigDict(use_enum_values=True)

    name: str = Field(min_length=1, max_length=60)
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


class MemberDetailsUpdate(BaseModel):
    """A versioned edit of a member's details (health, schooling, work, phone, flags) with its reason."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    reason: str = Field(min_length=1, max_length=500, description="why the record changes")
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


class HouseholdVersionPublic(BaseModel):
    """A household's version as it was from ``valid_from`` until a change replaced it on ``valid_to``."""

    version: int
    valid_from: date
    valid_to: date
    status: Status | None
    replaced_at: datetime
    replaced_by: str = Field(description="who replaced it: a user, or ``event:<type>:<id>`` for a decision")
    replace_reason: str


class CategoryPeriod(BaseModel):
    category: Category
    start_date: date
    end_date: date | None = None


class HouseholdBase(BaseModel):
    model_config = ConfigDict(use_enum_values=True)

    group_no: int | None = Field(default=None, ge=1, le=99, description="villager group (村民小组)")
    natural_village: str | None = Field(default=None, max_length=60, description="自然村")
    address: str = Field(min_length=1, max_length=200)
    hukou_type: HukouType = HukouType.agricultural
    status: Status = Status.poor
    identified_year: int | None = Field(default=None, ge=2000, le=2100)
    planned_exit_year: int | None = Field(default=None, ge=2000, le=2100)
    exit_year: int | None = Field(default=None, ge=2000, le=2100)
    primary_cause: Cause | None = None
    secondary_causes: list[Cause] = Field(default_factory=list, max_length=5)
    land: Land = Field(default_factory=Land)
    housing: Housing = Field(default_factory=Housing)
    utilities: Utilities = Field(default_factory=Utilities)
    assurances: Assurances = Field(default_factory=Assurances)
    access: Access = Field(default_factory=Access)
    exclusions: Exclusions = Field(default_factory=Exclusions)


class HouseholdCreate(HouseholdBase):
    hukou_number: str = Field(min_length=1, max_length=40, description="户口簿编号")
    region_code: str = Field(pattern=VILLAGE_CODE, description="12-digit village code (统计用区划代码)")
    registered_on: date | None = Field(default=None, description="建档 date; today when absent")
    members: list[MemberCreate] = Field(min_length=1, max_length=30)
    categories: list[CategoryPeriod] = Field(default_factory=list)


class HouseholdUpdate(BaseModel):
    """A versioned edit of household facts (not of membership: that is a change)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    reason: str = Field(min_length=1, max_length=500, description="why the record changes")
    effective_date: date | None = Field(default=None, description="when it became true; today when absent")
    region_code: str | None = Field(default=None, pattern=r"^\d{12}$", description="moved to this village")
    group_no: int | None = Field(default=None, ge=1, le=99)
    natural_village: str | None = Field(default=None, max_length=60)
    address: str | None = Field(default=None, min_length=1, max_length=200)
    hukou_type: HukouType | None = None
    status: Status | None = None
    identified_year: int | None = Field(default=None, ge=2000, le=2100)
    planned_exit_year: int | None = Field(default=None, ge=2000, le=2100)
    exit_year: int | None = Field(default=None, ge=2000, le=2100)
    primary_cause: Cause | None = None
    secondary_causes: list[Cause] | None = None
    land: Land | None = None
    housing: Housing | None = None
    utilities: Utilities | None = None
    assurances: Assurances | None = None
    access: Access | None = None
    exclusions: Exclusions | None = None
    categories: list[CategoryPeriod] | None = None


class HouseholdPublic(HouseholdBase):
    id: str
    hukou_number: str
    region_code: str
    head_member_id: str
    version: int
    registered_on: date
    valid_from: date
    dissolved_on: date | None
    as_of: date | None = None
    member_count: int
    members: list[MemberPublic]
    categories: list[CategoryPeriod]
    active_helper_ids: list[str] = Field(default_factory=list, description="helpers paired with it that day")
    needs_helper: bool = Field(
        default=False, description="poor, pre-exit or returned with no active helper (每户有帮扶责任人 broken)"
    )
    status_decided_at: datetime | None = Field(default=None, description="when the current status was decided")
    status_case_id: str | None = Field(default=None, description="the identification case behind the status")


class HouseholdSummary(BaseModel):
    """A household in a list: masked, no members."""

    id: str
    hukou_number: str
    region_code: str
    group_no: int | None
    address: str
    status: Status
    primary_cause: Cause | None
    head_name: str | None
    head_id_number: str | None
    member_count: int
    version: int
    needs_helper: bool


class SplitSpec(BaseModel):
    """分户: members leave to a new household with its own hukou number."""

    member_ids: list[str] = Field(min_length=1)
    hukou_number: str = Field(min_length=1, max_length=40)
    head_member_id: str
    address: str | None = Field(default=None, max_length=200)


class ChangeCreate(BaseModel):
    """A member change (动态调整) with evidence, date and reason."""

    kind: ChangeKind
    effective_date: date
    evidence: str = Field(min_length=1, max_length=500, description="document that proves it (证明材料)")
    reason: str = Field(min_length=1, max_length=500)
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


class RegionPublic(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None


class RegionDetail(RegionPublic):
    path: list[RegionPublic]
    children: list[RegionPublic]


class RegionLoadResult(BaseModel):
    created: int
    updated: int


class VillagerGroupPublic(BaseModel):
    village_code: str
    number: int
    name: str


class HelpingUnitCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    region_code: str = Field(pattern=r"^\d{2,12}$")


class HelpingUnitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    region_code: str | None = Field(default=None, pattern=r"^\d{2,12}$")


class HelpingUnitPublic(HelpingUnitCreate):
    id: str
    end_date: date | None
    end_reason: str | None


class End(BaseModel):
    """The end of a helper's, unit's or work team's service, with its date and reason."""

    end_date: date
    reason: str = Field(min_length=1, max_length=200)


class HelperCreate(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    unit_id: str | None = None
    rank: Rank
    phone: str = Field(min_length=11, max_length=20)
    region_code: str = Field(pattern=r"^\d{2,12}$", description="where the helper works")


class HelperUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    name: str | None = Field(default=None, min_length=1, max_length=60)
    unit_id: str | None = None
    rank: Rank | None = None
    phone: str | None = Field(default=None, min_length=11, max_length=20)
    region_code: str | None = Field(default=None, pattern=r"^\d{2,12}$")


class HelperEnd(End):
    successor_helper_id: str | None = Field(
        default=None, description="takes over the households that still need a helper (不脱贫不脱钩)"
    )


class HelperPublic(BaseModel):
    id: str
    name: str
    unit_id: str | None
    rank: Rank
    phone: str
    region_code: str
    active_pairings: int
    end_date: date | None = None
    end_reason: str | None = None


class HelperLoadSet(BaseModel):
    max_households: int = Field(ge=1, le=50)


class HelperLoadPublic(HelperLoadSet):
    rank: Rank


class WorkTeamCreate(BaseModel):
    village_code: str = Field(pattern=VILLAGE_CODE)
    unit_id: str | None = None
    leader_id: str | None = None
    first_secretary_id: str | None = Field(default=None, description="第一书记 (a helper)")
    start_date: date


class WorkTeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str | None = None
    leader_id: str | None = None
    first_secretary_id: str | None = Field(default=None, description="第一书记 (a helper)")


class WorkTeamPublic(WorkTeamCreate):
    id: str
    end_date: date | None
    end_reason: str | None


class PairingCreate(BaseModel):
    helper_id: str
    household_id: str
    start_date: date


class PairingRelease(BaseModel):
    end_date: date
    reason: str = Field(min_length=1, max_length=200)
    successor_helper_id: str | None = Field(default=None, description="hand the household over to this helper")


class PairingPublic(PairingCreate):
    id: str
    end_date: date | None
    end_reason: str | None


class ContactCreate(BaseModel):
    helper_id: str
    kind: ContactKind
    contacted_on: date
    note: str | None = Field(default=None, max_length=500)


class ContactPublic(ContactCreate):
    id: str
    household_id: str
    recorded_at: datetime


class CoverageRow(BaseModel):
    household_id: str
    hukou_number: str
    region_code: str
    helper_ids: list[str]
    contacted_this_month: bool
    visited_this_quarter: bool


class CoverageReport(BaseModel):
    """Helper duties as of a day: every poor household paired, contacted monthly, visited quarterly."""

    as_of: date
    households: int
    without_helper: int
    duties_met: int
    rows: list[CoverageRow]


class ImportJobPublic(BaseModel):
    id: str
    filename: str
    status: Literal["queued", "running", "done", "failed"]
    rows_total: int | None
    rows_done: int
    error_count: int
    households_created: int
    members_created: int
    rows_unchanged: int
    message: str | None
    created_at: datetime
    finished_at: datetime | None


class ImportRowErrorPublic(BaseModel):
    row: int
    column: str
    reason: str


def flatten_blocks(values: dict[str, Any]) -> dict[str, Any]:
    """Nested blocks (``housing.grade``) to their table columns (``housing_grade``)."""
    flat = {k: v for k, v in values.items() if k not in BLOCKS}
    for name, (prefix, _model) in BLOCKS.items():
        block = values.get(name)
        if block is not None:
            data = block.model_dump() if isinstance(block, BaseModel) else block
            flat.update({prefix + k: v for k, v in data.items()})
    return flat


def unflatten_blocks(row: Any) -> dict[str, Block]:
    """Table columns back into nested blocks; ``row`` is a table row or a snapshot dict."""
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
    return {
        name: model.model_validate({k: get(prefix + k) for k in model.model_fields})
        for name, (prefix, model) in BLOCKS.items()
    }
