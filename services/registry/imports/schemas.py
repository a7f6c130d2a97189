"""Response bodies of the import routes: a job and its bad rows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


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
