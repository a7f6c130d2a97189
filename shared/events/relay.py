"""The outbox relay: publishes unsent outbox rows to JetStream, then marks them sent.

A crash between publish and mark republishes the row; JetStream drops the copy by its
``Nats-Msg-Id`` inside the duplicate window, and consumers' inboxes drop it after that.
Rows are picked by ``sent_at IS NULL`` rather than by a high-water mark, so a transaction
that commits late with a lower sequence number is never skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from nats.js import JetStreamContext
from nats.js.errors import NoStreamResponseError, NotFoundError
from sqlalchemy import select, update

from shared.db import Database
from shared.events.bus import ensure_streams
from shared.events.envelope import subject_for
from shared.events.outbox import OUTBOX, backlog, purge_sent
from shared.faults import fault_point
from shared.jobs.locks import AdvisoryLock
from shared.metrics import ServiceMetrics
from shared.settings import StackSettings

log = logging.getLogger(__name__)
PUBLISH_TIMEOUT = 5.0
PURGE_EVERY = timedelta(hours=1)


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        settings: StackSettings,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.db = db
        self.js = js
        self.settings = settings
        self.metrics = metrics
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._last_purge = db.clock.now() - PURGE_EVERY
        self.leader = AdvisoryLock(db.engine, f"{db.service}.outbox-relay")

    def notify(self) -> None:
        """Wake the relay after a commit; safe to call from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def stop(self) -> None:
        self._stopping = True
        self.notify()
        self.leader.release()

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        failures = 0
        while not self._stopping:
            try:
                sent = await self.publish_batch()
                failures = 0
            except Exception as exc:  # the broker or the database is away: back off and retry
                failures += 1
                log.warning("outbox relay: %s", exc)
                with contextlib.suppress(Exception):
                    await self._housekeeping()  # keeps the backlog gauge true during an outage
                if isinstance(exc, NoStreamResponseError | NotFoundError):
                    with contextlib.suppress(Exception):
                        await ensure_streams(self.js, self.settings)  # the broker came back without its data
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))
                continue
            if sent >= self.settings.relay_batch:
                continue
            await self._housekeeping()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.relay_poll_seconds)

    async def publish_batch(self) -> int:
        if not await asyncio.to_thread(self.leader.try_acquire):
            return 0  # another replica relays; we stand by
        rows = await asyncio.to_thread(self._unsent)
        if not rows:
            return 0
        futures = [
            await self.js.publish_async(
                subject_for(event_type, self.settings.subject_prefix),
                payload.encode(),
                headers={"Nats-Msg-Id": event_id},
            )
            for _seq, event_id, event_type, payload in rows
        ]
        await asyncio.wait_for(asyncio.gather(*futures), PUBLISH_TIMEOUT)
        fault_point("relay.after_publish")
        await asyncio.to_thread(self._mark_sent, [row[0] for row in rows])
        if self.metrics:
            self.metrics.events_published.inc(len(rows))
        return len(rows)

    def _unsent(self) -> list[tuple[int, str, str, str]]:
        with self.db.reader() as session:
            query = (
                select(OUTBOX.c.seq, OUTBOX.c.event_id, OUTBOX.c.event_type, OUTBOX.c.payload)
                .where(OUTBOX.c.sent_at.is_(None))
                .order_by(OUTBOX.c.seq)
                .limit(self.settings.relay_batch)
            )
            return [tuple(row) for row in session.execute(query)]

    def _mark_sent(self, seqs: list[int]) -> None:
        with self.db.transaction() as session:
            session.execute(update(OUTBOX).where(OUTBOX.c.seq.in_(seqs)).values(sent_at=self.db.clock.now()))

    async def _housekeeping(self) -> None:
        await asyncio.to_thread(self._housekeeping_sync)

    def _housekeeping_sync(self) -> None:
        now = self.db.clock.now()
        if now - self._last_purge >= PURGE_EVERY:
            self._last_purge = now
            with self.db.transaction() as session:
                purge_sent(session, now=now, retention=timedelta(days=self.settings.outbox_retention_days))
        if self.metrics:
            with self.db.reader() as session:
                self.metrics.outbox_backlog.set(backlog(session))
