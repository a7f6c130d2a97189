"""The event envelope (CloudEvents attribute names) that every domain event travels in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.ids import new_id
from shared.settings import stack_settings


class Envelope(BaseModel):
    id: str = Field(default_factory=new_id)
    type: str = Field(description="e.g. household.registered; the NATS subject is fupin.<type>")
    source: str = Field(description="the publishing service")
    subject: str = Field(description="the aggregate's id")
    time: datetime
    datacontenttype: str = "application/json"
    schemaversion: int = 1
    data: dict[str, Any]

    @property
    def nats_subject(self) -> str:
        """Its subject under this process's stack settings."""
        return subject_for(self.type)


def _prefix(prefix: str | None) -> str:
    return prefix or stack_settings().subject_prefix


def subject_for(event_type: str, prefix: str | None = None) -> str:
    """``fupin.<type>``: ``prefix`` is the stack's ``subject_prefix`` (the process's own when not given)."""
    return f"{_prefix(prefix)}.{event_type}"


def replay_subject(consumer: str, event_type: str, prefix: str | None = None) -> str:
    """Where a replayed event goes so that only the consumer that dead-lettered it sees it again."""
    return f"{_prefix(prefix)}.replay.{consumer}.{event_type}"


def dead_letter_subject(consumer: str, event_type: str, prefix: str | None = None) -> str:
    return f"dlq.{_prefix(prefix)}.{consumer}.{event_type}"
