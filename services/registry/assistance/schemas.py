"""Request and response bodies of the 帮扶 routes: units, helpers, loads, work teams, pairings, contacts."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.registry.domain.codes import ContactKind, Rank
from services.registry.households.schemas import VILLAGE_CODE
from shared.pagination import Page
from shared.text import Name, Text


class HelpingUnitCreate(BaseModel):
    name: Name = Field(min_length=1, max_length=120)
    region_code: str = Field(pattern=r"^\d{2,12}$")


class HelpingUnitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(default=None, min_length=1, max_length=120)
    region_code: str | None = Field(default=None, pattern=r"^\d{2,12}$")


class HelpingUnitPublic(HelpingUnitCreate):
    id: str
    end_date: date | None
    end_reason: str | None


class End(BaseModel):
    """The end of a helper's, unit's or work team's service, with its date and reason."""

    end_date: date
    reason: Text = Field(min_length=1, max_length=200)


class HelperCreate(BaseModel):
    name: Name = Field(min_length=1, max_length=60)
    unit_id: str | None = None
    rank: Rank
    phone: str = Field(min_length=11, max_length=20)
    region_code: str = Field(pattern=r"^\d{2,12}$", description="where the helper works")


class HelperUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    name: Name | None = Field(default=None, min_length=1, max_length=60)
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
    reason: Text = Field(min_length=1, max_length=200)
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


class CoverageReport(Page[CoverageRow]):
    """Helper duties as of a day: every poor household paired, contacted monthly, visited quarterly.

    The totals count every household of the scope; ``items`` are one page of them, in village and hukou order.
    """

    as_of: date
    households: int
    without_helper: int
    duties_met: int
