"""The request path under a real load generator: our routes against limits served by the same server process.

The registry runs as it does in ``fupin up`` (``python -m shared.serve``, access log on, relay and consumers
off so that only the request path is measured), with a dispatcher in front of it that sends ``/bench/…`` to a bare
FastAPI app in the same process and event loop (no middleware, no auth, no ORM). ``wrk`` (Debian's package, C,
installed by this script when missing and root) drives both, in interleaved rounds (the order flips each round);
the median per-round ratio is reported.

- healthz_vs_bare: our ``GET /healthz`` (the middleware, nothing else) ÷ the bare endpoint (a small dict).
- get_vs_raw: ``GET /api/v1/households/{id}`` (token, role, scope, members, categories, helpers, masking) ÷ its raw
  twin: the same two SQL statements (the service's own, compiled once) through the same driver (sqlite3 or
  psycopg, no SQLAlchemy at run time), the same JSON built by hand, masked.
- get_vs_bare: the same GET ÷ the bare endpoint (the whole gap).
- list_vs_raw: ``GET /api/v1/households?limit=50`` ÷ its raw twin, which replays the statements the real list
  ran (captured from the engine on a first request) through the driver and builds the same page by hand.
- post_vs_raw (SQLite), post_vs_raw_pg (PostgreSQL): ``POST /api/v1/households`` with 3 members, 8 clients ÷ a raw
  transaction inserting the same household, member and outbox rows (ids as the service makes them).
- workers_scaling: GET one household with ``--workers 2`` ÷ with one worker (two servers on one database, idle
  while the other is measured), 32 clients.

The check that wrk was not the bottleneck: during the bare runs the server process must be CPU-saturated
(``server_cpu_bare`` near 1 core) while wrk uses far less than its threads could (``wrk_cpu_bare``); the output
says ``client_bound`` and a line in words. CPU comes from /proc (server) and the waited child's rusage (wrk).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import _common
import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

BENCH = Path(__file__).resolve().parent
SECRET = "bench-secret-0123456789abcdef0123456789"
HZ = os.sysconf("SC_CLK_TCK")


# --- the server side (runs inside uvicorn: ``api:bench_app``) ---------------------------------------------------

_capture: ContextVar[list[tuple[str, Any]] | None] = ContextVar("bench_capture", default=None)
CAPTURED: dict[str, list[tuple[str, Any]]] = {}


class Raw:
    """The raw twins' database access: the driver itself, one connection per thread, no SQLAlchemy at run time."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.dialect = create_engine(url).dialect  # compiling only; no connection is made
        parsed = make_url(url)
        self.path = parsed.database or ""
        self.dsn = (
            ""
            if self.sqlite
            else f"host={parsed.host} port={parsed.port} user={parsed.username} dbname={parsed.database}"
            + (f" password={parsed.password}" if parsed.password else "")
        )
        self.local = threading.local()

    def conn(self) -> Any:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            if self.sqlite:
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
                for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL", "busy_timeout=30000"):
                    conn.execute(f"PRAGMA {pragma}")  # as the service's connections have them
            else:
                import psycopg

                conn = psycopg.connect(self.dsn, autocommit=True)
            self.local.conn = conn
        return conn

    def compile(self, statement: Any, **example: Any) -> tuple[str, tuple[list[str], dict[str, Any]]]:
        """A statement's SQL for this driver, the order of its parameters (qmark) and their fixed values."""
        compiled = statement.params(**example).compile(
            dialect=self.dialect, compile_kwargs={"render_postcompile": True}
        )
        fixed = {name: bind.value for name, bind in compiled.binds.items()}
        return compiled.string, (list(compiled.positiontup or fixed), fixed)

    def bind(self, params: tuple[list[str], dict[str, Any]], values: dict[str, Any]) -> Any:
        names, fixed = params
        merged = fixed | values
        return tuple(merged[n] for n in names) if self.sqlite else merged

    def rows(self, sql: str, params: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self.conn().execute(sql, params)
        names = [d[0] for d in cur.description]
        return names, cur.fetchall()


def bench_app() -> Any:
    """The registry app as ``fupin up`` runs it, with the limits at ``/bench/…`` in front of it (uvicorn factory)."""
    from sqlalchemy import event

    from services.registry.households import service
    from services.registry.households.schemas import BLOCKS, HouseholdSummary
    from services.registry.main import create_app
    from shared.ids import new_id
    from shared.masking import mask_phone, mask_resident_id

    registry = create_app()
    db = registry.state.db
    raw = Raw(db.url)

    @event.listens_for(db.read_engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured = _capture.get()
        if captured is not None and statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    limits = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    small = {"status": "ok", "service": "registry"}

    @limits.get("/bench/bare")
    async def bare() -> dict[str, str]:
        return small

    household_sql, household_params = raw.compile(service._HOUSEHOLD_READ, household_id="", day=date.today())
    members_sql, members_params = raw.compile(service._MEMBERS_READ, household_id="")
    block_of = {prefix + key: (name, key) for name, (prefix, model) in BLOCKS.items() for key in model.model_fields}
    extras = ("category_code", "category_start", "category_end", "active_helpers")

    def masked_member(names: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
        m = dict(zip(names, row, strict=True))
        m["id_number"] = mask_resident_id(m["id_number"])
        m["phone"] = mask_phone(m["phone"])
        return m

    async def inline_on_sqlite(work: Any, *args: Any) -> Any:
        """As the registry's GET does it: on the event loop on SQLite (a local WAL read never waits for a
        writer), one trip to the thread pool on PostgreSQL."""
        from starlette.concurrency import run_in_threadpool

        return work(*args) if raw.sqlite else await run_in_threadpool(work, *args)

    @limits.get("/bench/raw/households/{household_id}")
    async def raw_get(household_id: str) -> JSONResponse:
        return await inline_on_sqlite(_raw_get, household_id)

    def _raw_get(household_id: str) -> JSONResponse:
        values = {"household_id": household_id, "day": date.today().isoformat() if raw.sqlite else date.today()}
        names, rows = raw.rows(household_sql, raw.bind(household_params, values))
        if not rows:
            return JSONResponse({"detail": "not found"}, status_code=404)
        data: dict[str, Any] = {name: {} for name in BLOCKS}
        first = dict(zip(names, rows[0], strict=True))
        for column, value in first.items():
            block = block_of.get(column)
            if block is not None:
                data[block[0]][block[1]] = value
            elif column not in extras:
                data[column] = value
        m_names, m_rows = raw.rows(members_sql, raw.bind(members_params, values))
        members = [masked_member(m_names, r) for r in m_rows]
        helpers = first["active_helpers"]
        data |= {
            "members": members,
            "member_count": sum(1 for m in members if m["active"]),
            "categories": [
                {"category": r[names.index("category_code")], "start_date": r[names.index("category_start")]}
                for r in rows
                if r[names.index("category_code")] is not None
            ],
            "as_of": None,
            "active_helper_ids": sorted(helpers.split(",")) if helpers else [],
            "needs_helper": not helpers and first["status"] == "poor",
        }
        return JSONResponse(data)

    summary_fields = set(HouseholdSummary.model_fields)

    @limits.get("/bench/raw/households")
    def raw_list() -> JSONResponse:  # one trip to the thread pool, as the registry's list makes
        statements = CAPTURED["list"]
        if len(statements) != 4:
            raise RuntimeError(f"the list ran {len(statements)} statements, the raw twin replays 4: {statements}")
        names, households = raw.rows(*statements[0])
        m_names, heads = raw.rows(*statements[1])
        _, counts = raw.rows(*statements[2])
        _, helpers = raw.rows(*statements[3])
        by_id = {r[m_names.index("id")]: dict(zip(m_names, r, strict=True)) for r in heads}
        count_of, helpers_of = dict(counts), dict(helpers)  # type: ignore[arg-type]
        items = []
        for row in households:
            h = dict(zip(names, row, strict=True))
            head = by_id.get(h["head_member_id"])
            item = {k: v for k, v in h.items() if k in summary_fields}
            item |= {
                "head_name": head["name"] if head else None,
                "head_id_number": mask_resident_id(head["id_number"]) if head else None,
                "member_count": count_of.get(h["id"], 0),
                "needs_helper": h["status"] == "poor" and not helpers_of.get(h["id"]),
            }
            items.append(item)
        cut = items[:50]
        return JSONResponse({"items": cut, "next_cursor": "x" if len(items) > 50 else None})

    from services.registry.models import Household, Member

    h_columns = [c.name for c in Household.__table__.columns]
    m_columns = [c.name for c in Member.__table__.columns]
    mark = "?" if raw.sqlite else "%s"
    insert_h = f"INSERT INTO household ({', '.join(h_columns)}) VALUES ({', '.join([mark] * len(h_columns))})"
    insert_m = f"INSERT INTO member ({', '.join(m_columns)}) VALUES ({', '.join([mark] * len(m_columns))})"
    insert_o = (
        "INSERT INTO outbox (event_id, event_type, aggregate_id, payload, created_at) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})"
    )
    h_defaults, m_defaults = _defaults(Household), _defaults(Member)

    @limits.post("/bench/raw/households", status_code=201)
    async def raw_post(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        from starlette.concurrency import run_in_threadpool

        out = await run_in_threadpool(_raw_insert, body)
        return Response(
            json.dumps(out, default=str, ensure_ascii=False), status_code=201, media_type="application/json"
        )

    def _raw_insert(body: dict[str, Any]) -> dict[str, Any]:
        now = datetime.utcnow() if raw.sqlite else datetime.now().astimezone()
        stamp = now.isoformat(sep=" ") if raw.sqlite else now
        today = date.today().isoformat() if raw.sqlite else date.today()
        household_id = new_id()
        members = []
        for m in body["members"]:
            members.append(
                m_defaults
                | {k: v for k, v in m.items() if k in m_defaults}
                | {"id": new_id(), "household_id": household_id, "joined_on": today}
            )
        head = next(m["id"] for m in members if m["relation"] == "head")
        h = h_defaults | {
            "id": household_id,
            "hukou_number": body["hukou_number"],
            "region_code": body["region_code"],
            "group_no": body.get("group_no"),
            "address": body["address"],
            "head_member_id": head,
            "registered_on": today,
            "valid_from": today,
            "created_at": stamp,
            "updated_at": stamp,
        }
        event = {
            "specversion": "1.0",
            "id": new_id(),
            "type": "household.registered",
            "source": "registry",
            "subject": household_id,
            "time": now.isoformat(),
            "data": {k: h[k] for k in ("hukou_number", "region_code", "status", "head_member_id", "version")}
            | {"household_id": household_id, "member_ids": [m["id"] for m in members]},
        }
        conn = raw.conn()
        if raw.sqlite:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(insert_h, [h[c] for c in h_columns])
                conn.executemany(insert_m, [[m[c] for c in m_columns] for m in members])
                conn.execute(
                    insert_o, (event["id"], event["type"], household_id, json.dumps(event, default=str), stamp)
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        else:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(insert_h, [h[c] for c in h_columns])
                cur.executemany(insert_m, [[m[c] for c in m_columns] for m in members])
                cur.execute(insert_o, (event["id"], event["type"], household_id, json.dumps(event, default=str), stamp))
        out = {k: v for k, v in h.items() if k not in block_of}
        out["members"] = [m | {"id_number": mask_resident_id(m["id_number"]), "phone": mask_phone(m["phone"])}
                          for m in members]  # fmt: skip
        return out

    async def dispatch(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/bench/"):
            await limits(scope, receive, send)
            return
        name = None
        if scope["type"] == "http":
            name = next((v.decode() for k, v in scope["headers"] if k == b"x-bench-capture"), None)
        if name is None:
            await registry(scope, receive, send)
            return
        statements: list[tuple[str, Any]] = []
        token = _capture.set(statements)
        try:
            await registry(scope, receive, send)
        finally:
            _capture.reset(token)
        CAPTURED[name] = statements

    return dispatch


def _defaults(model: Any) -> dict[str, Any]:
    """Each column's value when the raw insert does not say: the model's default (as the ORM would), else NULL;
    lists and dicts as the JSON text the column holds."""
    from pydantic_core import PydanticUndefined

    out: dict[str, Any] = {}
    for column in model.__table__.columns:
        field = model.model_fields.get(column.name)
        value = None
        if column.default is not None and getattr(column.default, "is_scalar", False):
            value = column.default.arg
        elif field is not None and field.default_factory is not None:
            value = field.default_factory()  # type: ignore[call-arg]
        elif field is not None and field.default is not PydanticUndefined:
            value = field.default
        value = value.value if hasattr(value, "value") else value
        out[column.name] = json.dumps(value) if isinstance(value, list | dict) else value
    return out


# --- the driver side --------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk from Debian, installed when missing and root (as ``fupin test`` installs PostgreSQL)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("wrk not found: apt-get install wrk (Debian's package) and run again")
    _common.say("installing wrk (Debian package)…")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    return shutil.which("wrk") or "wrk"


def idle_seconds() -> float:
    """Seconds all cores of the machine spent idle (or waiting on I/O) since boot, from /proc/stat."""
    with open("/proc/stat") as fh:
        fields = fh.readline().split()[1:]
    return (int(fields[3]) + int(fields[4])) / HZ


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its (uvicorn worker) children, from /proc."""
    total = 0.0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            pids += [int(p) for p in fh.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / HZ
        except OSError:
            pass
    return total


class Server:
    """``python -m shared.serve api:bench_app`` as ``fupin up`` starts a service (access log on in ours)."""

    def __init__(self, home: Path, url: str, nats_url: str, *, workers: int = 1, name: str = "server") -> None:
        self.port = _common.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "FUPIN_DATA_DIR": str(home / "data"),
            "FUPIN_NATS_URL": nats_url,
            "FUPIN_JWT_SECRET": SECRET,
            "FUPIN_LOG_LEVEL": "INFO",
            "FUPIN_REGISTRY_DATABASE_URL": url,
            "FUPIN_REGISTRY_MIGRATE_ON_START": "false",
            "FUPIN_REGISTRY_RUN_RELAY": "false",
            "FUPIN_REGISTRY_RUN_CONSUMERS": "false",
            "PYTHONPATH": str(_common.ROOT),
        }
        cmd = [sys.executable, "-m", "shared.serve", "api:bench_app", "--app-dir", str(BENCH)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        if workers > 1:
            cmd += ["--workers", str(workers)]
        self.log = (home / f"{name}.log").open("ab")
        self.proc = subprocess.Popen(cmd, cwd=_common.ROOT, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.proc.returncode}; see {home / f'{name}.log'}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.2)
        if workers > 1:  # every worker answers before we measure
            time.sleep(1.5)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


_LUA_GET = """
local paths = {}
for line in io.lines("%(file)s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""

_LUA_POST = """
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  bodies = {}
  for line in io.lines("%(file)s") do bodies[#bodies + 1] = line end
  step = %(threads)d
  nxt = tonumber(args[1]) + tid
  used = nxt
end
request = function()
  local body = bodies[(nxt %% #bodies) + 1]
  used = nxt
  nxt = nxt + step
  return wrk.format("POST", "%(path)s", nil, body)
end
function done(summary, latency, requests)
  local top = 0
  for _, t in ipairs(threads) do
    local u = t:get("used")
    if u and u > top then top = u end
  end
  io.write(string.format("used-through %%d\\n", top))
end
"""


def parse_wrk(out: str) -> dict[str, Any]:
    def seconds(text: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

    got: dict[str, Any] = {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    got["p50_ms"] = round(seconds(p50.group(1)) * 1000, 2) if p50 else None
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    got["non_2xx"] = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: (.*)", out)
    got["socket_errors"] = errors.group(1) if errors else None
    used = re.search(r"used-through (\d+)", out)
    got["used_through"] = int(used.group(1)) if used else None
    got["requests"] = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return got


class Load:
    """wrk runs with the token, the CPU both sides used, and the results of each run."""

    def __init__(self, wrk: str, home: Path, token: str, duration: float) -> None:
        self.wrk, self.home, self.token, self.duration = wrk, home, token, duration

    def run(
        self, server: Server, path: str, *, connections: int = 32, threads: int = 2, script: Path | None = None,
        args: list[str] | None = None, duration: float | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        seconds = duration or self.duration
        cmd = [self.wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
        cmd += ["-H", f"Authorization: Bearer {self.token}", "-H", "Content-Type: application/json"]
        if script:
            cmd += ["-s", str(script)]
        cmd.append(server.base + path)
        if args:
            cmd += args
        server_before = cpu_seconds(server.proc.pid)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        idle_before = idle_seconds()
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode:
            raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
        got = parse_wrk(done.stdout)
        got["server_cpu"] = round((cpu_seconds(server.proc.pid) - server_before) / wall, 2)
        wrk_cpu = (children_after.ru_utime - children_before.ru_utime) + (
            children_after.ru_stime - children_before.ru_stime
        )
        got["wrk_cpu"] = round(wrk_cpu / wall, 2)
        # Cores nobody used meanwhile: near 0 means the machine was full (another job, or our own two sides).
        got["idle_cores"] = round((idle_seconds() - idle_before) / wall, 2)
        return got


def interleaved(
    load: Load, rounds: int, ours: tuple[Server, str, dict[str, Any]], limit: tuple[Server, str, dict[str, Any]],
    label: str, *, prepare: Any = None,
) -> tuple[float, dict[str, list[dict[str, Any]]]]:  # fmt: skip
    """Both sides in turn, the order flipped each round; the median per-round ratio and every run."""
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "limit": []}
    ratios = []
    for i in range(rounds):
        order = [("ours", ours), ("limit", limit)]
        if i % 2:
            order.reverse()
        got: dict[str, dict[str, Any]] = {}
        for side, (server, path, options) in order:
            if prepare:
                options = prepare(side, options)
            got[side] = load.run(server, path, **options)
            runs[side].append(got[side])
        ratios.append(got["ours"]["rate"] / got["limit"]["rate"])
    med = round(statistics.median(ratios), 3)
    o, lim = runs["ours"], runs["limit"]
    _common.say(
        f"{label}: {statistics.median(r['rate'] for r in o):,.0f}/s (p50 {o[-1]['p50_ms']} ms, server "
        f"{o[-1]['server_cpu']} cores) vs {statistics.median(r['rate'] for r in lim):,.0f}/s (p50 "
        f"{lim[-1]['p50_ms']} ms, server {lim[-1]['server_cpu']} cores); ratio {med} "
        f"(rounds {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    return med, runs


def post_bodies(path: Path, count: int, *, start: int = 0) -> None:
    """``count`` registrable households of 3 (head, spouse, child) with unique checksum-valid resident IDs, one
    JSON body a line. The IDs carry an area code (520102) that the demo county never uses, so none clashes."""
    from tests.support.builders import check_digit

    def rid(born: date, order: int) -> str:
        first17 = f"520102{born:%Y%m%d}{order:03d}"
        return first17 + check_digit(first17)

    with path.open("w", encoding="utf-8") as fh:
        for n in range(start, start + count):
            shift = timedelta(days=n // 400)
            order = (n % 400) * 2
            people = [
                ("户主", "head", "male", date(1950, 1, 1) + shift, order + 1),
                ("配偶", "spouse", "female", date(1952, 1, 1) + shift, order),
                ("子女", "child", "male", date(1980, 1, 1) + shift, order + 1),
            ]
            body = {
                "hukou_number": f"BENCH{n:09d}",
                "region_code": "522323109001",
                "group_no": 1,
                "address": "青山镇某村一组",
                "members": [
                    {
                        "name": f"王{label}{n % 97}",
                        "id_number": rid(born, o),
                        "relation": rel,
                        "sex": sex,
                        "birth_date": born.isoformat(),
                    }
                    for label, rel, sex, born, o in people
                ],
            }
            fh.write(json.dumps(body, ensure_ascii=False) + "\n")


def seed(url: str, home: Path, households: int) -> None:
    """Migrate and import the synthetic county (the registry's own import job), untimed."""
    from registry_import import import_file

    from services.registry.demo import generate

    path = home / f"seed_{households}.csv"
    if not path.exists():
        generate(path, households)
    import_file(url, path)


def post_pair(
    load: Load, server: Server, rounds: int, bodies: Path, label: str
) -> tuple[float, dict[str, list[dict[str, Any]]]]:
    """POST /households against the raw insert, 8 clients, disjoint bodies for every run."""
    offset = [0]
    real = load.home / f"post_{label}.lua"
    raw = load.home / f"post_raw_{label}.lua"
    real.write_text(_LUA_POST % {"file": bodies, "threads": 2, "path": "/api/v1/households"})
    raw.write_text(_LUA_POST % {"file": bodies, "threads": 2, "path": "/bench/raw/households"})

    def prepare(_side: str, options: dict[str, Any]) -> dict[str, Any]:
        return options | {"args": [str(offset[0])]}

    class Advancing(Load):
        def run(self, srv: Server, path: str, **options: Any) -> dict[str, Any]:  # type: ignore[override]
            got = load.run(srv, path, **options)
            offset[0] = (got["used_through"] or offset[0]) + 16  # the next run starts past every body sent
            if got["non_2xx"]:
                raise RuntimeError(f"{label} {path}: {got['non_2xx']} non-2xx responses (bodies ran out?)")
            return got

    advancing = Advancing(load.wrk, load.home, load.token, load.duration)
    options = {"connections": 8, "threads": 2}
    return interleaved(
        advancing, rounds, (server, "/api/v1/households", options | {"script": real}),
        (server, "/bench/raw/households", options | {"script": raw}), f"POST ({label})", prepare=prepare,
    )  # fmt: skip


def main() -> None:
    p = _common.parser("api", __doc__ or "")
    p.add_argument("--postgres", default="auto", help="server URL, 'auto' for a temporary cluster, '' to skip")
    p.add_argument("--households", type=int, default=None, help="households in the database (default 2000)")
    p.add_argument("--seconds", type=float, default=None, help="seconds per wrk run (3 quick, 8 full)")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (1 quick, 3 full)")
    args = p.parse_args()
    wrk = ensure_wrk()
    households = args.households or 2000
    seconds = args.seconds or (3.0 if args.quick else 8.0)
    rounds = args.rounds or (1 if args.quick else 3)
    from shared.auth import issue_token

    result: dict[str, Any] = {"bench": "api", "households": households, "seconds": seconds, "rounds": rounds}
    with _common.workdir("api", keep=args.keep) as home, _common.temp_nats(home) as nats:
        settings = _common.bench_settings(home, nats.url, jwt_secret=SECRET)
        token = issue_token(settings, subject="bench", roles=["county_office"], region="522323")
        url = _common.sqlite_url(home, "registry")
        seed(url, home, households)
        bodies = home / "bodies.jsonl"
        post_bodies(bodies, 20_000 if args.quick else 60_000)
        _common.say(f"seeded {households} households on SQLite; wrk {seconds:g} s per run, {rounds} round(s)")
        load = Load(wrk, home, token, seconds)
        one = Server(home, url, nats.url, name="server")
        servers = [one]
        try:
            headers = {"Authorization": f"Bearer {token}"}
            first = httpx.get(f"{one.base}/api/v1/households", params={"limit": 50}, headers=headers).json()
            ids = [h["id"] for h in first["items"]]
            httpx.get(
                f"{one.base}/api/v1/households", params={"limit": 50}, headers=headers | {"x-bench-capture": "list"}
            )
            real_one = httpx.get(f"{one.base}/api/v1/households/{ids[0]}", headers=headers)
            raw_one = httpx.get(f"{one.base}/bench/raw/households/{ids[0]}")
            assert real_one.status_code == 200 and raw_one.status_code == 200, (real_one.text, raw_one.text)
            assert len(httpx.get(f"{one.base}/bench/raw/households").json()["items"]) == 50
            more = httpx.get(f"{one.base}/api/v1/households", params={"limit": 200}, headers=headers).json()["items"]
            ids = [h["id"] for h in more]
            get_paths, raw_paths = home / "get.txt", home / "raw.txt"
            get_paths.write_text("".join(f"/api/v1/households/{i}\n" for i in ids))
            raw_paths.write_text("".join(f"/bench/raw/households/{i}\n" for i in ids))
            get_lua, raw_lua = home / "get.lua", home / "raw.lua"
            get_lua.write_text(_LUA_GET % {"file": get_paths})
            raw_lua.write_text(_LUA_GET % {"file": raw_paths})
            for path in ("/healthz", "/bench/bare"):  # warm up
                load.run(one, path, duration=1)
            load.run(one, "/api/v1/households/x", script=get_lua, duration=1)
            load.run(one, "/bench/raw/households/x", script=raw_lua, duration=1)

            hz, hz_runs = interleaved(load, rounds, (one, "/healthz", {}), (one, "/bench/bare", {}), "healthz vs bare")
            get_raw, get_runs = interleaved(
                load, rounds, (one, "/api/v1/households/x", {"script": get_lua}),
                (one, "/bench/raw/households/x", {"script": raw_lua}), "GET one household vs raw",
            )  # fmt: skip
            get_bare, _ = interleaved(
                load, rounds, (one, "/api/v1/households/x", {"script": get_lua}), (one, "/bench/bare", {}),
                "GET one household vs bare",
            )  # fmt: skip
            lst, list_runs = interleaved(
                load, rounds, (one, "/api/v1/households?limit=50", {}), (one, "/bench/raw/households", {}),
                "list of 50 vs raw",
            )  # fmt: skip
            post, post_runs = post_pair(load, one, rounds, bodies, "sqlite")
            result |= {
                "healthz_vs_bare": hz, "get_vs_raw": get_raw, "get_vs_bare": get_bare, "list_vs_raw": lst,
                "post_vs_raw": post,
            }  # fmt: skip
            bare_runs = hz_runs["limit"]
            result["rates_per_s"] = {
                "bare": round(statistics.median(r["rate"] for r in bare_runs)),
                "healthz": round(statistics.median(r["rate"] for r in hz_runs["ours"])),
                "get": round(statistics.median(r["rate"] for r in get_runs["ours"])),
                "get_raw": round(statistics.median(r["rate"] for r in get_runs["limit"])),
                "list": round(statistics.median(r["rate"] for r in list_runs["ours"]), 1),
                "list_raw": round(statistics.median(r["rate"] for r in list_runs["limit"]), 1),
                "post": round(statistics.median(r["rate"] for r in post_runs["ours"]), 1),
                "post_raw": round(statistics.median(r["rate"] for r in post_runs["limit"]), 1),
            }
            result["p50_ms"] = {
                "get_32": get_runs["ours"][-1]["p50_ms"], "list_32": list_runs["ours"][-1]["p50_ms"],
                "post_8": post_runs["ours"][-1]["p50_ms"],
            }  # fmt: skip
            single = load.run(one, "/api/v1/households/x", script=get_lua, connections=1, threads=1)
            result["p50_ms"]["get_1"] = single["p50_ms"]
            server_cpu = statistics.median(r["server_cpu"] for r in bare_runs)
            wrk_cpu = statistics.median(r["wrk_cpu"] for r in bare_runs)
            # The server is the bottleneck when its one process is busy all the time; wrk's two threads could
            # use two cores, so wrk well under one core means it was waiting for answers, not the other way.
            client_bound = server_cpu < 0.85 or wrk_cpu > 0.9
            result |= {"server_cpu_bare": server_cpu, "wrk_cpu_bare": wrk_cpu, "client_bound": client_bound}
            _common.say(
                f"load generator: during the bare runs the server used {server_cpu} cores and wrk {wrk_cpu}: "
                + ("wrk MAY HAVE BEEN THE BOTTLENECK" if client_bound else "the server was the bottleneck, not wrk")
            )

            two = Server(home, url, nats.url, workers=2, name="server2")
            servers.append(two)
            load.run(two, "/api/v1/households/x", script=get_lua, duration=1)
            scaling, scaling_runs = interleaved(
                load, rounds, (two, "/api/v1/households/x", {"script": get_lua}),
                (one, "/api/v1/households/x", {"script": get_lua}), "GET with 2 workers vs 1",
            )  # fmt: skip
            result["workers_scaling"] = scaling
            two_runs = scaling_runs["ours"]
            result["workers_cpu"] = {
                "two_workers_server": statistics.median(r["server_cpu"] for r in two_runs),
                "two_workers_idle_cores": statistics.median(r["idle_cores"] for r in two_runs),
                "one_worker_server": statistics.median(r["server_cpu"] for r in scaling_runs["limit"]),
            }
            _common.say(
                f"workers: 2 workers used {result['workers_cpu']['two_workers_server']} cores with "
                f"{result['workers_cpu']['two_workers_idle_cores']} cores of the machine idle meanwhile (1 worker: "
                f"{result['workers_cpu']['one_worker_server']}); a ratio under 2 with no idle core is the machine, "
                "not a lock"
            )
        finally:
            for server in servers:
                server.stop()

        with _common.postgres_server(args.postgres) as pg:
            if pg:
                pg_url = f"{pg}/bench_api"
                seed(pg_url, home, households)
                pg_bodies = home / "bodies_pg.jsonl"
                post_bodies(pg_bodies, 20_000 if args.quick else 60_000, start=100_000)
                server = Server(home, pg_url, nats.url, name="server_pg")
                try:
                    load.run(server, "/healthz", duration=1)
                    result["post_vs_raw_pg"], pg_runs = post_pair(load, server, rounds, pg_bodies, "postgresql")
                    result["rates_per_s"]["post_pg"] = round(statistics.median(r["rate"] for r in pg_runs["ours"]), 1)
                    result["rates_per_s"]["post_raw_pg"] = round(
                        statistics.median(r["rate"] for r in pg_runs["limit"]), 1
                    )
                    result["p50_ms"]["post_8_pg"] = pg_runs["ours"][-1]["p50_ms"]
                finally:
                    server.stop()
    result["backend"] = "sqlite+postgresql" if args.postgres else "sqlite"
    result["peak_rss_mb"] = _common.peak_rss_mb()
    _common.emit_result(result)


if __name__ == "__main__":
    main()
