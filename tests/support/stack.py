"""A few services as real processes sharing one NATS, for the end-to-end event tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from shared.natsserver import NatsServer
from tests.support.procs import ServiceProcess

QUICK = {
    "FUPIN_RELAY_POLL_SECONDS": "0.1",
    "FUPIN_CONSUMER_ACK_WAIT_SECONDS": "2",
    "FUPIN_CONSUMER_BACKOFF_SECONDS": "0.1",
    "FUPIN_CONSUMER_MAX_ATTEMPTS": "3",
}


class ProcessStack:
    def __init__(self, tmp: Path, nats: NatsServer, database_url: Callable[[str], str], services: list[str]) -> None:
        self.nats = nats
        self.urls = {name: database_url(name) for name in services}
        base = {
            "FUPIN_NATS_URL": nats.url,
            "FUPIN_DATA_DIR": str(tmp / "var"),
            "FUPIN_JWT_SECRET": os.environ["FUPIN_JWT_SECRET"],
            **QUICK,
        }
        self.services = {
            name: ServiceProcess(name, {**base, f"FUPIN_{name.upper()}_DATABASE_URL": url}, tmp)
            for name, url in self.urls.items()
        }

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    def start(self, *names: str, **kwargs: Any) -> None:
        for name in names or tuple(self.services):
            self.services[name].start(**kwargs)

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()

    def scalar(self, service: str, sql: str, **params: Any) -> Any:
        engine = create_engine(self.urls[service])
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).scalar()
        finally:
            engine.dispose()

    def register(self, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        return httpx.post(f"{self['registry'].url}/api/v1/households", json=body, headers=headers, timeout=10)
