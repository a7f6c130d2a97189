"""Request and response bodies of the household routes; a household's fact blocks and their table columns."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.registry.domain.codes import (
    Category,
    Cause,
    HousingGrade,
    HukouType,
    Relocation,
    Status,
    Structure,
    WaterIssue,
)
from services.registry.members.schemas import MemberCreate, MemberPublic
from shared.text import Name, Text

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
    address: Name = Field(min_length=1, max_length=200)
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
    hukou_number: Name = Field(min_length=1, max_length=40, description="户口簿编号")
    region_code: str = Field(pattern=VILLAGE_CODE, description="12-digit village code (统计用区划代码)")
    registered_on: date | None = Field(default=None, description="建档 date; today when absent")
    members: list[MemberCreate] = Field(min_length=1, max_length=30)
    categories: list[CategoryPeriod] = Field(default_factory=list)


class HouseholdUpdate(BaseModel):
    """A versioned edit of household facts (not of membership: that is a change)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    reason: Text = Field(min_length=1, max_length=500, description="why the record changes")
    effective_date: date | None = Field(default=None, description="when it became true; today when absent")
    region_code: str | None = Field(default=None, pattern=r"^\d{12}$", description="moved to this village")
    group_no: int | None = Field(default=None, ge=1, le=99)
    natural_village: str | None = Field(default=None, max_length=60)
    address: Name | None = Field(default=None, min_length=1, max_length=200)
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


def flatten_blocks(values: dict[str, Any]) -> dict[str, Any]:
    """Nested blocks (``housing.grade``) to their table columns (``housing_grade``)."""
    flat = {k: v for k, v in values.items() if k not in BLOCKS}
    for name, (prefix, _model) in BLOCKS.items():
        block = values.get(name)
        if block is not None:
            data = block.model_dump() if isinstance(block, BaseModel) else block
            flat.update({prefix + k: v for k, v in data.items()})
    return flat
