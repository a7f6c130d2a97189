"""The export routes' parameters (their bodies are files: ``card`` and ``registers`` write them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

VillageParam = Annotated[str, Query(pattern=r"^\d{12}$", description="the village of the register")]
RollRegionParam = Annotated[
    str,
    Query(
        pattern=r"^(\d{6}|\d{9}|\d{12})$",
        description="a county (522323) or township (522323109) code, short or 12 digits",
    ),
]
