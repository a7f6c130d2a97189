"""Outbox relay throughput as a ratio to raw JetStream publishing from Python, in the same run.

    python bench/relay.py --quick             # 5,000 events, SQLite
    python bench/relay.py                     # 50,000 events, SQLite
    python bench/relay.py --postgres auto     # also PostgreSQL, in a throwaway cluster
    python bench/relay.py --postgres postgresql+psycopg://user@host:5432   # or a server you run

Against one temporary nats-server (JetStream file store, ``sync_interval: always``), per backend:

- setup (untimed): N rows put in a fresh registry database's outbox with
  ``shared.events.outbox.emit``, and N more envelopes of the same shape and size built in memory;
- then, alternately, one relay step and one raw step until both are done (the order flips
  every round), each timed on its own:
  - relay: ``OutboxRelay.publish_batch()`` (select up to ``relay_batch`` unsent rows, publish,
    await the acks, mark them sent), until it finds nothing left;
  - raw: the physical limit, Python + nats-py + an fsyncing JetStream with no database:
    ``relay_batch`` envelopes sent with ``js.publish_async`` and a ``Nats-Msg-Id`` header,
    then that batch's acks awaited, exactly as the relay pipelines them.

Every JetStream write is fsynced, so both sides are bound by the disk, which on a shared
machine is noisy from second to second: alternating batch by batch gives both sides the same
disk at the same moments, which back-to-back phases did not (raw alone swung 4x between phases).
``relay_vs_raw`` is the median over rounds of (raw seconds / relay seconds) for the same number
of events; ``relay_vs_raw_total`` is the ratio of the totals, more sensitive to bursts.

The stream is purged before each backend, and afterwards must hold exactly 2N messages (every id
distinct, so JetStream's duplicate window hides nothing); the outbox must be empty.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import logging
import os
import pstats
import random
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common  # puts the repo root on sys.path; isort keeps it above shared/services
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


# --- steps -----------------------------------------------------------------------------------


def settle() -> None:
    """Write back dirty pages left by setup, so the timed part does not pay for them in its fsyncs."""
    os.sync()


async def stream_count(js: JetStreamContext, settings: StackSettings) -> int:
    return (await js.stream_info(settings.stream_name)).state.messages


async def raw_batch(js: JetStreamContext, messages: list[tuple[str, bytes]]) -> None:
    """One batch straight to JetStream, pipelined and awaited exactly like ``publish_batch``."""
    futures = [
        await js.publish_async(SUBJECT, payload, headers={"Nats-Msg-Id": msg_id}) for msg_id, payload in messages
    ]
    await asyncio.wait_for(asyncio.gather(*futures), PUBLISH_TIMEOUT)


async def warm_up(js: JetStreamContext, settings: StackSettings) -> None:
    """Open the async-reply subscription and touch the stream's files; not measured."""
    messages = raw_messages(1000, seed=99)
    for start in range(0, len(messages), settings.relay_batch):
        await raw_batch(js, messages[start : start + settings.relay_batch])
    await js.purge_stream(settings.stream_name)


class Split:
    """Wall time inside the relay's two database calls: select unsent rows, mark them sent."""

    def __init__(self, relay: OutboxRelay, worker_profile: cProfile.Profile | None) -> None:
        self.select = 0.0
        self.mark = 0.0
        self._profile = worker_profile
        # Wrapped on the instance (shared/ is untouched): publish_batch looks these up through self.
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

        return wrapper


async def backend_phase(
    js: JetStreamContext,
    settings: StackSettings,
    url: str,
    n: int,
    *,
    label: str,
    profile_dir: Path | None,
) -> dict[str, Any]:
    """Fill a fresh registry outbox with ``n`` events, then drain it, alternating with raw batches."""
    await js.purge_stream(settings.stream_name)
    upgrade(SPEC.migrations, url, service="registry")
    db = Database(url, service="registry")
    relay: OutboxRelay | None = None
    try:
        fill_seconds = fill_outbox(db, n, seed=2)
        messages = raw_messages(n, seed=3)
        say(f"  {label}: outbox filled with {n:,} rows in {fill_seconds:.1f}s (setup, not timed)")
        relay = OutboxRelay(db, js, settings)
        main_profile = cProfile.Profile() if profile_dir else None
        worker_profile = cProfile.Profile() if profile_dir else None
        split = Split(relay, worker_profile)
        batch = settings.relay_batch
        relay_times: list[float] = []  # per publish_batch call, the last one finding nothing
        raw_times: list[float] = []
        sent = 0
        relay_done = False
        settle()
        while not relay_done or len(raw_times) * batch < n:
            # Flip the order every round so neither side always follows the other's fsyncs.
            order = ("relay", "raw") if len(raw_times) % 2 == 0 else ("raw", "relay")
            for side in order:
                if side == "relay" and not relay_done:
                    if main_profile:
                        main_profile.enable()
                    start = time.perf_counter()
                    published = await relay.publish_batch()
                    relay_times.append(time.perf_counter() - start)
                    if main_profile:
                        main_profile.disable()
                    sent += published
                    relay_done = published == 0
                elif side == "raw" and len(raw_times) * batch < n:
                    chunk = messages[len(raw_times) * batch : (len(raw_times) + 1) * batch]
                    start = time.perf_counter()
                    await raw_batch(js, chunk)
                    raw_times.append(time.perf_counter() - start)
        with db.reader() as session:
            left = backlog(session)
        stored = await stream_count(js, settings)
        if sent != n or left or stored != 2 * n:
            raise SystemExit(
                f"{label}: relay sent {sent}, {left} left unsent, stream holds {stored}; expected {n} and {2 * n}"
            )
        if profile_dir and main_profile and worker_profile:
            report_profile(main_profile, worker_profile, profile_dir, label)
    finally:
        if relay is not None:
            relay.stop()  # gives up the PostgreSQL leader lock's connection
        db.dispose()
    relay_seconds, raw_seconds = sum(relay_times), sum(raw_times)
    # Per round (same number of events on each side, seconds apart): raw time / relay time.
    # The median of these is the figure: a burst of someone else's disk writes lands in one
    # round and moves the totals, not the median. The totals' ratio is kept beside it.
    rounds = [raw / rel for raw, rel in zip(raw_times, relay_times, strict=False)]
    quartiles = statistics.quantiles(rounds, n=4) if len(rounds) > 1 else rounds * 3
    return {
        "relay_per_s": n / relay_seconds,
        "raw_per_s": n / raw_seconds,
        "relay_vs_raw": round(statistics.median(rounds), 3),
        "relay_vs_raw_total": ratio(raw_seconds, relay_seconds),
        "rounds_q1_q3": [round(quartiles[0], 3), round(quartiles[2], 3)],
        "batches": len(relay_times) - 1,
        "split": {
            "select": ratio(split.select, relay_seconds),
            "publish": ratio(relay_seconds - split.select - split.mark, relay_seconds),
            "mark": ratio(split.mark, relay_seconds),
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
        say("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


# --- main ------------------------------------------------------------------------------------


def describe(backend: str, phase: dict[str, Any]) -> str:
    split = ", ".join(f"{step} {share:.0%}" for step, share in phase["split"].items())
    q1, q3 = phase["rounds_q1_q3"]
    return (
        f"  {backend}: relay {phase['relay_per_s']:,.0f} events/s vs raw {phase['raw_per_s']:,.0f} events/s"
        f" -> median per round {phase['relay_vs_raw']:.2f} (quartiles {q1:.2f}-{q3:.2f},"
        f" totals {phase['relay_vs_raw_total']:.2f});"
        f" relay time: {split} over {phase['batches']} batches"
    )


async def run(args: Any, home: Path, nats_url: str, pg_url: str | None) -> dict[str, Any]:
    n = args.events or (QUICK_EVENTS if args.quick else FULL_EVENTS)
    settings = _common.bench_settings(home, nats_url)
    profile_dir = Path(args.profile) if args.profile else None
    nc = await connect(settings, name="bench-relay")
    try:
        js = nc.jetstream()
        await ensure_streams(js, settings)
        payload_bytes = sum(len(p) for _, p in raw_messages(100, seed=1)) / 100
        say(f"relay benchmark: {n:,} events of ~{payload_bytes:.0f} bytes, relay_batch={settings.relay_batch}")
        await warm_up(js, settings)

        sqlite = await backend_phase(
            js, settings, _common.sqlite_url(home, "registry"), n, label="sqlite", profile_dir=profile_dir
        )
        say(describe("SQLite", sqlite))

        pg: dict[str, Any] | None = None
        if pg_url:
            url = f"{pg_url}/fupin_bench_relay"
            _common.drop_database(url)
            try:
                pg = await backend_phase(js, settings, url, n, label="postgresql", profile_dir=profile_dir)
            finally:
                _common.drop_database(url)
            say(describe("PostgreSQL", pg))
    finally:
        await nc.drain()

    result: dict[str, Any] = {
        "bench": "relay",
        "events": n,
        "batch": settings.relay_batch,
        "payload_bytes": round(payload_bytes),
        "raw_per_s": round(sqlite["raw_per_s"]),
        "relay_per_s": round(sqlite["relay_per_s"]),
        "relay_vs_raw": sqlite["relay_vs_raw"],
        "relay_vs_raw_total": sqlite["relay_vs_raw_total"],
        "rounds_q1_q3": sqlite["rounds_q1_q3"],
        "relay_split": sqlite["split"],
    }
    if pg:
        result |= {
            "raw_per_s_pg": round(pg["raw_per_s"]),
            "relay_per_s_pg": round(pg["relay_per_s"]),
            "relay_vs_raw_pg": pg["relay_vs_raw"],
            "relay_vs_raw_total_pg": pg["relay_vs_raw_total"],
            "rounds_q1_q3_pg": pg["rounds_q1_q3"],
            "relay_split_pg": pg["split"],
        }
    result["peak_rss_mb"] = _common.peak_rss_mb()
    result["backend"] = "sqlite+postgresql" if pg else "sqlite"
    if profile_dir:
        result["profiled"] = True  # cProfile slows the relay side only: these ratios are not comparable
    return result


def main() -> None:
    p = _common.parser("relay", "Outbox relay throughput vs raw JetStream publishing (target relay_vs_raw >= 0.5)")
    p.add_argument(
        "--postgres",
        metavar="URL",
        help="also run on PostgreSQL: a server URL without database name (database fupin_bench_relay is "
        "created and dropped), or 'auto' for a throwaway cluster",
    )
    p.add_argument("--events", type=int, help="override the number of events")
    p.add_argument("--profile", metavar="DIR", help="cProfile the relay steps; .pstats files go to DIR")
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
