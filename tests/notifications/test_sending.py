"""Events to messages to a real HTTP gateway stand-in: once per recipient, quiet hours, limits, retries, breaker."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timedelta

import httpx
import pytest

from services.notifications.outbound import Recipient, queue
from services.notifications.sending import Sender
from services.notifications.settings import NotificationSettings
from shared.clock import SHANGHAI, FrozenClock
from tests.notifications.conftest import VILLAGE, Service, event
from tests.notifications.gateway import Gateway
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration
HOUSEHOLD = "hh-0001"


def pair(svc: Service, *helpers: str) -> None:
    for helper in helpers:
        svc.publish(
            event(
                "helper.assigned",
                {
                    "helper_id": helper,
                    "household_id": HOUSEHOLD,
                    "phone_masked": "138****0000",
                    "start_date": "2025-01-01",
                    "pairing_id": f"p-{helper}",
                },
            )
        )
    wait_until(lambda: svc.scalar("SELECT count(*) FROM helperpairing") == len(helpers), what="pairings")


def burst(svc: Service, count: int, *, phone: str = "13800000001", kind: str = "household_recognised") -> None:
    """``count`` messages to one number, each with its own cause, queued as a handler queues them."""
    with svc.db.transaction() as session:
        for n in range(count):
            recipient = Recipient(key=f"helper:h{int(phone) % 9973}-{n}", region_code=VILLAGE, name="王五", phone=phone)
            queue(
                session,
                cause=f"test:{n}",
                recipient=recipient,
                kind=kind,
                template_code="household_recognised",
                params={"helper": "王五", "household": "张三户"},
                settings=NotificationSettings(),
            )


class TestEventToMessages:
    def test_one_message_per_recipient_even_when_redelivered(self, svc: Service, gateway: Gateway) -> None:
        svc.contact("helper", "h1", phone="13800000001", name="王五")
        svc.contact("helper", "h2", phone="+86 139 0000 0002", name="李四")
        svc.contact("household", HOUSEHOLD, phone="13700000003", name="张三")
        pair(svc, "h1", "h2")
        approved = event(
            "household.approved", {"household_id": HOUSEHOLD, "region_code": VILLAGE, "year": 2025, "case_id": "c1"}
        )
        svc.publish(approved)
        svc.publish(approved, msg_id="redelivered-copy")  # past JetStream's de-duplication: the inbox must hold
        wait_until(
            lambda: svc.scalar("SELECT count(*) FROM inbox WHERE event_type = 'household.approved'") == 1,
            what="event consumed",
        )
        wait_until(lambda: svc.metric("fupin_events_consumed_total", 'outcome="duplicate"') == 1, what="the copy seen")
        assert svc.scalar("SELECT count(*) FROM message") == 2
        assert svc.drain() == 2
        bodies = sorted(gateway.sent(), key=lambda b: b["mobile"])
        assert [b["mobile"] for b in bodies] == ["13800000001", "13900000002"]
        assert (
            bodies[0]["content"] == "【扶贫办】王五您好，您帮扶的张三户已识别为建档立卡贫困户，请尽快入户制定帮扶措施。"
        )
        assert gateway.requests[0].headers["Authorization"] == "Bearer gw-secret"
        assert svc.scalar("SELECT count(*) FROM message WHERE status = 'sent'") == 2
        assert svc.scalar("SELECT count(*) FROM outbox WHERE event_type = 'notification.sent'") == 2

    def test_the_same_cause_never_texts_a_person_twice(self, svc: Service) -> None:
        burst(svc, 1)
        burst(svc, 1)
        assert svc.scalar("SELECT count(*) FROM message") == 1

    def test_household_without_phone_goes_through_its_helper(self, svc: Service, gateway: Gateway) -> None:
        svc.contact("helper", "h1", phone="13800000001", name="王五")
        svc.contact("household", HOUSEHOLD, phone=None, name="张三")
        pair(svc, "h1")
        svc.publish(
            event(
                "loan.disbursed",
                {"loan_id": "L1", "borrower_household_id": HOUSEHOLD, "amount": "50000.00", "product_id": "p"},
            )
        )
        svc.publish(
            event(
                "loan.overdue", {"loan_id": "L1", "days_past_due": 31, "bucket": "31-60", "amount_overdue": "1200.00"}
            )
        )
        wait_until(lambda: svc.scalar("SELECT count(*) FROM message") == 2, what="two messages")
        rows = svc.rows("SELECT recipient, via, body FROM message ORDER BY recipient")
        assert rows[1][0] == f"household:{HOUSEHOLD}" and rows[1][1] == "helper:h1"
        assert rows[1][2].startswith("【扶贫办】请转告张三户：")
        assert "1200" not in rows[1][2] and "1200" not in rows[0][2]  # no debt amounts in an SMS


class TestWhenItGoes:
    def test_quiet_hours_defer_to_the_morning(self, svc: Service, gateway: Gateway, clock: FrozenClock) -> None:
        clock.set(datetime(2025, 6, 16, 22, 30))
        burst(svc, 1)
        assert svc.tick() == 0 and gateway.sent() == []
        clock.set(datetime(2025, 6, 17, 7, 59))
        assert svc.tick() == 0
        clock.set(datetime(2025, 6, 17, 8, 0))
        assert svc.tick() == 1 and len(gateway.sent()) == 1

    def test_urgent_kinds_go_at_night(self, svc: Service, gateway: Gateway, clock: FrozenClock) -> None:
        clock.set(datetime(2025, 6, 16, 23, 0))
        burst(svc, 1, kind="loan_overdue")
        assert svc.tick() == 1

    def test_rate_limits_hold_under_a_burst(self, svc: Service, gateway: Gateway, clock: FrozenClock) -> None:
        burst(svc, 12)
        assert svc.drain() == 1  # 1 a minute
        for _ in range(9):
            clock.advance(timedelta(minutes=1))
            svc.drain()
        assert len(gateway.sent()) == 5  # 5 an hour
        clock.advance(timedelta(hours=1))
        for _ in range(10):
            clock.advance(timedelta(minutes=1))
            svc.drain()
        assert len(gateway.sent()) == 10  # 10 a day
        clock.advance(timedelta(hours=3))
        svc.drain()
        assert len(gateway.sent()) == 10
        times = sorted(r[0] for r in svc.rows("SELECT first_sent_at FROM message WHERE first_sent_at IS NOT NULL"))
        assert len(times) == 10

    def test_global_limit(self, start, gateway: Gateway) -> None:  # type: ignore[no-untyped-def]
        svc = start(GLOBAL_PER_MINUTE="3")
        for n in range(5):
            burst(svc, 1, phone=f"1380000001{n}")
        assert svc.drain() == 3


class TestFailures:
    def test_gateway_500s_are_retried_then_succeed(self, svc: Service, gateway: Gateway, clock: FrozenClock) -> None:
        gateway.script = deque([(500, {"error": "busy"}), (502, {"error": "bad gateway"})])
        burst(svc, 1)
        assert svc.tick() == 1
        assert svc.rows("SELECT status, attempts FROM message") == [("queued", 1)]
        assert svc.tick() == 0  # waits its backoff (30 s)
        clock.advance(timedelta(seconds=30))
        assert svc.tick() == 1
        clock.advance(timedelta(seconds=59))
        assert svc.tick() == 0  # then 60 s
        clock.advance(timedelta(seconds=1))
        assert svc.tick() == 1
        assert svc.rows("SELECT status, attempts, provider_message_id FROM message") == [("sent", 3, "gw-3")]
        assert len(gateway.sent()) == 3

    def test_4xx_is_not_retried(self, svc: Service, gateway: Gateway, clock: FrozenClock) -> None:
        gateway.script = deque([(400, {"error": "bad number"})])
        burst(svc, 1)
        svc.tick()
        clock.advance(timedelta(hours=2))
        svc.drain()
        assert len(gateway.sent()) == 1
        status, attempts, error = svc.rows("SELECT status, attempts, last_error FROM message")[0]
        assert (status, attempts) == ("failed", 1) and "HTTP 400" in error
        assert svc.scalar("SELECT count(*) FROM outbox WHERE event_type = 'notification.failed'") == 1

    def test_gateway_down_opens_the_breaker_and_the_queue_waits(
        self, svc: Service, gateway: Gateway, clock: FrozenClock
    ) -> None:
        for n in range(6):
            burst(svc, 1, phone=f"1380000002{n}")
        gateway.down = True
        assert svc.tick() == 3  # threshold 3: the breaker opens, the other three stay queued unsent
        assert len(gateway.sent()) == 3
        assert svc.sender.breaker.state == "open"
        assert 'fupin_sms_breaker_state{provider="http"} 2.0' in httpx.get(f"{svc.url}/metrics").text
        clock.advance(timedelta(seconds=30))
        assert svc.tick() == 0 and len(gateway.sent()) == 3  # open: nothing goes, no attempt burnt
        assert svc.scalar("SELECT max(attempts) FROM message") == 1
        gateway.down = False
        clock.advance(timedelta(seconds=60))
        assert svc.tick() == 1  # the half-open probe
        assert svc.sender.breaker.state == "closed"
        svc.drain()
        assert svc.scalar("SELECT count(*) FROM message WHERE status = 'sent'") == 6
        assert svc.scalar("SELECT max(attempts) FROM message") == 2
        assert 'fupin_sms_breaker_state{provider="http"} 0.0' in httpx.get(f"{svc.url}/metrics").text


class TestCallbacks:
    def test_delivery_reports_update_status_once(self, svc: Service, gateway: Gateway) -> None:
        burst(svc, 1)
        svc.tick()
        message_id = svc.scalar("SELECT id FROM message")
        report = gateway.report(svc.callback("receipts"), provider_id="gw-1", phone="13800000001", ref=message_id)
        assert report.status_code == 200 and report.json()["accepted"] == 1
        again = gateway.report(svc.callback("receipts"), provider_id="gw-1", phone="13800000001", status="FAILED")
        assert again.json()["accepted"] == 0  # at least once, out of order: the first report stands
        assert svc.rows("SELECT status FROM message") == [("delivered",)]
        assert svc.scalar("SELECT count(*) FROM outbox WHERE event_type = 'notification.delivered'") == 1

    def test_callbacks_need_the_token(self, svc: Service) -> None:
        response = httpx.post(f"{svc.url}/api/v1/receipts?token=wrong", json=[])
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")

    def test_opt_out_by_reply_is_honoured(self, svc: Service, gateway: Gateway, clock: FrozenClock) -> None:
        burst(svc, 1)
        svc.tick()
        reply = httpx.post(svc.callback("inbound"), json={"id": "up-1", "phone": "+86 138 0000 0001", "text": "TD"})
        assert reply.status_code == 200
        assert svc.scalar("SELECT count(*) FROM optout WHERE phone = '13800000001'") == 1
        with svc.db.transaction() as session:
            recipient = Recipient(key="helper:later", region_code=VILLAGE, name="王五", phone="13800000001")
            queue(
                session,
                cause="test:later",
                recipient=recipient,
                kind="household_recognised",
                template_code="household_recognised",
                params={"helper": "王五", "household": "张三户"},
                settings=NotificationSettings(),
            )
        clock.advance(timedelta(hours=2))
        assert svc.drain() == 0
        assert len(gateway.sent()) == 1
        assert svc.scalar("SELECT status FROM message WHERE cause = 'test:later'") == "suppressed"

    def test_keyword_reply_is_stored_and_published(self, svc: Service) -> None:
        burst(svc, 1)
        svc.tick()
        httpx.post(svc.callback("inbound"), json={"id": "up-2", "phone": "13800000001", "text": "异议：张三家有轿车"})
        httpx.post(svc.callback("inbound"), json={"id": "up-2", "phone": "13800000001", "text": "异议：张三家有轿车"})
        assert svc.rows("SELECT kind, topic FROM inboundsms") == [("keyword", "objection")]
        assert svc.scalar("SELECT count(*) FROM outbox WHERE event_type = 'notification.reply_received'") == 1
        payload = svc.scalar("SELECT payload FROM outbox WHERE event_type = 'notification.reply_received'")
        assert "13800000001" not in payload and "张三家有轿车" in payload


class TestTwoSenders:
    def test_two_workers_send_each_row_once(self, svc: Service, gateway: Gateway) -> None:
        for n in range(20):
            burst(svc, 1, phone=f"139000000{n:02d}")
        settings = NotificationSettings(sender_batch=3)
        first = Sender(svc.db, svc.app.state.notifications.provider, settings, worker="w1")
        second = Sender(svc.db, svc.app.state.notifications.provider, settings, worker="w2")

        async def race() -> int:
            total = 0
            while sent := sum(await asyncio.gather(first.tick(), second.tick())):
                total += sent
            return total

        assert asyncio.run(race()) == 20
        refs = [body["ref"] for body in gateway.sent()]
        assert len(refs) == 20 and len(set(refs)) == 20
        assert svc.scalar("SELECT count(*) FROM message WHERE status = 'sent' AND attempts = 1") == 20


def test_the_service_runs_its_own_sender(start, gateway: Gateway) -> None:  # type: ignore[no-untyped-def]
    svc = start(RUN_SENDER="true", SENDER_POLL_SECONDS="0.1")
    burst(svc, 1)
    wait_until(lambda: len(gateway.sent()) == 1, what="the sender loop sent it")
    wait_until(lambda: svc.scalar("SELECT status FROM message") == "sent", what="recorded")


_ = SHANGHAI
