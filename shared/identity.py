"""Chinese identifiers: resident ID (居民身份证号), unified social credit code, mobile phone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

MOBILE = re.compile(r"^1[3-9]\d{9}$")
RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
Sex = Literal["male", "female"]
# GB 11643 check digit (ISO 7064 MOD 11-2): with n the first 17 digits read in base 13, (1 - 2n) mod 11 equals
# (12 - Σ(aᵢ·Wᵢ)) mod 11 for the weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 (2·13^k ≡ -Wₖ mod 11), and
# indexes this string; python-stdnum computes it the same way. One C-level int() instead of 17 products.
CHECK_CHARS = "0123456789X"
ODD = frozenset("13579")


class InvalidIdentifier(ValueError):
    """An identifier that fails its format or checksum; the message says which."""


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: Sex
    region_code: str


def parse_resident_id(value: str) -> ResidentId:
    """Validate an 18-digit resident ID (GB 11643) and read its birth date, sex and region."""
    number = value.strip().upper()
    birth, sex = resident_id_facts(number)
    return ResidentId(number=number, birth_date=birth, sex=sex, region_code=number[:6])


def resident_id_facts(number: str) -> tuple[date, Sex]:
    """Birth date and sex of an upper-case resident ID, checked as ``parse_resident_id`` checks it.

    The fast path for bulk work: the check digit and the birth date are computed here; the birth place goes
    to python-stdnum's region database once per (county code, birth year). Anything but 18 ASCII characters
    takes the general path, so the outcome and the message are python-stdnum's in every case.
    """
    if len(number) != 18 or not number.isascii() or not number[:17].isdigit() or number[17] not in CHECK_CHARS:
        return _facts_general(number)
    birth = _BIRTH_DATES.get(number[6:14]) or _birth_date(number[6:14])
    if number[17] != CHECK_CHARS[(1 - 2 * int(number[:17], 13)) % 11]:
        raise InvalidIdentifier("resident ID check digit does not match (校验码错误)")
    place = number[:10]  # county code and birth year
    place_error = _PLACES[place] if place in _PLACES else _birth_place_error(place)
    if place_error is not None:
        raise InvalidIdentifier(f"not a valid resident ID: {place_error}")
    return birth, ("male" if number[16] in ODD else "female")


def _facts_general(number: str) -> tuple[date, Sex]:
    if not RESIDENT_ID.match(number):
        raise InvalidIdentifier("not a valid 18-digit resident ID (17 digits and a digit or X)")
    try:
        birth = ric.get_birth_date(number)
    except stdnum_errors.ValidationError as exc:
        raise InvalidIdentifier("resident ID has an impossible birth date") from exc
    try:
        ric.validate(number)
    except stdnum_errors.InvalidChecksum as exc:
        raise InvalidIdentifier("resident ID check digit does not match (校验码错误)") from exc
    except stdnum_errors.ValidationError as exc:
        raise InvalidIdentifier(f"not a valid resident ID: {exc}") from exc
    except LookupError as exc:  # see _birth_place_error
        raise InvalidIdentifier(f"not a valid resident ID: {stdnum_errors.InvalidComponent()}") from exc
    return birth, ("male" if int(number[16]) % 2 else "female")


# Caches of the fast path, bounded: a file of nonsense cannot grow them without end.
_BIRTH_DATES: dict[str, date] = {}
_PLACES: dict[str, str | None] = {}
_CACHE_SIZE = 1 << 17


def _birth_date(digits: str) -> date:
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise InvalidIdentifier("resident ID has an impossible birth date") from None
    if len(_BIRTH_DATES) >= _CACHE_SIZE:
        _BIRTH_DATES.clear()
    _BIRTH_DATES[digits] = birth
    return birth


def _birth_place_error(place: str) -> str | None:
    """python-stdnum's verdict on the birth place (a county code in force in the birth year), cached."""
    try:
        ric.get_birth_place(f"{place}01010000")
        error = None
    except stdnum_errors.ValidationError as exc:
        error = str(exc)
    except LookupError:  # python-stdnum 2.2 raises KeyError for a county code its database lists without a county
        error = str(stdnum_errors.InvalidComponent())
    if len(_PLACES) >= _CACHE_SIZE:
        _PLACES.clear()
    _PLACES[place] = error
    return error


def check_consistent(resident_id: ResidentId, *, birth_date: date | None, sex: Sex | None) -> None:
    """A member's stated birth date and sex must agree with what the ID number encodes."""
    if birth_date is not None and birth_date != resident_id.birth_date:
        raise InvalidIdentifier(f"birth date {birth_date} does not match the resident ID ({resident_id.birth_date})")
    if sex is not None and sex != resident_id.sex:
        raise InvalidIdentifier(f"sex {sex} does not match the resident ID ({resident_id.sex})")


def validate_credit_code(value: str) -> str:
    """Validate an 18-character unified social credit code (统一社会信用代码)."""
    try:
        return uscc.validate(value.strip().upper())
    except stdnum_errors.ValidationError as exc:
        raise InvalidIdentifier(f"not a valid unified social credit code: {exc}") from exc


def validate_mobile(value: str) -> str:
    number = re.sub(r"[\s-]", "", value)
    number = number.removeprefix("+86")
    if not MOBILE.match(number):
        raise InvalidIdentifier("not a mainland mobile number (11 digits starting 13–19)")
    return number
