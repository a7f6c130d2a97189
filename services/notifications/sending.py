"""The sender (发送进程): claims due messages under a lease, sends them, records the outcome.

It runs as the service's own loop, never inside a request or an event handler's transaction. A claim takes
rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (and under SQLite's single writer) and marks them
``sending`` with a lease, so two replicas never send one row; a replica that dies mid-send leaves a lease
that runs out, and the row is claimed again. Rate limits are decided inside the claim, which PostgreSQL
serialises with a transaction-scoped advisory lock so two replicas cannot both take a number's last slot.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import or_, text
from sqlmodel import Session, col, func, select

from services.notifications.domain.breaker import STATE_VALUES, Breaker, BreakerState
from services.notifications.domain.limits import longest, next_allowed
from services.notifications.domain.quiet import release_time
from services.notifications.domain.retry import Verdict
from services.notifications.models import Message
from services.notifications.outbound import contact, opted_out, template_text
from services.notifications.providers.base import OutboundSms, Provider, SendResult
from services.notifications.settings import NotificationSettings
from shared.db import Database, is_sqlite
from shared.events.outbox import emit
from shared.masking import mask_phone

log = logging.getLogger(__name__)
CLAIM_LOCK = zlib.crc32(b"notifications.sender.claim")
DUE = ("queued", "sending")


@dataclass(frozen=True)
class Claimed:
    sms: OutboundSms
    attempts: int


class SenderMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.breaker = Gauge(
            "fupin_sms_breaker_state",
            "Gateway circuit breaker: 0 closed, 1 half-open, 2 open",
            ["provider"],
            registry=registry,
            multiprocess_mode="livemax",  # with several workers: the worst breaker of them
        )
        self.outcomes = Counter(
            "fupin_sms_sends", "Send attempts by outcome", ["provider", "outcome"], registry=registry
        )


class Sender:
    def __init__(
        self,
        db: Database,
        provider: Provider,
        settings: NotificationSettings,
        *,
        metrics: SenderMetrics | None = None,
        worker: str | None = None,
    ) -> None:
        self.db = db
        self.provider = provider
        self.settings = settings
        self.metrics = metrics
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.breaker: Breaker = settings.breaker()
        self._stopping = False
        self._show_breaker()

    def stop(self) -> None:
        self._stopping = True

    async def run(self) -> None:
        while not self._stopping:
            try:
                sent = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sender tick failed")
                sent = 0
            if not sent:
                await asyncio.sleep(self.settings.sender_poll_seconds)

    async def tick(self) -> int:
        """One round: claim what is due (as many as the breaker admits), send each, record each outcome."""
        self.breaker, admitted = self.breaker.admit(self.db.clock.now())
        self._show_breaker()
        if admitted == 0:
            return 0
        limit = self.settings.sender_batch if admitted < 0 else admitted
        claimed = await asyncio.to_thread(self.claim, limit)
        for done, item in enumerate(claimed):
            if self.breaker.state is BreakerState.open:
                await asyncio.to_thread(self.release, claimed[done:])
                return done
            result = await self.provider.send(item.sms)
            await asyncio.to_thread(self.record, item, result)
            self._judge(result)
        return len(claimed)

    def release(self, items: list[Claimed]) -> None:
        """Give back claimed rows unsent (the breaker opened mid-batch): they keep their attempts."""
        with self.db.transaction() as session:
            for item in items:
                row = session.get(Message, item.sms.message_id)
                if row is not None and row.lease_owner == self.worker and row.status == "sending":
                    row.status, row.lease_owner, row.lease_until = "queued", None, None
                    row.attempts -= 1
                    session.add(row)

    def _judge(self, result: SendResult) -> None:
        if self.metrics:
            self.metrics.outcomes.labels(provider=self.provider.name, outcome=result.verdict.value).inc()
        if result.verdict is Verdict.retry:
            self.breaker = self.breaker.failed(self.db.clock.now())
        else:
            self.breaker = self.breaker.succeeded()
        self._show_breaker()

    def _show_breaker(self) -> None:
        if self.metrics:
            self.metrics.breaker.labels(provider=self.provider.name).set(STATE_VALUES[self.breaker.state])

    # --- the claim ----------------------------------------------------------------------------------------

    def claim(self, limit: int) -> list[Claimed]:
        now = self.db.clock.now()
        with self.db.transaction() as session:
            if not is_sqlite(self.db.url):
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CLAIM_LOCK})
            query = (
                select(Message)
                .where(
                    col(Message.status).in_(DUE),
                    col(Message.not_before) <= now,
                    or_(col(Message.status) == "queued", col(Message.lease_until) < now),
                )
                .order_by(col(Message.not_before), col(Message.id))
                .limit(limit * 4)
                .with_for_update(skip_locked=True)
            )
            claimed: list[Claimed] = []
            global_sent = self._global_sent(session, now)
            for row in session.exec(query).all():
                if len(claimed) >= limit:
                    break
                if self._hold(session, row, now, global_sent):
                    continue
                row.status, row.lease_owner = "sending", self.worker
                row.lease_until = now + timedelta(seconds=self.settings.lease_seconds)
                row.attempts += 1
                row.first_sent_at = row.first_sent_at or now
                global_sent.append(now)
                session.add(row)
                claimed.append(Claimed(self._sms(session, row), row.attempts))
            session.flush()
        return claimed

    def _hold(self, session: Session, row: Message, now: datetime, global_sent: list[datetime]) -> bool:
        """Whether the row waits (quiet hours, a rate limit) or stops (no number, opted out) instead of going now."""
        if row.phone is None:
            found = contact(session, *row.recipient.split(":", 1))
            row.phone = found.phone if found else None
        if row.phone is None:
            return self._finish(session, row, "failed", "no phone on file for this recipient", now)
        if opted_out(session, row.phone):
            return self._finish(session, row, "suppressed", "the number replied TD (opted out)", now)
        wait = max(
            release_time(now=now, quiet=self.settings.quiet(), urgent=row.urgent),
            next_allowed(sent=self._number_sent(session, row, now), limits=self.settings.per_number(), now=now),
            next_allowed(sent=global_sent, limits=self.settings.global_limits(), now=now),
        )
        if wait > now:
            row.not_before = wait
            row.status, row.lease_owner, row.lease_until = "queued", None, None
            session.add(row)
            return True
        return False

    def _finish(self, session: Session, row: Message, status: str, error: str, now: datetime) -> bool:
        row.status, row.last_error, row.lease_owner, row.lease_until = status, error, None, None
        session.add(row)
        if status == "failed":
            _announce(session, "notification.failed", row)
        return True

    def _number_sent(self, session: Session, row: Message, now: datetime) -> list[datetime]:
        since = now - longest(self.settings.per_number())
        query = select(Message.first_sent_at).where(
            col(Message.phone) == row.phone, col(Message.first_sent_at) > since, col(Message.id) != row.id
        )
        return [t for t in session.exec(query).all() if t is not None]

    def _global_sent(self, session: Session, now: datetime) -> list[datetime]:
        since = now - longest(self.settings.global_limits())
        query = select(Message.first_sent_at).where(col(Message.first_sent_at) > since)
        return [t for t in session.exec(query).all() if t is not None]

    def _sms(self, session: Session, row: Message) -> OutboundSms:
        template = template_text(session, row.template_code)
        assert row.phone is not None
        return OutboundSms(
            message_id=row.id,
            phone=row.phone,
            text=row.body,
            template_code=row.template_code,
            parameters=template.parameters if template else tuple(row.params),
            params=dict(row.params),
            provider_template=(template.provider_codes.get(self.provider.name) if template else None),
        )

    # --- the outcome --------------------------------------------------------------------------------------

    def record(self, item: Claimed, result: SendResult) -> None:
        now = self.db.clock.now()
        with self.db.transaction() as session:
            row = session.get(Message, item.sms.message_id)
            if row is None or row.lease_owner != self.worker or row.status != "sending":
                log.warning("message %s: lease lost before the outcome was recorded", item.sms.message_id)
                return
            row.lease_owner, row.lease_until, row.provider = None, None, self.provider.name
            if result.verdict is Verdict.accepted:
                row.status, row.sent_at, row.last_error = "sent", now, None
                row.provider_message_id = result.provider_message_id
                _announce(session, "notification.sent", row)
            elif result.verdict is Verdict.retry and not self.settings.retry().gives_up(row.attempts):
                row.status, row.last_error = "queued", result.error
                row.not_before = now + self.settings.retry().delay(row.attempts)
            else:
                row.status, row.last_error = "failed", result.error
                _announce(session, "notification.failed", row)
            session.add(row)
        log.info("sms %s to %s: %s", item.sms.message_id, mask_phone(item.sms.phone), result.verdict.value)


def _announce(session: Session, event_type: str, row: Message) -> None:
    data = {
        "message_id": row.id,
        "cause_event_id": row.cause.removeprefix("event:") if row.cause.startswith("event:") else None,
        "recipient_masked": mask_phone(row.phone) or row.recipient.split(":", 1)[0],
        "template": row.template_code,
        "cause": row.cause,
        "kind": row.kind,
        "region_code": row.region_code,
        "status": row.status,
    }
    emit(session, event_type, row.id, data)


def backlog(session: Session) -> int:
    return session.exec(select(func.count()).where(Message.status == "queued")).one()
