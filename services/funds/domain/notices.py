"""How long a project's village notice (公示) runs: a number of working days, as its template says.

Working days are Monday to Friday in business time (Asia/Shanghai); the project has no public-holiday calendar,
so a holiday on a weekday counts as a working day. A notice posted on a weekend starts counting on Monday.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from shared.clock import SHANGHAI

# DOMAIN.md §2.3: village 7 days, township 5, county 5 (the template's ``days`` when it gives them).
DEFAULT_DAYS = {"group": 7, "village": 7, "township": 5, "county": 5}
SATURDAY = 5


def notice_days(level: str, days: int | None) -> int:
    """The template's own duration, or the level's default."""
    return days or DEFAULT_DAYS.get(level, 5)


def is_working_day(moment: datetime) -> bool:
    return moment.astimezone(SHANGHAI).weekday() < SATURDAY


def notice_end(start: datetime, working_days: int) -> datetime:
    """The first moment by which a notice posted at ``start`` has run ``working_days`` × 24 h of working time."""
    local = start.astimezone(SHANGHAI)
    left = timedelta(days=working_days)
    while True:
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), SHANGHAI)
        if local.weekday() < SATURDAY:
            if left <= midnight - local:
                return local + left
            left -= midnight - local
        local = midnight
