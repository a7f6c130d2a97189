"""Member changes (动态管理): who joins and who leaves a household, and membership on a date."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from services.registry.domain.dates import Period, in_force, not_in_future
from shared.refusals import Refusal


class ChangeKind(StrEnum):
    """新生 / 死亡 / 婚入 / 婚出 / 外迁 / 判刑收监 / 出国定居 / 分户 / 合户."""

    birth = "birth"
    death = "death"
    marriage_in = "marriage_in"
    marriage_out = "marriage_out"
    moved_away = "moved_away"
    imprisoned = "imprisoned"
    emigrated = "emigrated"
    split = "split"  # type: ignore[assignment]  # the wire value 分户 is "split"; the member shadows str.split, never called on a kind
    merge = "merge"


JOINS = frozenset({ChangeKind.birth, ChangeKind.marriage_in})
LEAVES = frozenset(
    {ChangeKind.death, ChangeKind.marriage_out, ChangeKind.moved_away, ChangeKind.imprisoned, ChangeKind.emigrated}
)
MOVES = frozenset({ChangeKind.split, ChangeKind.merge})


def member_on(*, period: Period, day: date) -> bool:
    """Whether a member (joined ``period.start``, left ``period.end``) counts in the household on ``day``; the day
    of death is no longer counted."""
    return in_force(period=period, day=day)


def check_change_date(
    *,
    effective_date: date,
    today: date,
    joined_on: date | None = None,
    registered_on: date | None = None,
    field: str = "effective_date",
) -> list[Refusal]:
    """A change date: not in the future, not before the household was registered or the member joined."""
    refusals = not_in_future(day=effective_date, today=today, field=field)
    if refusals:
        return refusals
    if registered_on is not None and effective_date < registered_on:
        message = f"effective date {effective_date} is before the household was registered ({registered_on})"
        return [Refusal("before_registration", message, field)]
    if joined_on is not None and effective_date < joined_on:
        message = f"effective date {effective_date} is before the member joined the household ({joined_on})"
        return [Refusal("before_joining", message, field)]
    return []


def birth_matches(*, kind: ChangeKind, birth_date: date, effective_date: date) -> list[Refusal]:
    """A birth (新生) is recorded on the child's birth date."""
    if kind is ChangeKind.birth and birth_date != effective_date:
        message = f"a birth takes effect on the birth date ({birth_date}), not {effective_date}"
        return [Refusal("birth_date_differs", message, "effective_date")]
    return []
