"""The event envelope (CloudEvents attribute names) that every domain event travels in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.ids import new_id

SUBJECT_PREFIX = "fupin"


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
        return subject_for(self.type)


def subject_for(event_type: str) -> str:
    return f"{SUBJECT_PREFIX}.{event_type}"


def replay_subject(consumer: str, event_type: str) -> str:
    """Where a replayed event goes so that only the consumer that dead-lettered it sees it again."""
    return f"{SUBJECT_PREFIX}.replay.{consumer}.{event_type}"


def dead_letter_subject(consumer: str, event_type: str) -> str:
    return f"dlq.{SUBJECT_PREFIX}.{consumer}.{event_type}"
