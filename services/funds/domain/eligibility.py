"""Who may be paid on a day: recognised poor households (建档立卡户) not exited, and no deceased member."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from shared.refusals import Refusal

RECOGNISING = frozenset({"household.approved", "household.returned"})
ENDING = frozenset({"household.exited"})


@dataclass(frozen=True)
class StatusEvent:
    """A decision on a household from identification, on the day it took effect."""

    kind: str
    on: date


def recognised_on(events: Iterable[StatusEvent], day: date) -> bool:
    """Whether the household was a recognised poor household on ``day``: the last decision by then recognises."""
    last: StatusEvent | None = None
    for event in sorted(events, key=lambda e: e.on):
        if event.on <= day and (event.kind in RECOGNISING or event.kind in ENDING):
            last = event
    return last is not None and last.kind in RECOGNISING


def check_payee(
    *,
    to_poor_only: bool,
    household_events: Iterable[StatusEvent],
    died_on: date | None,
    pay_date: date,
    field: str = "payee_household_id",
) -> list[Refusal]:
    """A payment marked for registered poor households, or to a person, refused when the payee is not payable."""
    refusals: list[Refusal] = []
    if to_poor_only and not recognised_on(household_events, pay_date):
        refusals.append(
            Refusal(
                code="payee_not_recognised",
                field=field,
                message=f"the household is not a recognised poor household (or has exited) on {pay_date}",
            )
        )
    if died_on is not None and died_on <= pay_date:
        refusals.append(Refusal(code="payee_deceased", field="payee_member_id", message=f"the payee died on {died_on}"))
    return refusals
