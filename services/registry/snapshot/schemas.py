"""The bulk member snapshot's columns, in the order the file gives them."""

from __future__ import annotations

COLUMNS = (
    "member_id",
    "household_id",
    "resident_id",
    "region_code",
    "household_status",
    "member_active",
    "registered_on",
    "joined_on",
    "left_on",
)
