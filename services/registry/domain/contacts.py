"""Helper contact duties: some contact every month, a visit every quarter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from services.registry.domain.codes import ContactKind


@dataclass(frozen=True)
class Duty:
    contacted_this_month: bool
    visited_this_quarter: bool

    @property
    def met(self) -> bool:
        return self.contacted_this_month and self.visited_this_quarter


@dataclass(frozen=True)
class DutyWindow:
    """The first days from which a contact counts for the month and a visit for the quarter of a day."""

    month_start: date
    quarter_start: date


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def duty_window(day: date) -> DutyWindow:
    """The month and the quarter ``day`` falls in, by their first days (contacts after ``day`` never count)."""
    return DutyWindow(month_start=date(day.year, day.month, 1), quarter_start=quarter_start(day))


def duty_on(*, contacts: Iterable[tuple[ContactKind, date]], day: date) -> Duty:
    """Whether the monthly contact and the quarterly visit were made, as of ``day``."""
    window = duty_window(day)
    seen = [(kind, when) for kind, when in contacts if when <= day]
    return Duty(
        contacted_this_month=any(when >= window.month_start for _, when in seen),
        visited_this_quarter=any(kind is ContactKind.visit and when >= window.quarter_start for kind, when in seen),
    )
