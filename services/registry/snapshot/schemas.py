"""The bulk member snapshot's columns, in the order the file gives them, and their types in the Parquet form."""

from __future__ import annotations

PARQUET_TYPES = (
    ("member_id", "VARCHAR"),
    ("household_id", "VARCHAR"),
    ("resident_id", "VARCHAR"),
    ("region_code", "VARCHAR"),
    ("household_status", "VARCHAR"),
    ("member_active", "BOOLEAN"),
    ("registered_on", "DATE"),
    ("joined_on", "DATE"),
    ("left_on", "DATE"),
)
COLUMNS = tuple(name for name, _ in PARQUET_TYPES)
