"""What a whole resident ID or mainland mobile number looks like in text: logs must never hold one."""

from __future__ import annotations

import re

RESIDENT_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def personal_data_in(text: str) -> re.Match[str] | None:
    """The first whole ID or mobile number in ``text``, if any."""
    return RESIDENT_ID.search(text) or MOBILE.search(text)
