"""Identification's decisions (识别 / 退出 / 返贫) as the registry's read copy of a household's status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from services.registry.domain.codes import Status
from shared.clock import SHANGHAI


@dataclass(frozen=True)
class StatusChange:
    """The status a decision leaves the household in, and the year it records."""

    status: Status
    identified_year: int | None = None
    exit_year: int | None = None


def status_decision(*, event_type: str, year: int, kind: str | None = None) -> StatusChange | None:
    """What a decision event makes of the household's status; None when it changes nothing.

    approved 识别通过 → 贫困户 (identified that year); rejected 识别未通过 → 一般农户, but a rejected exit or
    return case leaves the status as it is; exited 脱贫 → 已脱贫 (exit year); returned 返贫 → 返贫.
    """
    if event_type == "household.approved":
        return StatusChange(Status.poor, identified_year=year)
    if event_type == "household.rejected":
        return StatusChange(Status.non_poor) if kind in (None, "recognition") else None
    if event_type == "household.exited":
        return StatusChange(Status.exited, exit_year=year)
    if event_type == "household.returned":
        return StatusChange(Status.returned)
    return None


def is_stale(*, event_time: datetime, decided_at: datetime | None) -> bool:
    """A decision older than the one behind the current status arrived late: it must not undo the newer one."""
    return decided_at is not None and event_time < decided_at


def decision_day(*, decided_at: datetime) -> date:
    """The business day (Asia/Shanghai) a decision takes effect on; a naive time is read as UTC."""
    aware = decided_at if decided_at.tzinfo is not None else decided_at.replace(tzinfo=UTC)
    return aware.astimezone(SHANGHAI).date()
