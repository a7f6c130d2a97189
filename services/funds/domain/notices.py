"""How long a project's village notice (公示) runs: a number of working days, as its template says.

Working days are the official ones in business time (Asia/Shanghai): weekends and public holidays do not count, a
weekend adjusted to work (调休) does (shared.workdays). A notice posted on a day off starts counting on the next
working day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from shared.clock import SHANGHAI
from shared.workdays import is_working_day as is_working_date

# DOMAIN.md §2.3: village 7 days, township 5, county 5 (the template's ``days`` when it gives them).
DEFAULT_DAYS = {"group": 7, "village": 7, "township": 5, "county": 5}


def notice_days(level: str, days: int | None) -> int:
    """The template's own duration, or the level's default."""
    return days or DEFAULT_DAYS.get(level, 5)


def is_working_day(moment: datetime) -> bool:
    return is_working_date(moment.astimezone(SHANGHAI).date())


def notice_end(start: datetime, working_days: int) -> datetime:
    """The first moment by which a notice posted at ``start`` has run ``working_days`` × 24 h of working time."""
    local = start.astimezone(SHANGHAI)
    left = timedelta(days=working_days)
    while True:
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), SHANGHAI)
        if is_working_date(local.date()):
            if left <= midnight - local:
                return local + left
            left -= midnight - local
        local = midnight
