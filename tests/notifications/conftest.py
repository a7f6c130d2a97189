"""Notifications fixtures: the app on a real port (the gateway posts back to it), a frozen clock, the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.notifications.domain.phones import normalise_phone
from services.notifications.main import create_app
from services.notifications.models import Contact
from services.notifications.sending import Sender
from shared.clock import FrozenClock
from shared.events.envelope import Envelope
from shared.settings import StackSettings
from tests.notifications.gateway import Gateway
from tests.support.bus import publish
from tests.support.procs import wait_until
from tests.support.served import ServedApp
from tests.support.sql import Sql

TODAY = datetime(2025, 6, 16, 10, 0)
VILLAGE = "522323109001"
TOWNSHIP = "522323109"
CALLBACK_TOKEN = "gateway-callback-token-for-tests"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    g.start()
    yield g
    g.stop()


def gateway_settings(url: str) -> dict[str, Any]:
    return {
        "url": f"{url}/send",
        "body": {"mobile": "{phone}", "content": "{text}", "ref": "{message_id}"},
        "auth": {"type": "bearer", "token": "gw-secret"},
        "response": {"id": "id", "ok": "code", "ok_values": ["OK"]},
        "receipts": {"id": "id", "phone": "phone", "status": "status", "delivered": ["DELIVRD"], "ref": "ref"},
        "replies": {"id": "id", "phone": "phone", "text": "text"},
        "timeout_seconds": 2,
    }


@dataclass
class Service:
    url: str
    app: FastAPI
    sql: Sql
    stack: StackSettings

    @property
    def sender(self) -> Sender:
        return self.app.state.notifications.sender

    @property
    def db(self) -> Any:
        return self.app.state.db

    def tick(self, sender: Sender | None = None) -> int:
        return asyncio.run((sender or self.sender).tick())

    def drain(self) -> int:
        total = 0
        while sent := self.tick():
            total += sent
        return total

    def scalar(self, sql: str, **params: Any) -> Any:
        return self.sql(sql, **params)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        return self.sql.rows(sql, **params)

    def publish(self, envelope: Envelope, *, msg_id: str | None = None) -> None:
        """Put an event on the real bus, as its producer's relay would (the streams made first if need be)."""
        publish(self.stack, envelope, msg_ids=[msg_id] if msg_id else None)

    def contact(self, kind: str, ref_id: str, *, phone: str | None, name: str = "", region: str = VILLAGE) -> None:
        with self.db.transaction() as session:
            number = normalise_phone(phone) if phone else None
            session.add(
                Contact(
                    kind=kind,
                    ref_id=ref_id,
                    region_code=region,
                    name=name,
                    phone=number,
                    updated_at=self.db.clock.now(),
                )
            )

    def metric(self, name: str, fragment: str) -> float:
        for line in httpx.get(f"{self.url}/metrics", timeout=5).text.splitlines():
            if line.startswith(name) and fragment in line:
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def callback(self, name: str) -> str:
        return f"{self.url}/api/v1/{name}?token={CALLBACK_TOKEN}"


def event(event_type: str, data: dict[str, Any], *, at: datetime = TODAY) -> Envelope:
    return Envelope(
        type=event_type, source="tests", subject=str(next(iter(data.values()))), time=at.astimezone(), data=data
    )


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch, gateway: Gateway) -> Callable[..., None]:
    def apply(**overrides: str) -> None:
        env = {
            "PROVIDER": "http",
            "GATEWAY": json.dumps(gateway_settings(gateway.url)),
            "CALLBACK_TOKEN": CALLBACK_TOKEN,
            "RUN_SENDER": "false",
            "RUN_JOBS": "false",  # the tests run the periodic jobs themselves
            "RETRY_BASE_SECONDS": "30",
            "BREAKER_THRESHOLD": "3",
            "BREAKER_COOL_DOWN_SECONDS": "60",
            **overrides,
        }
        for key, value in env.items():
            monkeypatch.setenv(f"FUPIN_NOTIFICATIONS_{key}", value)

    return apply


@pytest.fixture
def start(
    database_url: Callable[[str], str],
    stack: StackSettings,
    clock: FrozenClock,
    settings_env: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., Service]]:
    """Start the service on a real port (settings overridable per test); stopped at the end."""
    db_url = database_url("notifications")
    monkeypatch.setenv("FUPIN_NOTIFICATIONS_DATABASE_URL", db_url)
    with contextlib.ExitStack() as running:
        sql = running.enter_context(Sql(db_url))

        def run(*, registry_url: str | None = None, **overrides: str) -> Service:
            settings_env(**overrides)
            peers = {"service_urls": {"registry": registry_url}, "service_call_attempts": 2} if registry_url else {}
            own = stack.model_copy(update=peers)
            app = create_app(stack=own, clock=clock)
            served = running.enter_context(ServedApp(app))
            wait_until(lambda: httpx.get(f"{served.url}/readyz", timeout=1).status_code == 200, what="ready")
            return Service(served.url, app, sql, own)

        yield run


@pytest.fixture
def svc(start: Callable[..., Service]) -> Service:
    return start()


@pytest.fixture
def registry(served_registry: ServedApp) -> ServedApp:
    return served_registry


@pytest.fixture
def beside_registry(start: Callable[..., Service], registry: ServedApp) -> Service:
    """The notifications service reading that registry over HTTP (its directory and its coverage)."""
    return start(registry_url=registry.url)
