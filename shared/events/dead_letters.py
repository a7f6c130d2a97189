"""Dead letters: list them, and replay them to the one consumer that gave up on them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared.events.envelope import replay_subject


@dataclass(frozen=True)
class DeadLetter:
    seq: int
    consumer: str
    event_id: str
    event_type: str
    error: str
    attempts: int
    envelope: dict[str, Any]


async def list_dead_letters(js: JetStreamContext, stream: str, consumer: str | None = None) -> list[DeadLetter]:
    info = await js.stream_info(stream)
    letters: list[DeadLetter] = []
    if not info.state.messages:
        return letters
    for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
        try:
            raw = await js.get_msg(stream, seq)
        except NotFoundError:
            continue  # deleted after an earlier replay
        body = json.loads(raw.data or b"{}")
        envelope = body.get("envelope") if isinstance(body.get("envelope"), dict) else {}
        letter = DeadLetter(
            seq=seq,
            consumer=body.get("consumer", ""),
            event_id=envelope.get("id", ""),
            event_type=envelope.get("type", "unknown"),
            error=body.get("error", ""),
            attempts=int(body.get("attempts", 0)),
            envelope=envelope,
        )
        if consumer is None or letter.consumer == consumer:
            letters.append(letter)
    return letters


async def replay_dead_letters(
    js: JetStreamContext, stream: str, consumer: str | None = None, prefix: str | None = None
) -> int:
    """Send each dead letter back to its consumer (its inbox still guards against double effects)."""
    replayed = 0
    for letter in await list_dead_letters(js, stream, consumer):
        if not letter.envelope:
            continue  # an unreadable envelope cannot be replayed; it stays for a person to read
        await js.publish(
            replay_subject(letter.consumer, letter.event_type, prefix),
            json.dumps(letter.envelope, ensure_ascii=False).encode(),
            headers={"Nats-Msg-Id": f"replay-{stream}-{letter.seq}"},
        )
        await js.delete_msg(stream, letter.seq)
        replayed += 1
    return replayed
