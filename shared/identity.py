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
    sex: Sex = "male" if int(number[16]) % 2 else "female"
    return ResidentId(number=number, birth_date=birth, sex=sex, region_code=number[:6])


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
