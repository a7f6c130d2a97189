"""Events as the other services publish them, sent over the test's real nats-server."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from shared.clock import SHANGHAI
from shared.events.bus import connect, ensure_streams
from shared.events.envelope import Envelope
from shared.ids import new_id
from shared.settings import StackSettings

VILLAGE = "522323109001"


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=SHANGHAI)


def event(event_type: str, subject: str, data: dict[str, Any], *, when: str = "2025-01-10", source: str) -> Envelope:
    return Envelope(type=event_type, source=source, subject=subject, time=at(when), data=data)


def decision(event_type: str, household_id: str, *, when: str) -> Envelope:
    """household.approved / exited / returned as identification publishes it."""
    data = {"household_id": household_id, "region_code": VILLAGE, "year": int(when[:4]), "case_id": new_id()}
    return event(event_type, household_id, data, when=when, source="identification")


def death(household_id: str, member_id: str, *, on: str) -> Envelope:
    """member.deceased as the registry publishes it."""
    data = {"household_id": household_id, "member_id": member_id, "change": "death", "effective_date": on}
    return event("member.deceased", household_id, data, when=on, source="registry")


def publish(stack: StackSettings, *events: Envelope, msg_ids: list[str] | None = None) -> None:
    async def send() -> None:
        nc = await connect(stack, name="funds-test-publisher")
        js = nc.jetstream()
        await ensure_streams(js, stack)
        for i, envelope in enumerate(events):
            msg_id = msg_ids[i] if msg_ids else envelope.id
            await js.publish(
                envelope.nats_subject, envelope.model_dump_json().encode(), headers={"Nats-Msg-Id": msg_id}
            )
        await nc.close()

    asyncio.run(send())
