"""The region tree (区划): province → city → county → township → village, then villager groups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    township = "township"
    village = "village"


# How many leading digits of the 12-digit code each level owns.
PREFIX_DIGITS: dict[Level, int] = {
    Level.province: 2,
    Level.city: 4,
    Level.county: 6,
    Level.township: 9,
    Level.village: 12,
}
_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class RegionCode:
    code: str  # always 12 digits
    level: Level
    parent_code: str | None


def parse_region_code(value: str) -> RegionCode:
    """A statistical division code, short (52, 5223, 522323, 522323109) or padded to 12 digits."""
    text = value.strip()
    if not _DIGITS.match(text):
        raise ValueError(f"region code {text!r} is not all digits")
    if len(text) == 12:
        text = _significant_prefix(text)
    level = next((lv for lv, n in PREFIX_DIGITS.items() if n == len(text)), None)
    if level is None:
        raise ValueError(f"region code {text!r} has {len(text)} digits; expected 2, 4, 6, 9 or 12")
    parent = _parent_prefix(level, text)
    return RegionCode(code=text.ljust(12, "0"), level=level, parent_code=parent.ljust(12, "0") if parent else None)


def prefix_of(code: str, level: Level) -> str:
    """The significant digits of a 12-digit code at its level: what scopes and filters compare."""
    return code[: PREFIX_DIGITS[level]]


def _significant_prefix(code12: str) -> str:
    for level in (Level.province, Level.city, Level.county, Level.township):
        n = PREFIX_DIGITS[level]
        if set(code12[n:]) == {"0"}:
            return code12[:n]
    return code12


def _parent_prefix(level: Level, text: str) -> str | None:
    levels = list(PREFIX_DIGITS)
    index = levels.index(level)
    return text[: PREFIX_DIGITS[levels[index - 1]]] if index else None
