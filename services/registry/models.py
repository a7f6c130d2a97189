"""Registry tables: regions, households with their members and versions, incomes, helpers, contacts, imports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from shared.db import AwareDateTime, service_registry
from shared.events.tables import infra_tables
from shared.ids import new_id


class RegistryTable(SQLModel, registry=service_registry()):
    pass


INFRA = infra_tables(RegistryTable.metadata)


def Stamp(*, index: bool = False) -> Any:
    return Field(sa_type=AwareDateTime, index=index)


def Area() -> Any:
    return Field(default=None, max_digits=10, decimal_places=2)


def Amount() -> Any:
    return Field(default=Decimal("0.00"), max_digits=14, decimal_places=2)


class Region(RegistryTable, table=True):
    """A division of the region tree (区划), by its 12-digit statistical code."""

    code: str = Field(primary_key=True, max_length=12)
    name: str = Field(max_length=80)
    level: str = Field(max_length=10)
    parent_code: str | None = Field(default=None, max_length=12, index=True)


class VillagerGroup(RegistryTable, table=True):
    """A villager group (村民小组 / 社 / 组) under a village."""

    village_code: str = Field(primary_key=True, max_length=12)
    number: int = Field(primary_key=True)
    name: str = Field(max_length=60)


class Household(RegistryTable, table=True):
    """A registered household (户), the unit of identification and help; blocks are prefixed columns."""

    # The comparison's member snapshot reads these columns from the index alone (in household id order).
    __table_args__ = (Index("ix_household_snapshot", "id", "region_code", "status", "registered_on"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    hukou_number: str = Field(max_length=40, unique=True)
    region_code: str = Field(max_length=12, index=True)
    group_no: int | None = None
    natural_village: str | None = Field(default=None, max_length=60)
    address: str = Field(max_length=200)
    head_member_id: str = Field(max_length=36)
    hukou_type: str = Field(default="agricultural", max_length=20)
    status: str = Field(default="poor", max_length=12, index=True)
    identified_year: int | None = None
    planned_exit_year: int | None = None
    exit_year: int | None = None
    primary_cause: str | None = Field(default=None, max_length=20, index=True)
    secondary_causes: list[str] = Field(default_factory=list, sa_type=JSON)

    land_cultivated_mu: Decimal | None = Area()
    land_forest_mu: Decimal | None = Area()
    land_grassland_mu: Decimal | None = Area()
    land_crops: str | None = Field(default=None, max_length=200)
    land_livestock: str | None = Field(default=None, max_length=200)

    housing_grade: str | None = Field(default=None, max_length=1)
    housing_structure: str | None = Field(default=None, max_length=20)
    housing_relocation: str = Field(default="none", max_length=10)
    housing_renovated_year: int | None = None

    utilities_safe_water: bool | None = None
    utilities_water_issue: str | None = Field(default=None, max_length=40)
    utilities_electricity: bool | None = None

    assurance_food: bool | None = None
    assurance_clothing: bool | None = None
    assurance_education: bool | None = None
    assurance_housing: bool | None = None
    assurance_medical: bool | None = None

    access_road: bool | None = None
    access_phone: bool | None = None
    access_broadband: bool | None = None

    exclusion_vehicle: bool = False
    exclusion_machinery: bool = False
    exclusion_enterprise: bool = False
    exclusion_new_house_year: int | None = None
    exclusion_family_away: bool = False

    version: int = 1
    registered_on: date
    valid_from: date
    dissolved_on: date | None = Field(default=None, description="the day its last member left")
    created_at: datetime = Stamp()
    updated_at: datetime = Stamp(index=True)  # the comparison's delta snapshot reads households changed since
    # When the current status was decided (by identification's event or an edit), so a late, older decision
    # does not undo a newer one; and the identification case behind it.
    status_decided_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    status_case_id: str | None = Field(default=None, max_length=36)


class HouseholdVersion(RegistryTable, table=True):
    """A household's earlier version, kept when a change replaces it, for as-of reads."""

    __table_args__ = (UniqueConstraint("household_id", "version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    household_id: str = Field(foreign_key="household.id", index=True, max_length=36)
    version: int
    valid_from: date
    valid_to: date
    snapshot: dict[str, Any] = Field(sa_type=JSON)
    replaced_at: datetime = Stamp()
    replaced_by: str = Field(max_length=120)
    replace_reason: str = Field(max_length=500)


class HouseholdCategory(RegistryTable, table=True):
    """A programme category (扶贫对象, 低保, 五保, 特困, 红卡/蓝卡) a household holds over a period."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    household_id: str = Field(foreign_key="household.id", index=True, max_length=36)
    category: str = Field(max_length=20, index=True)
    start_date: date
    end_date: date | None = None


class Member(RegistryTable, table=True):
    """A member of a household (家庭成员) over a membership period."""

    __table_args__ = (
        # A resident ID is an active member of one household at most; the database holds the line too.
        Index(
            "uq_member_active_id_number",
            "id_number",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
        # The comparison's member snapshot reads these columns from the index alone, a household's members together.
        Index("ix_member_snapshot", "household_id", "id", "id_number", "active", "joined_on", "left_on"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    household_id: str = Field(foreign_key="household.id", index=True, max_length=36)
    name: str = Field(max_length=60)
    id_number: str = Field(max_length=18, index=True)
    relation: str = Field(max_length=20)
    sex: str = Field(max_length=6)
    birth_date: date
    phone: str | None = Field(default=None, max_length=20)
    id_warning: str | None = Field(default=None, max_length=200)  # e.g. an area code renamed since issue
    in_hukou: bool = True
    co_resident: bool = True
    joined_on: date
    left_on: date | None = None
    left_reason: str | None = Field(default=None, max_length=20)
    active: bool = True
    labour: str | None = Field(default=None, max_length=10)
    health: str | None = Field(default=None, max_length=20)
    disability_grade: int | None = None
    medical_insurance: bool | None = None
    family_doctor: bool | None = None
    education: str | None = Field(default=None, max_length=24)
    school: str | None = Field(default=None, max_length=100)
    dropout: bool = False
    skills: str | None = Field(default=None, max_length=200)
    migrant_place: str | None = Field(default=None, max_length=100)
    migrant_months: int | None = None
    employment: str | None = Field(default=None, max_length=24)
    party_member: bool = False
    public_payroll: bool = False
    village_cadre: bool = False


class MemberVersion(RegistryTable, table=True):
    """A member's details (health, schooling, work, flags) as they were until an edit replaced them."""

    __table_args__ = (UniqueConstraint("member_id", "household_version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    member_id: str = Field(foreign_key="member.id", index=True, max_length=36)
    household_id: str = Field(foreign_key="household.id", index=True, max_length=36)
    household_version: int = Field(description="the household's version the edit started")
    valid_from: date
    valid_to: date
    details: dict[str, Any] = Field(sa_type=JSON)
    changed: list[str] = Field(sa_type=JSON)
    replaced_at: datetime = Stamp()
    replaced_by: str = Field(max_length=120)
    replace_reason: str = Field(max_length=500)


class MemberChange(RegistryTable, table=True):
    """A recorded change to a household's membership (动态调整), with evidence, date, who and why."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    household_id: str = Field(foreign_key="household.id", index=True, max_length=36)
    member_id: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=16)
    effective_date: date
    evidence: str = Field(max_length=500)
    reason: str = Field(max_length=500)
    actor: str = Field(max_length=120)
    household_version: int
    other_household_id: str | None = Field(default=None, max_length=36)
    recorded_at: datetime = Stamp()


class IncomeDeclaration(RegistryTable, table=True):
    """A household's income for one year from one source (self-declared, surveyed, verified)."""

    __table_args__ = (UniqueConstraint("household_id", "year", "source"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    household_id: str = Field(foreign_key="household.id", index=True, max_length=36)
    year: int
    source: str = Field(max_length=16)
    wages: Decimal = Amount()
    production_gross: Decimal = Amount()
    production_costs: Decimal = Amount()
    property: Decimal = Amount()
    transfers: Decimal = Amount()
    policy_payments: Decimal = Amount()
    household_size: int
    net_income: Decimal = Amount()
    per_capita_net_income: Decimal = Amount()
    recorded_by: str = Field(max_length=120)
    recorded_at: datetime = Stamp()


class HelpingUnit(RegistryTable, table=True):
    """A helping unit (帮扶单位): a government body or enterprise that takes on villages."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=120)
    region_code: str = Field(max_length=12, index=True)
    end_date: date | None = None
    end_reason: str | None = Field(default=None, max_length=200)


class Helper(RegistryTable, table=True):
    """A helper (帮扶责任人): a cadre paired with poor households."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=60)
    unit_id: str | None = Field(default=None, foreign_key="helpingunit.id", max_length=36)
    rank: str = Field(max_length=24)
    phone: str = Field(max_length=20)
    region_code: str = Field(max_length=12, index=True)
    created_at: datetime = Stamp()
    updated_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    end_date: date | None = None
    end_reason: str | None = Field(default=None, max_length=200)


class HelperLoad(RegistryTable, table=True):
    """How many households a helper of a rank may take (configurable)."""

    rank: str = Field(primary_key=True, max_length=24)
    max_households: int


class WorkTeam(RegistryTable, table=True):
    """A village-resident work team (驻村工作队) with its first secretary (第一书记)."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    village_code: str = Field(max_length=12, index=True)
    unit_id: str | None = Field(default=None, foreign_key="helpingunit.id", max_length=36)
    leader_id: str | None = Field(default=None, foreign_key="helper.id", max_length=36)
    first_secretary_id: str | None = Field(default=None, foreign_key="helper.id", max_length=36)
    start_date: date
    end_date: date | None = None
    end_reason: str | None = Field(default=None, max_length=200)


class Pairing(RegistryTable, table=True):
    """A helper paired with a household (结对) from a start date until the household exits."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    helper_id: str = Field(foreign_key="helper.id", index=True, max_length=36)
    household_id: str = Field(foreign_key="household.id", index=True, max_length=36)
    start_date: date
    end_date: date | None = None
    end_reason: str | None = Field(default=None, max_length=200)


class Contact(RegistryTable, table=True):
    """A helper's visit, call or SMS to a household (走访 / 电话 / 短信)."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    household_id: str = Field(foreign_key="household.id", index=True, max_length=36)
    helper_id: str = Field(foreign_key="helper.id", index=True, max_length=36)
    kind: str = Field(max_length=8)
    contacted_on: date
    note: str | None = Field(default=None, max_length=500)
    recorded_at: datetime = Stamp()


class ImportJob(RegistryTable, table=True):
    """A bulk import of households from a file, run in the background."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    filename: str = Field(max_length=200)
    status: str = Field(default="queued", max_length=12)
    rows_total: int | None = None
    rows_done: int = 0
    error_count: int = 0
    households_created: int = 0
    members_created: int = 0
    rows_unchanged: int = 0
    message: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=120)
    region_scope: str = Field(default="", max_length=12)
    created_at: datetime = Stamp()
    finished_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class ImportRowError(RegistryTable, table=True):
    """One bad row of an import: its row number in the file, the column and the reason."""

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(foreign_key="importjob.id", index=True, max_length=36)
    row: int
    column: str = Field(max_length=40)
    reason: str = Field(max_length=500)


class CrossRegionConflict(RegistryTable, table=True):
    """Somebody tried to register a person or hukou already registered in another region (跨区域重复登记).

    The registrar learns only that it is registered elsewhere; the county office sees where, and resolves it."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    kind: str = Field(max_length=20)  # id_number | hukou_number
    value_masked: str = Field(max_length=40)
    existing_household_id: str = Field(max_length=36)
    existing_region_code: str = Field(max_length=12, index=True)
    attempted_region_code: str = Field(max_length=12, index=True)
    attempted_by: str = Field(max_length=120)
    attempted_at: datetime = Stamp()
    resolved_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    resolved_by: str | None = Field(default=None, max_length=120)
    resolution: str | None = Field(default=None, max_length=500)
