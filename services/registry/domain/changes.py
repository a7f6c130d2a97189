"""Member changes (动态管理): who joins and who leaves a household, and membership on a date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class ChangeKind(StrEnum):
    """新生 / 死亡 / 婚入 / 婚出 / 外迁 / 判刑收监 / 出国定居 / 分户 / 合户."""

    birth = "birth"
    death = "death"
    marriage_in = "marriage_in"
    marriage_out = "marriage_out"
    moved_away = "moved_away"
    imprisoned = "imprisoned"
    emigrated = "emigrated"
    split = "split"
    merge = "merge"


JOINS = frozenset({ChangeKind.birth, ChangeKind.marriage_in})
LEAVES = frozenset(
    {ChangeKind.death, ChangeKind.marriage_out, ChangeKind.moved_away, ChangeKind.imprisoned, ChangeKind.emigrated}
)
MOVES = frozenset({ChangeKind.split, ChangeKind.merge})


@dataclass(frozen=True)
class Period:
    """A membership period: from ``joined_on`` (inclusive) to ``left_on`` (exclusive, open when None)."""

    joined_on: date
    left_on: date | None


def member_on(*, period: Period, day: date) -> bool:
    """Whether a member counts in the household on ``day``; the day of death is no longer counted."""
    return period.joined_on <= day and (period.left_on is None or day < period.left_on)


def check_change_date(*, effective_date: date, today: date, joined_on: date | None = None) -> str | None:
    """Why a change date cannot be accepted, or None: not in the future, not before the member joined."""
    if effective_date > today:
        return f"effective date {effective_date} is in the future"
    if joined_on is not None and effective_date < joined_on:
        return f"effective date {effective_date} is before the member joined the household ({joined_on})"
    return None


def birth_matches(*, kind: ChangeKind, birth_date: date, effective_date: date) -> str | None:
    """A birth (新生) is recorded on the child's birth date."""
    if kind is ChangeKind.birth and birth_date != effective_date:
        return f"a birth takes effect on the birth date ({birth_date}), not {effective_date}"
    return None
