"""Working days (工作日) in mainland China: the State Council's holidays and adjusted working days (调休).

The calendar comes from chinese-calendar, which carries each year's official arrangement once it is published
(2004 to its last release's year). For a year it does not know yet, Monday to Friday stand in, and the fallback is
logged once per year so that an operator knows to update the package.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import cache

import chinese_calendar

log = logging.getLogger("fupin.workdays")
SATURDAY = 5


@cache
def _unknown_year(year: int) -> None:
    log.warning("no official holiday calendar for %s yet: counting Monday to Friday as working days", year)


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day: not a weekend unless adjusted to work, not a public holiday."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _unknown_year(day.year)
        return day.weekday() < SATURDAY
