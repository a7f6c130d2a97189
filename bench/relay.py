"""Outbox relay throughput as a ratio to raw JetStream publishing from Python, in the same run.

    python bench/relay.py --quick             # 5,000 events, SQLite
    python bench/relay.py                     # 50,000 events, SQLite
    python bench/relay.py --postgres auto     # also PostgreSQL, in a throwaway cluster
    python bench/relay.py --postgres postgresql+psycopg://user@host:5432   # or a server you run

Phases, all against one temporary nats-server (JetStream file store, ``sync_interval: always``):

1. raw: publish N envelopes of the same size and shape as real outbox payloads with
   ``js.publish_async`` and a ``Nats-Msg-Id`` header, pipelined like the relay (``relay_batch``
   at a time, then await that batch's acks). This is the physical limit: Python + nats-py +
   an fsyncing JetStream, with no database. It runs before and after the relay phases and the
   faster run counts, so a noisy moment makes the ratio lower, never flattering.
2. relay: N rows put in the registry database's outbox with ``shared.events.outbox.emit``
   (setup, untimed), then ``OutboxRelay.publish_batch()`` in a loop until the outbox is empty.

The stream is purged between phases and its message count checked against N after each one,
so JetStream's duplicate window never hides or skews anything.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import logging
import pstats
import random
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common
from _common import Timer, emit_result, ratio, say
from nats.js import JetStreamContext

from services.registry.main import SPEC
from shared.clock import SystemClock
from shared.db import Database, upgrade
from shared.events.bus import connect, ensure_streams
from shared.events.envelope import Envelope, subject_for
from shared.events.outbox import backlog, emit
from shared.events.relay import PUBLISH_TIMEOUT, OutboxRelay
from shared.settings import StackSettings

# "nats disconnected" at the final drain is expected here, not news.
logging.getLogger("shared.events.bus").setLevel(logging.ERROR)

EVENT_TYPE = "household.registered"
SUBJECT = subject_for(EVENT_TYPE)
INSERT_BATCH = 1000
QUICK_EVENTS = 5_000
FULL_EVENTS = 50_000


# --- data ------------------------------------------------------------------------------------


def household_data(rng: random.Random) -> dict[str, Any]:
    """A realistic ``household.registered`` data dict: 1-6 members, a 12-digit village code."""
    members = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(rng.randint(1, 6))]
    return {
        "household_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "region_code": f"5227{rng.randint(1, 30):02d}{rng.randint(1, 20):03d}{rng.randint(1, 40):03d}",
        "head_member_id": members[0],
        "member_ids": members,
        "version": 1,
    }


def raw_messages(n: int, seed: int) -> list[tuple[str, bytes]]:
    """(msg id, payload) pairs serialised exactly as ``emit`` writes outbox payloads."""
    rng = random.Random(seed)
    clock = SystemClock()
    out = []
    for _ in range(n):
        data = household_data(rng)
        envelope = Envelope(
            type=EVENT_TYPE, source="registry", subject=data["household_id"], time=clock.now(), data=data
        )
        out.append((envelope.id, envelope.model_dump_json().encode()))
    return out


# --- phases ----------------------------------------------------------------------------------


async def stream_count(js: JetStreamContext, settings: StackSettings) -> int:
    return (await js.stream_info(settings.stream_name)).state.messages


async def raw_phase(js: JetStreamContext, settings: StackSettings, messages: list[tuple[str, bytes]]) -> float:
    """Publish straight to JetStream, batched and awaited like the relay; returns events/s."""
    await js.purge_stream(settings.stream_name)
    batch = settings.relay_batch
    with Timer() as t:
        for start in range(0, len(messages), batch):
            futures = [
                await js.publish_async(SUBJECT, payload, headers={"Nats-Msg-Id": msg_id})
                for msg_id, payload in messages[start : start + batch]
            ]
            await asyncio.wait_for(asyncio.gather(*futures), PUBLISH_TIMEOUT)
    stored = await stream_count(js, settings)
    if stored != len(messages):
        raise SystemExit(f"raw phase: stream holds {stored} messages, expected {len(messages)}")
    return len(messages) / t.seconds


def fill_outbox(db: Database, n: int, seed: int) -> float:
    """Put ``n`` events in the outbox the way the registry does; returns the seconds it took."""
    rng = random.Random(seed)
    with Timer() as t:
        for start in range(0, n, INSERT_BATCH):
            with db.transaction() as session:
                for _ in range(min(INSERT_BATCH, n - start)):
                    data = household_data(rng)
                    emit(session, EVENT_TYPE, data["household_id"], data)
    return t.seconds


class Split:
    """Wall time per step of ``publish_batch``: select unsent, publish + acks, mark sent."""

    def __init__(self, relay: OutboxRelay, worker_profile: cProfile.Profile | None) -> None:
        self.select = 0.0
        self.mark = 0.0
        self.batches = 0
        self._profile = worker_profile
        # Wrap on the instance: publish_batch looks these up through self.
        relay._unsent = self._timed(relay._unsent, "select")  # type: ignore[method-assign]
        relay._mark_sent = self._timed(relay._mark_sent, "mark")  # type: ignore[method-assign]

    def _timed(self, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            if self._profile:
                self._profile.enable()
            start = time.perf_counter()
            try:
                return fn(*args)
            finally:
                setattr(self, name, getattr(self, name) + time.perf_counter() - start)
                if self._profile:
                    self._profile.disable()
                if name == "select":
                    self.batches += 1

        return wrapper


async def relay_phase(
    js: JetStreamContext,
    settings: StackSettings,
    url: str,
    n: int,
    *,
    label: str,
    profile_dir: Path | None,
) -> dict[str, Any]:
    """Fill a fresh registry outbox with ``n`` events, then time the relay draining it."""
    await js.purge_stream(settings.stream_name)
    upgrade(SPEC.migrations, url, service="registry")
    db = Database(url, service="registry")
    try:
        fill_seconds = fill_outbox(db, n, seed=2)
        say(f"  {label}: outbox filled with {n:,} rows in {fill_seconds:.1f}s (setup, not timed)")
        relay = OutboxRelay(db, js, settings)
        main_profile = cProfile.Profile() if profile_dir else None
        worker_profile = cProfile.Profile() if profile_dir else None
        split = Split(relay, worker_profile)
        sent = 0
        if main_profile:
            main_profile.enable()
        with Timer() as t:
            while True:
                published = await relay.publish_batch()
                if not published:
                    break
                sent += published
        if main_profile:
            main_profile.disable()
        with db.reader() as session:
            left = backlog(session)
        stored = await stream_count(js, settings)
        if sent != n or left or stored != n:
            raise SystemExit(f"{label}: relay sent {sent}, {left} left unsent, stream holds {stored}; expected {n}")
        if profile_dir and main_profile and worker_profile:
            report_profile(main_profile, worker_profile, profile_dir, label)
    finally:
        db.dispose()
    publish = t.seconds - split.select - split.mark
    return {
        "per_s": n / t.seconds,
        "seconds": t.seconds,
        "batches": split.batches,
        "split": {
            "select": ratio(split.select, t.seconds),
            "publish": ratio(publish, t.seconds),
            "mark": ratio(split.mark, t.seconds),
        },
    }


def report_profile(main: cProfile.Profile, worker: cProfile.Profile, folder: Path, label: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, prof in (("event-loop", main), ("db-threads", worker)):
        path = folder / f"relay-{label}-{name}.pstats"
        prof.dump_stats(path)
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
        say(f"--- cProfile {label} {name} (by own time; {path}) ---")
        say("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


# --- main ------------------------------------------------------------------------------------


async def run(args: Any, home: Path, nats_url: str, pg_url: str | None) -> dict[str, Any]:
    n = QUICK_EVENTS if args.quick else FULL_EVENTS
    if args.events:
        n = args.events
    settings = _common.bench_settings(home, nats_url)
    nc = await connect(settings, name="bench-relay")
    try:
        js = nc.jetstream()
        await ensure_streams(js, settings)
        messages = raw_messages(n, seed=1)
        payload_bytes = sum(len(p) for _, p in messages) / n
        say(f"relay benchmark: {n:,} events of ~{payload_bytes:.0f} bytes, relay_batch={settings.relay_batch}")

        # Warm the connection and the async reply subscription; not measured.
        await raw_phase(js, settings, raw_messages(min(n, 1000), seed=99))

        raw_runs = [await raw_phase(js, settings, messages)]
        say(f"  raw JetStream publish: {raw_runs[-1]:,.0f} events/s")

        profile_dir = Path(args.profile) if args.profile else None
        sqlite = await relay_phase(
            js, settings, _common.sqlite_url(home, "registry"), n, label="sqlite", profile_dir=profile_dir
        )
        say(f"  relay (SQLite): {sqlite['per_s']:,.0f} events/s in {sqlite['batches']} batches, split {sqlite['split']}")

        pg: dict[str, Any] | None = None
        if pg_url:
            url = f"{pg_url}/fupin_bench_relay"
            _common.drop_database(url)
            pg = await relay_phase(js, settings, url, n, label="postgresql", profile_dir=profile_dir)
            _common.drop_database(url)
            say(f"  relay (PostgreSQL): {pg['per_s']:,.0f} events/s in {pg['batches']} batches, split {pg['split']}")

        raw_runs.append(await raw_phase(js, settings, raw_messages(n, seed=3)))
        say(f"  raw JetStream publish (again): {raw_runs[-1]:,.0f} events/s")
    finally:
        await nc.drain()

    raw = max(raw_runs)
    result: dict[str, Any] = {
        "bench": "relay",
        "events": n,
        "batch": settings.relay_batch,
        "payload_bytes": round(payload_bytes),
        "raw_per_s": round(raw),
        "relay_per_s": round(sqlite["per_s"]),
        "relay_vs_raw": ratio(sqlite["per_s"], raw),
        "relay_split": sqlite["split"],
    }
    if pg:
        result |= {
            "relay_per_s_pg": round(pg["per_s"]),
            "relay_vs_raw_pg": ratio(pg["per_s"], raw),
            "relay_split_pg": pg["split"],
        }
    result["peak_rss_mb"] = _common.peak_rss_mb()
    result["backend"] = "sqlite+postgresql" if pg else "sqlite"
    return result


def main() -> None:
    p = _common.parser("relay", "Outbox relay throughput vs raw JetStream publishing (target relay_vs_raw >= 0.5)")
    p.add_argument(
        "--postgres",
        metavar="URL",
        help="also run the relay on PostgreSQL: a server URL without database name, or 'auto' for a throwaway cluster",
    )
    p.add_argument("--events", type=int, help="override the number of events")
    p.add_argument("--profile", metavar="DIR", help="cProfile the relay phases; stats files go to DIR")
    args = p.parse_args()
    with (
        _common.workdir("relay", keep=args.keep) as home,
        _common.temp_nats(home) as nats_server,
        _common.postgres_server(args.postgres) as pg_url,
    ):
        result = asyncio.run(run(args, home, nats_server.url, pg_url))
    emit_result(result)


if __name__ == "__main__":
    main()
