"""Cross-region conflicts as the county office reads and resolves them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.text import Text


class ConflictPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str = Field(description="id_number or hukou_number")
    value_masked: str
    existing_household_id: str
    existing_region_code: str
    attempted_region_code: str
    attempted_by: str
    attempted_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


class ConflictResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Text = Field(min_length=1, max_length=500, description="what was found and done (核实结果)")
