"""The export routes' parameters (their bodies are files: ``card`` and ``registers`` write them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

VillageParam = Annotated[str, Query(pattern=r"^\d{12}$", description="the village of the register")]
RollRegionParam = Annotated[str, Query(pattern=r"^\d{12}$", description="a township or county code")]
