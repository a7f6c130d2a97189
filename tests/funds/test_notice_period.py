"""The notice period in official working days (business time): table-driven and with hypothesis."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.funds.domain.notices import is_working_day, notice_days, notice_end
from shared.clock import SHANGHAI


def at(day: int, hour: int = 10, month: int = 6) -> datetime:
    return datetime(2025, month, day, hour, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        (at(16), 7, at(25)),  # Monday: Tue … Fri, Mon … Wed
        (at(16), 5, at(23)),  # Monday to the next Monday
        (at(20), 1, at(23)),  # Friday 10:00 → Monday 10:00
        (at(20), 7, at(1, month=7)),
        (at(21), 5, at(28, hour=0)),  # posted Saturday: Monday to Friday in full, over at Saturday 00:00
        (at(22, hour=23), 1, at(24, hour=0)),  # Sunday night: the whole of Monday
        (at(16, hour=0), 5, at(21, hour=0)),  # Monday 00:00: five whole days
        # 国庆 2025: 1–8 October off, Sunday 28 September and Saturday 11 October worked (调休)
        (at(26, month=9), 1, at(28, month=9)),  # Friday 10:00: Saturday off, the Sunday is a working day
        (at(30, month=9), 3, at(11, month=10)),  # Tuesday: 30 Sep (14 h), 9 and 10 Oct, Saturday 11 Oct (10 h)
        (at(10, month=10), 1, at(11, month=10)),  # Friday → the adjusted Saturday
    ],
)
def test_end_of_a_notice(start: datetime, days: int, end: datetime) -> None:
    assert notice_end(start, days) == end


@pytest.mark.parametrize(
    ("level", "days", "expected"),
    [("village", None, 7), ("group", None, 7), ("township", None, 5), ("county", None, 5), ("village", 10, 10)],
)
def test_the_templates_days_or_the_levels_default(level: str, days: int | None, expected: int) -> None:
    assert notice_days(level, days) == expected


def working_time(start: datetime, end: datetime) -> timedelta:
    """The part of [start, end) that falls on Monday to Friday, hour by hour from whole days."""
    total, moment = timedelta(0), start.astimezone(SHANGHAI)
    while moment < end:
        midnight = datetime.combine(moment.date() + timedelta(days=1), time(0), SHANGHAI)
        stop = min(midnight, end)
        if is_working_day(moment):
            total += stop - moment
        moment = stop
    return total


@given(
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(SHANGHAI)),
    days=st.integers(min_value=1, max_value=60),
)
def test_a_notice_runs_exactly_its_working_days_and_no_longer(start: datetime, days: int) -> None:
    end = notice_end(start, days)
    assert working_time(start, end) == timedelta(days=days)
    # the earliest such moment: a moment before it has run less working time
    assert working_time(start, end - timedelta(microseconds=1)) < timedelta(days=days)
