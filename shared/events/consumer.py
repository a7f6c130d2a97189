"""Durable pull consumers with explicit ack, an inbox for exactly-once effects, and dead letters.

For each message: in one transaction, insert (consumer, event id) into the inbox and run the
handler; commit; then ack. A redelivered event finds its inbox row and is acked with no second
effect. A handler that keeps failing is retried with exponential backoff and, after
``consumer_max_attempts`` deliveries, published to ``dlq.fupin.<consumer>.<type>`` with the error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import insert, select
from sqlmodel import Session

from shared.db import Database
from shared.events.bus import ensure_streams
from shared.events.envelope import Envelope, dead_letter_subject, replay_subject, subject_for
from shared.events.outbox import INFRA
from shared.faults import fault_point
from shared.metrics import ServiceMetrics
from shared.settings import StackSettings

log = logging.getLogger(__name__)
INBOX = INFRA.inbox
Handler = Callable[[Session, Envelope], None]


@dataclass(frozen=True)
class Subscription:
    """A durable consumer: its name, the event types it takes, and one handler per type."""

    name: str
    handlers: dict[str, Handler] = field(default_factory=dict)

    def filter_subjects(self, prefix: str | None = None) -> list[str]:
        return [subject_for(t, prefix) for t in self.handlers] + [replay_subject(self.name, ">", prefix)]


def backoff_delay(attempt: int, settings: StackSettings) -> float:
    """Seconds to wait before delivery ``attempt + 1``: doubling from the base, capped."""
    return min(settings.consumer_backoff_seconds * 2 ** max(attempt - 1, 0), settings.consumer_backoff_max_seconds)


def already_processed(session: Session, consumer: str, event_id: str) -> bool:
    query = select(INBOX.c.event_id).where(INBOX.c.consumer == consumer, INBOX.c.event_id == event_id)
    return session.execute(query).first() is not None


class EventConsumer:
    def __init__(
        self,
        subscription: Subscription,
        db: Database,
        js: JetStreamContext,
        settings: StackSettings,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.subscription = subscription
        self.db = db
        self.js = js
        self.settings = settings
        self.metrics = metrics
        self._stopping = False

    @property
    def name(self) -> str:
        return self.subscription.name

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.name,
            name=self.name,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.settings.consumer_ack_wait_seconds,
            max_deliver=-1,  # we count attempts ourselves and dead-letter
            filter_subjects=self.subscription.filter_subjects(self.settings.subject_prefix),
            max_ack_pending=1000,
        )

    def stop(self) -> None:
        self._stopping = True

    async def run(self) -> None:
        sub = None
        while not self._stopping:
            try:
                if sub is None:
                    await ensure_streams(self.js, self.settings)  # a broker that lost its data has none
                    await self.js.add_consumer(self.settings.stream_name, self.config())
                    sub = await self.js.pull_subscribe_bind(durable=self.name, stream=self.settings.stream_name)
                try:
                    messages = await sub.fetch(batch=50, timeout=1.0)
                except (NatsTimeoutError, TimeoutError):
                    await self._report_lag(sub)
                    continue
                for msg in messages:
                    await self.handle(msg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker away or consumer deleted: rebind and go on
                log.warning("consumer %s: %s", self.name, exc)
                sub = None
                await asyncio.sleep(1.0)

    async def handle(self, msg) -> None:
        attempt = msg.metadata.num_delivered
        try:
            envelope = Envelope.model_validate_json(msg.data)
        except ValueError as exc:
            await self._dead_letter(msg, None, f"unreadable envelope: {exc}")
            return
        structlog.contextvars.bind_contextvars(event_id=envelope.id, consumer=self.name)
        try:
            applied = await asyncio.to_thread(self._apply, envelope)
        except Exception as exc:
            if attempt >= self.settings.consumer_max_attempts:
                await self._dead_letter(msg, envelope, "".join(traceback.format_exception(exc)))
            else:
                log.warning("consumer %s: event %s failed (attempt %s): %s", self.name, envelope.id, attempt, exc)
                self._count("retried")
                await msg.nak(delay=backoff_delay(attempt, self.settings))
            return
        fault_point("consumer.after_commit")
        await msg.ack_sync()
        self._count("applied" if applied else "duplicate")

    def _apply(self, envelope: Envelope) -> bool:
        handler = self.subscription.handlers.get(envelope.type)
        with self.db.transaction() as session:
            if already_processed(session, self.name, envelope.id):
                return False
            session.execute(
                insert(INBOX).values(
                    consumer=self.name,
                    event_id=envelope.id,
                    event_type=envelope.type,
                    processed_at=self.db.clock.now(),
                )
            )
            if handler is not None:
                handler(session, envelope)
        return True

    async def _dead_letter(self, msg, envelope: Envelope | None, error: str) -> None:
        event_type = envelope.type if envelope else "unknown"
        body = {
            "consumer": self.name,
            "error": error,
            "attempts": msg.metadata.num_delivered,
            "original_subject": msg.subject,
            "envelope": json.loads(msg.data) if envelope else msg.data.decode(errors="replace"),
        }
        await self.js.publish(
            dead_letter_subject(self.name, event_type, self.settings.subject_prefix),
            json.dumps(body, ensure_ascii=False).encode(),
            headers={"Nats-Msg-Id": f"dlq-{self.name}-{envelope.id if envelope else msg.metadata.sequence.stream}"},
        )
        await msg.term()
        log.error("consumer %s: event %s dead-lettered: %s", self.name, envelope.id if envelope else "?", error)
        if self.metrics:
            self.metrics.dead_letters(consumer=self.name).inc()
        self._count("dead_lettered")

    async def _report_lag(self, sub) -> None:
        if self.metrics is None:
            return
        info = await sub.consumer_info()
        self.metrics.consumer_pending(consumer=self.name).set(info.num_pending or 0)

    def _count(self, outcome: str) -> None:
        if self.metrics:
            self.metrics.events_consumed(consumer=self.name, outcome=outcome).inc()
