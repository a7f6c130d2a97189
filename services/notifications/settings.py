"""The notifications service's own settings, from ``FUPIN_NOTIFICATIONS_*``."""

from __future__ import annotations

import json
from datetime import time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notifications.domain.breaker import Breaker
from services.notifications.domain.catalog import URGENT_KINDS
from services.notifications.domain.inbound import DEFAULT_KEYWORDS
from services.notifications.domain.limits import Limit
from services.notifications.domain.quiet import QuietHours
from services.notifications.domain.retry import RetryPolicy


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUPIN_NOTIFICATIONS_", extra="ignore")

    provider: Literal["log", "http", "aliyun", "tencent"] = "log"
    gateway: str = Field(default="", description="gateway settings as JSON, or @path/to/file.json")
    callback_token: str = Field(default="", description="shared secret the gateway passes as ?token= on callbacks")
    run_sender: bool = True
    sender_poll_seconds: float = 1.0
    sender_batch: int = 50
    lease_seconds: int = 120
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    urgent_kinds: list[str] = Field(default_factory=lambda: sorted(URGENT_KINDS))
    per_number_per_minute: int = 1
    per_number_per_hour: int = 5
    per_number_per_day: int = 10
    global_per_minute: int = 600
    max_attempts: int = 5
    retry_base_seconds: float = 30
    retry_cap_seconds: float = 1800
    breaker_threshold: int = 5
    breaker_cool_down_seconds: float = 60
    no_phone_fallback: Literal["helper", "info_officer", "none"] = "helper"
    repayment_notice_days: int = Field(default=3, description="text the borrower this many days before a due date")
    keywords: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_KEYWORDS))
    registry_lookup: bool = Field(default=True, description="fetch unknown phones from the registry's REST API")

    def quiet(self) -> QuietHours:
        return QuietHours(start=self.quiet_start, end=self.quiet_end)

    def per_number(self) -> tuple[Limit, ...]:
        return (
            Limit(self.per_number_per_minute, timedelta(minutes=1)),
            Limit(self.per_number_per_hour, timedelta(hours=1)),
            Limit(self.per_number_per_day, timedelta(days=1)),
        )

    def global_limits(self) -> tuple[Limit, ...]:
        return (Limit(self.global_per_minute, timedelta(minutes=1)),)

    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base=timedelta(seconds=self.retry_base_seconds),
            cap=timedelta(seconds=self.retry_cap_seconds),
        )

    def breaker(self) -> Breaker:
        return Breaker(threshold=self.breaker_threshold, cool_down=timedelta(seconds=self.breaker_cool_down_seconds))

    @cached_property
    def gateway_config(self) -> dict[str, Any]:
        raw = self.gateway.strip()
        if raw.startswith("@"):
            raw = Path(raw[1:]).read_text()
        return json.loads(raw) if raw else {}
