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


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def duty_on(*, contacts: Iterable[tuple[ContactKind, date]], day: date) -> Duty:
    """Whether the monthly contact and the quarterly visit were made, as of ``day``."""
    month = date(day.year, day.month, 1)
    quarter = quarter_start(day)
    seen = [(kind, when) for kind, when in contacts if when <= day]
    return Duty(
        contacted_this_month=any(when >= month for _, when in seen),
        visited_this_quarter=any(kind is ContactKind.visit and when >= quarter for kind, when in seen),
    )
