"""A service started as ``fupin up --workers 2`` starts it (two uvicorn worker processes on one port) serves, relays
and consumes exactly once: every worker runs the relay and the consumers, and the advisory locks let one at a time
do the work (a flock on SQLite, an advisory lock on PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from services.registry.models import HouseholdVersion
from shared.cli.stack import ROOT, service_command
from shared.clock import SHANGHAI
from shared.events.bus import connect, ensure_streams
from shared.events.envelope import Envelope, subject_for
from shared.natsserver import NatsServer
from shared.settings import StackSettings
from tests.support.builders import household_body
from tests.support.ports import free_port
from tests.support.procs import stop_process, wait_until

pytestmark = pytest.mark.integration
HOUSEHOLDS = 12
CONSUMER = "registry-household-status"
VERSIONS = HouseholdVersion.__table__.name  # type: ignore[attr-defined]


def worker_pids(pid: int) -> list[int]:
    """The uvicorn supervisor's worker processes (its spawned children; not multiprocessing's resource tracker)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            children = [int(p) for p in fh.read().split()]
    except OSError:
        return []
    workers = []
    for child in children:
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            workers.append(child)
    return workers


@pytest.fixture
def registry_two_workers(
    database_url: Callable[[str], str], nats_server: NatsServer, tmp_path: Path
) -> Iterator[tuple[str, str, StackSettings]]:
    url = database_url("registry")
    port = free_port()
    env = {
        **os.environ,
        "FUPIN_NATS_URL": nats_server.url,
        "FUPIN_DATA_DIR": str(tmp_path / "var"),
        "FUPIN_REGISTRY_DATABASE_URL": url,
        "FUPIN_RELAY_POLL_SECONDS": "0.1",
        "FUPIN_CONSUMER_ACK_WAIT_SECONDS": "2",
        "FUPIN_CONSUMER_BACKOFF_SECONDS": "0.1",
    }
    log = (tmp_path / "registry.log").open("ab")
    proc = subprocess.Popen(
        service_command("registry", "127.0.0.1", port, workers=2), cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: len(worker_pids(proc.pid)) == 2, what="two worker processes")
        wait_until(lambda: httpx.get(f"{base}/readyz", timeout=2).status_code == 200, timeout=60, what="ready")
        stack = StackSettings(nats_url=nats_server.url, jwt_secret=os.environ["FUPIN_JWT_SECRET"])
        yield base, url, stack
        assert len(worker_pids(proc.pid)) == 2, "a worker died"
    finally:
        stop_process(proc, timeout=20)
        log.close()


def scalar(url: str, sql: str, **params: Any) -> Any:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


async def _stream_ids(stack: StackSettings, subject: str) -> list[str]:
    """The envelope ids of every message on ``subject`` in the stream, duplicates included."""
    nc = await connect(stack, name="workers-test")
    try:
        js = nc.jetstream()
        info = await js.stream_info(stack.stream_name)
        ids = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                msg = await js.get_msg(stack.stream_name, seq)
            except Exception:  # a gap (deleted message)
                continue
            if msg.subject == subject:
                ids.append(Envelope.model_validate_json(msg.data or b"").id)
        return ids
    finally:
        await nc.close()


async def _publish(stack: StackSettings, sends: list[tuple[Envelope, str]]) -> None:
    nc = await connect(stack, name="identification-test")
    try:
        js = nc.jetstream()
        await ensure_streams(js, stack)
        for event, msg_id in sends:
            await js.publish(event.nats_subject, event.model_dump_json().encode(), headers={"Nats-Msg-Id": msg_id})
    finally:
        await nc.close()


async def _settled(stack: StackSettings) -> bool:
    nc = await connect(stack, name="workers-test")
    try:
        info = await nc.jetstream().consumer_info(stack.stream_name, CONSUMER)
        return info.num_pending == 0 and info.num_ack_pending == 0
    finally:
        await nc.close()


def test_two_workers_serve_relay_and_consume_exactly_once(
    registry_two_workers: tuple[str, str, StackSettings], token: Callable[..., dict[str, str]]
) -> None:
    base, url, stack = registry_two_workers
    headers = token("county_office")
    households = []
    for _ in range(HOUSEHOLDS):  # a fresh connection each: the kernel spreads them over the two workers
        body = household_body() | {"registered_on": "2024-01-10"}
        response = httpx.post(f"{base}/api/v1/households", json=body, headers=headers, timeout=10)
        assert response.status_code == 201, response.text
        households.append(response.json())
    for household in households:
        got = httpx.get(f"{base}/api/v1/households/{household['id']}", headers=headers, timeout=10)
        assert got.status_code == 200 and got.json()["hukou_number"] == household["hukou_number"]

    # Whichever worker answers /metrics reports the whole service: every scrape counts every POST.
    posted = re.compile(r'fupin_http_requests_total\{method="POST",route="/households",status="201"\} (\S+)')
    for _ in range(6):  # fresh connections: both workers answer some of these
        scraped = httpx.get(f"{base}/metrics", timeout=10).text
        assert (found := posted.search(scraped)) and float(found.group(1)) == HOUSEHOLDS, scraped[:3000]

    # Relayed once: every outbox row marked sent, and one message in the stream for each of them.
    wait_until(lambda: scalar(url, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0, what="outbox drained")
    events = scalar(url, "SELECT count(*) FROM outbox WHERE event_type = 'household.registered'")
    assert events == HOUSEHOLDS
    published = asyncio.run(_stream_ids(stack, subject_for("household.registered", stack.subject_prefix)))
    assert len(published) == len(set(published)) == HOUSEHOLDS

    # Consumed once: a decision for each household, one of them delivered twice (another message id, as a
    # republish after a lost ack would be): one new version per household, one inbox row per event.
    when = datetime(2025, 3, 1, 9, 0, tzinfo=SHANGHAI)
    decisions = [
        Envelope(
            type="household.exited",
            source="identification",
            subject=h["id"],
            time=when,
            data={"household_id": h["id"], "region_code": h["region_code"], "year": 2025, "case_id": str(uuid.uuid4())},
        )
        for h in households
    ]
    sends = [(e, e.id) for e in decisions] + [(decisions[0], str(uuid.uuid4()))]
    asyncio.run(_publish(stack, sends))
    wait_until(lambda: asyncio.run(_settled(stack)), timeout=60, what="the consumer caught up")
    for household, event in zip(households, decisions, strict=True):
        got = httpx.get(f"{base}/api/v1/households/{household['id']}", headers=headers, timeout=10).json()
        assert (got["status"], got["version"]) == ("exited", 2), got
        versions = scalar(url, f"SELECT count(*) FROM {VERSIONS} WHERE household_id = :h", h=household["id"])
        assert versions == 1
        inbox = scalar(url, "SELECT count(*) FROM inbox WHERE consumer = :c AND event_id = :e", c=CONSUMER, e=event.id)
        assert inbox == 1
