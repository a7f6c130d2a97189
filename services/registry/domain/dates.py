"""Date rules every registry record keeps: when a change may take effect, and what was in force on a day.

A period (membership, category, pairing, version) holds from its first day (inclusive) to its end day
(exclusive: a member is no longer counted on the day of death, a helper no longer paired on the day the
pairing ends). Nothing takes effect in the future, and nothing before what it changes. Each rule returns the
``Refusal``s it finds (empty when it holds); the service raises them with ``refuse_if``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.refusals import Refusal


@dataclass(frozen=True)
class Period:
    """From ``start`` (inclusive) to ``end`` (exclusive; open when None)."""

    start: date
    end: date | None = None


def in_force(*, period: Period, day: date) -> bool:
    """Whether the period holds on ``day``: started by then, and not yet ended (its end day no longer counts)."""
    return period.start <= day and (period.end is None or day < period.end)


def not_in_future(*, day: date, today: date, field: str, what: str = "effective date") -> list[Refusal]:
    """Nothing is recorded as happening after today."""
    if day > today:
        return [Refusal("in_future", f"{what} {day} is in the future", field)]
    return []


def edit_date(*, effective: date, today: date, in_force_since: date) -> list[Refusal]:
    """A versioned edit takes effect by today, and not before the version it replaces took effect."""
    refusals = not_in_future(day=effective, today=today, field="effective_date")
    if not refusals and effective < in_force_since:
        message = f"the current version took effect on {in_force_since}; an edit cannot take effect before it"
        refusals.append(Refusal("before_current_version", message, "effective_date"))
    return refusals


def version_start(*, effective: date, in_force_since: date) -> date:
    """The day the next version starts: the change's day, but never before the version it replaces started."""
    return max(effective, in_force_since)


def current_version_holds(*, day: date, in_force_since: date) -> bool:
    """Whether an as-of read of ``day`` reads the version in force now (else an earlier, kept one)."""
    return day >= in_force_since


def end_date(*, end: date, today: date, started: date | None = None) -> list[Refusal]:
    """The day a helper's, unit's or work team's service ends: not in the future, not before it started."""
    refusals = not_in_future(day=end, today=today, field="end_date", what="end date")
    if not refusals and started is not None and end < started:
        refusals.append(Refusal("before_start", f"it cannot end before it started ({started})", "end_date"))
    return refusals


def period_order(*, start: date, end: date | None, field: str, what: str) -> list[Refusal]:
    """A period (a category held, a pairing) does not end before it starts."""
    if end is not None and end < start:
        return [Refusal("ends_before_start", f"{what} cannot end before it started", field)]
    return []
