"""Official working days: holidays off, adjusted weekends (调休) worked, Monday to Friday for unknown years."""

from __future__ import annotations

from datetime import date

import pytest

from shared.workdays import is_working_day


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 6, 16), True),  # an ordinary Monday
        (date(2025, 6, 21), False),  # an ordinary Saturday
        (date(2025, 10, 1), False),  # 国庆节, a Wednesday
        (date(2025, 10, 8), False),  # the holiday's last day (中秋 joined it)
        (date(2025, 9, 28), True),  # a Sunday worked for it
        (date(2025, 10, 11), True),  # a Saturday worked for it
        (date(2026, 2, 17), False),  # 春节 2026
        (date(2099, 1, 5), True),  # a Monday of a year with no published calendar yet
        (date(2099, 1, 3), False),  # its Saturday
    ],
)
def test_working_days(day: date, working: bool) -> None:
    assert is_working_day(day) is working
