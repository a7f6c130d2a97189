"""Typed builders for test data: valid resident IDs and household bodies."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from typing import Any

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
_serial = itertools.count(1)


def check_digit(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def resident_id(
    *, region: str = "522323", born: date | None = None, sex: str = "male", serial: int | None = None
) -> str:
    """A checksum-valid 18-digit resident ID with the given birth date and sex."""
    born = born or date(1970, 1, 1) + timedelta(days=random.randint(0, 15000))
    seq = (serial if serial is not None else next(_serial)) % 500
    order = seq * 2 + (1 if sex == "male" else 0)  # the 17th digit is odd for men
    first17 = f"{region}{born:%Y%m%d}{order:03d}"
    return first17 + check_digit(first17)


def household_body(
    *, region_code: str = "522323109001", members: int = 3, hukou_number: str | None = None
) -> dict[str, Any]:
    """A registrable household: a head and ``members - 1`` relatives, all with valid IDs."""
    relations = ["head", "spouse", "child", "child", "parent", "parent", "grandchild"]
    people = []
    for i in range(members):
        sex = "male" if i % 2 == 0 else "female"
        born = date(1960 + i * 7, 1 + i % 12, 1 + i)
        people.append(
            {
                "name": f"成员{i}",
                "id_number": resident_id(born=born, sex=sex),
                "relation": relations[i % 7],
                "sex": sex,
                "birth_date": born.isoformat(),
            }
        )
    return {
        "hukou_number": hukou_number or f"HK{next(_serial):010d}{random.randint(0, 999):03d}",
        "region_code": region_code,
        "group_no": 1,
        "address": "青山镇某村一组",
        "members": people,
    }
