"""The identification service's own settings, from ``FUPIN_IDENTIFICATION_*``."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IdentificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUPIN_IDENTIFICATION_", extra="ignore")

    comparison_memory_mb: int = Field(
        default=1024,
        ge=64,
        description="DuckDB's memory limit for one comparison batch or file upload, in MiB; beyond it DuckDB spills"
        " to the data folder",
    )
    comparison_threads: int = Field(default=0, ge=0, le=256, description="DuckDB threads; 0: one per core")
    comparison_snapshot_parts: int = Field(
        default=0,
        ge=0,
        le=16,
        description="the registry's member snapshot of a county or wider region asked in this many parts at once,"
        " each its own stream to its own file (a township's: one request); 0: one per core",
    )


@cache
def identification_settings() -> IdentificationSettings:
    """Read once per process (a test that changes the environment calls ``cache_clear``)."""
    return IdentificationSettings()
