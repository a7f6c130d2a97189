"""Events put on the test's real JetStream as their producers' relays put them (``Nats-Msg-Id`` = event id)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from shared.clock import SHANGHAI
from shared.events.bus import connect, ensure_streams
from shared.events.envelope import Envelope, subject_for
from shared.ids import new_id
from shared.settings import StackSettings

VILLAGE = "522323109001"  # 下街社区, 青山镇, 普安县


def at(day: str) -> datetime:
    """Nine in the morning of ``day`` in Beijing time."""
    return datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=SHANGHAI)


def event(event_type: str, subject: str, data: dict[str, Any], *, when: str = "2025-01-10", source: str) -> Envelope:
    return Envelope(type=event_type, source=source, subject=subject, time=at(when), data=data)


def decision(event_type: str, household_id: str, *, when: str, region: str = VILLAGE) -> Envelope:
    """household.approved / exited / returned as identification publishes it."""
    data = {"household_id": household_id, "region_code": region, "year": int(when[:4]), "case_id": new_id()}
    return event(event_type, household_id, data, when=when, source="identification")


def publish(stack: StackSettings, *events: Envelope, msg_ids: list[str] | None = None) -> None:
    """Publish on the stack's subjects; ``msg_ids`` overrides the de-duplication ids (a redelivery test)."""

    async def send() -> None:
        nc = await connect(stack, name="test-publisher")
        try:
            js = nc.jetstream()
            await ensure_streams(js, stack)
            for i, envelope in enumerate(events):
                subject = subject_for(envelope.type, stack.subject_prefix)
                msg_id = msg_ids[i] if msg_ids else envelope.id
                await js.publish(subject, envelope.model_dump_json().encode(), headers={"Nats-Msg-Id": msg_id})
        finally:
            await nc.close()

    asyncio.run(send())


def death(household_id: str, member_id: str, *, on: str) -> Envelope:
    """member.deceased as the registry publishes it."""
    data = {"household_id": household_id, "member_id": member_id, "change": "death", "effective_date": on}
    return event("member.deceased", household_id, data, when=on, source="registry")
