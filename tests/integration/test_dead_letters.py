"""A consumer that keeps failing retries with backoff, then dead-letters the event with its error; replay works."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import text
from sqlmodel import Session
from typer.testing import CliRunner

from services.identification.main import SPEC
from shared.cli import app as cli
from shared.clock import SHANGHAI
from shared.db import Database, upgrade
from shared.events.bus import connect, ensure_streams
from shared.events.consumer import EventConsumer, Subscription
from shared.events.dead_letters import list_dead_letters
from shared.events.envelope import Envelope
from shared.metrics import ServiceMetrics
from shared.settings import StackSettings

pytestmark = pytest.mark.integration


class FlakyHandler:
    """Fails until told to recover; records when each attempt came."""

    def __init__(self) -> None:
        self.healthy = False
        self.attempts: list[float] = []

    def __call__(self, session: Session, event: Envelope) -> None:
        self.attempts.append(time.monotonic())
        if not self.healthy:
            raise RuntimeError("the county dataset is unreachable")
        session.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, resource, detail, prev_hash, hash) "
                "VALUES (:at, 'test', 'handled', :r, '{}', '', :h)"
            ),
            {"at": datetime.now(SHANGHAI).replace(tzinfo=None), "r": event.id, "h": event.id},
        )


@pytest.fixture
def db(database_url) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    url = database_url("identification")
    upgrade(SPEC.migrations, url, service="identification")
    database = Database(url, service="identification")
    yield database
    database.dispose()


def envelope() -> Envelope:
    return Envelope(
        type="household.registered",
        source="registry",
        subject="h-1",
        time=datetime.now(SHANGHAI),
        data={
            "household_id": "h-1",
            "region_code": "522323109001",
            "head_member_id": "m-1",
            "member_ids": ["m-1"],
            "version": 1,
        },
    )


async def run_until(consumer: EventConsumer, done, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    task = asyncio.create_task(consumer.run())
    deadline = time.monotonic() + timeout
    try:
        while not await done():
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.05)
    finally:
        consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def handled(db: Database, event_id: str) -> int:
    with db.reader() as session:
        return session.execute(text("SELECT count(*) FROM audit_log WHERE resource = :r"), {"r": event_id}).scalar_one()


class TestDeadLetters:
    def test_retries_with_backoff_then_dead_letters_then_replays_once(self, db, stack: StackSettings, monkeypatch):
        handler = FlakyHandler()
        subscription = Subscription(name="test-flaky", handlers={"household.registered": handler})
        event = envelope()

        async def scenario() -> list:
            nc = await connect(stack, name="test")
            js = nc.jetstream()
            await ensure_streams(js, stack)
            await js.publish(event.nats_subject, event.model_dump_json().encode(), headers={"Nats-Msg-Id": event.id})
            consumer = EventConsumer(subscription, db, js, stack, metrics)

            async def dead_lettered() -> bool:
                return len(await list_dead_letters(js, stack.dlq_stream_name)) == 1

            await run_until(consumer, dead_lettered)
            letters = await list_dead_letters(js, stack.dlq_stream_name)
            await nc.close()
            return letters

        metrics = ServiceMetrics("identification")
        letters = asyncio.run(scenario())
        assert metrics.registry.get_sample_value("fupin_dead_letters_total", {"consumer": "test-flaky"}) == 1
        retried = {"consumer": "test-flaky", "outcome": "retried"}
        assert metrics.registry.get_sample_value("fupin_events_consumed_total", retried) == 2
        assert len(handler.attempts) == stack.consumer_max_attempts
        gaps = [b - a for a, b in zip(handler.attempts, handler.attempts[1:], strict=False)]
        assert gaps[0] >= stack.consumer_backoff_seconds * 0.9
        assert gaps[1] >= 2 * stack.consumer_backoff_seconds * 0.9  # the delay doubles
        [letter] = letters
        assert letter.consumer == "test-flaky"
        assert letter.event_id == event.id
        assert "the county dataset is unreachable" in letter.error
        assert letter.attempts == stack.consumer_max_attempts
        assert handled(db, event.id) == 0  # no effect, and no inbox row left behind
        with db.reader() as session:
            assert session.execute(text("SELECT count(*) FROM inbox")).scalar_one() == 0

        # The CLI replays it to this consumer only; once the cause is fixed it is applied once.
        monkeypatch.setenv("FUPIN_NATS_URL", stack.nats_url)
        from shared.settings import stack_settings

        stack_settings.cache_clear()
        result = CliRunner().invoke(cli, ["events", "dead-letters", "replay", "--consumer", "test-flaky"])
        stack_settings.cache_clear()
        assert result.exit_code == 0, result.output
        assert "1 dead letters replayed" in result.output
        handler.healthy = True

        async def after_replay() -> int:
            nc = await connect(stack, name="test")
            js = nc.jetstream()
            consumer = EventConsumer(subscription, db, js, stack)

            async def applied() -> bool:
                return handled(db, event.id) == 1

            await run_until(consumer, applied)
            remaining = len(await list_dead_letters(js, stack.dlq_stream_name))
            await nc.close()
            return remaining

        assert asyncio.run(after_replay()) == 0
        assert handled(db, event.id) == 1
