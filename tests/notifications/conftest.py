"""Notifications fixtures: the app on a real port (the gateway posts back to it), a frozen clock, the gateway."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import nats
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, text

from services.notifications.domain.phones import normalise_phone
from services.notifications.main import create_app
from services.notifications.models import Contact
from services.notifications.sending import Sender
from shared.clock import FrozenClock
from shared.events.envelope import Envelope, subject_for
from shared.natsserver import NatsServer
from shared.settings import StackSettings
from tests.notifications.gateway import Gateway
from tests.support.ports import free_port
from tests.support.procs import wait_until
from tests.support.served import ServedApp

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
    db_url: str
    nats_url: str

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
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).scalar()
        finally:
            engine.dispose()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql), params).all())
        finally:
            engine.dispose()

    def publish(self, envelope: Envelope, *, msg_id: str | None = None) -> None:
        """Put an event on the real bus, as its producer's relay would."""

        async def go() -> None:
            nc = await nats.connect(self.nats_url)
            try:
                await nc.jetstream().publish(
                    subject_for(envelope.type),
                    envelope.model_dump_json().encode(),
                    headers={"Nats-Msg-Id": msg_id or envelope.id},
                )
            finally:
                await nc.close()

        asyncio.run(go())

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
    nats_server: NatsServer,
    settings_env: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., Service]]:
    """Start the service on a real port (settings overridable per test); stopped at the end."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    db_url = database_url("notifications")
    monkeypatch.setenv("FUPIN_NOTIFICATIONS_DATABASE_URL", db_url)

    def run(*, registry_url: str | None = None, **overrides: str) -> Service:
        settings_env(**overrides)
        peers = {"service_urls": {"registry": registry_url}, "service_call_attempts": 2} if registry_url else {}
        app = create_app(stack=stack.model_copy(update=peers), clock=clock)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(f"{url}/readyz", timeout=1).status_code == 200, what="notifications ready")
        return Service(url, app, db_url, nats_server.url)

    yield run
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=15)


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
