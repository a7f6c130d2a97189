"""Registry bulk import and GET-one-household, each as a ratio to the physical limit in the same run.

- import_vs_copy: rows/s of the registry's import job on PostgreSQL ÷ raw ``COPY`` of the same household
  and member rows into the same tables (parsing, ID checks, duplicate checks and events included on our side).
- import_vs_executemany: the same on SQLite against one raw ``executemany`` per table.
- get_vs_bare: GET /api/v1/households/{id} requests/s ÷ a bare FastAPI endpoint on the same server.
- peak_rss_mb: peak resident memory of this process (the file is streamed; memory stays flat in its size).
"""

from __future__ import annotations

import csv
import logging
import os
import random
import sqlite3
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import _common
import httpx
import psycopg
import uvicorn
from sqlalchemy.engine import make_url

from services.registry.domain.codes import CAUSE_LABELS, Cause
from services.registry.imports.job import run_import
from services.registry.imports.template import COLUMNS
from services.registry.main import SPEC, create_app
from services.registry.models import ImportJob
from shared.db import Database, upgrade

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
# A realistic spread of primary causes: illness and disability dominate the 建档立卡 archive.
CAUSE_SPREAD = {
    Cause.ILL: 42,
    Cause.DIS: 14,
    Cause.NO_CAPITAL: 10,
    Cause.NO_SKILL: 9,
    Cause.NO_LABOUR: 8,
    Cause.EDU: 7,
    Cause.DISASTER: 3,
    Cause.TRANSPORT: 2,
    Cause.SELF_MOTIVATION: 2,
    Cause.LAND_LOSS: 1,
    Cause.WATER: 1,
    Cause.OTHER: 1,
}
SIZES = {1: 12, 2: 20, 3: 24, 4: 22, 5: 14, 6: 8}  # mean ≈ 3.3 members
HEADERS = [c.header for c in COLUMNS]


def resident_id(region: str, born: date, serial: int, male: bool) -> str:
    order = (serial % 500) * 2 + (1 if male else 0)
    first17 = f"{region}{born:%Y%m%d}{order:03d}"
    return first17 + CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def villages() -> list[str]:
    path = Path(SPEC.migrations).parent / "data" / "regions_522323.csv"
    with path.open(encoding="utf-8") as fh:
        return [row["code"] for row in csv.DictReader(fh) if len(row["code"]) == 12]


def generate(path: Path, households: int, seed: int = 3) -> int:
    """A synthetic county as an import file; IDs unique by (birth date, serial); returns the member rows."""
    rng = random.Random(seed)
    codes = villages()
    causes, cause_w = list(CAUSE_SPREAD), list(CAUSE_SPREAD.values())
    sizes, size_w = list(SIZES), list(SIZES.values())
    relations = ["户主", "配偶", "子女", "子女", "父母", "孙子女"]
    members = 0
    serial = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for n in range(households):
            village = codes[n % len(codes)]
            hukou = f"{village}-{n:06d}"
            cause = CAUSE_LABELS[rng.choices(causes, cause_w)[0]]
            for i in range(rng.choices(sizes, size_w)[0]):
                serial += 1
                born = date(1940, 1, 1) + timedelta(days=(serial * 7919) % 27000)
                male = i % 2 == 0
                row = dict.fromkeys(HEADERS, "")
                row |= {
                    "户编号": hukou,
                    "区划代码": village,
                    "村民小组": str(1 + n % 9),
                    "家庭住址": f"第{1 + n % 9}组" if i == 0 else "",
                    "主要致贫原因": cause if i == 0 else "",
                    "姓名": f"成员{serial}",
                    "身份证号": resident_id("522323", born, serial // 27000, male),
                    "与户主关系": relations[min(i, 5)],
                    "性别": "男" if male else "女",
                }
                writer.writerow([row[h] for h in HEADERS])
                members += 1
    return members


def import_file(url: str, path: Path) -> float:
    """Run the registry's import job (the code behind POST /imports) and return its seconds."""
    upgrade(SPEC.migrations, url, service="registry")
    db = Database(url, service="registry")
    try:
        with db.transaction() as session:
            job = ImportJob(filename=path.name, created_by="bench", region_scope="", created_at=db.clock.now())
            session.add(job)
            session.flush()
            job_id = job.id
        copy = path.with_suffix(".run.csv")
        copy.write_bytes(path.read_bytes())  # the job removes its file when done
        with _common.Timer() as timer:
            run_import(db, job_id, copy)
        with db.reader() as session:
            done = session.get(ImportJob, job_id)
            assert done is not None and done.status == "done" and done.error_count == 0, done
        return timer.seconds
    finally:
        db.dispose()


def raw_rows(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The same households and members as plain tuples, prepared outside the timing."""
    households: dict[str, tuple[Any, ...]] = {}
    members: list[tuple[Any, ...]] = []
    today = date.today()
    with path.open(encoding="utf-8") as fh:
        for n, row in enumerate(csv.DictReader(fh)):
            hukou = row["户编号"]
            if hukou not in households:
                households[hukou] = (f"h{n}", hukou, row["区划代码"], "x", f"m{n}", today, today)
            members.append((f"m{n}", households[hukou][0], row["姓名"], row["身份证号"], "head", "male", today, today))
    return list(households.values()), members


H_SQL = "household (id, hukou_number, region_code, address, head_member_id, registered_on, valid_from"
M_SQL = "member (id, household_id, name, id_number, relation, sex, birth_date, joined_on"
H_EXTRA = (
    ", created_at, updated_at, secondary_causes, version, hukou_type, status, housing_relocation,"
    " exclusion_vehicle, exclusion_machinery, exclusion_enterprise, exclusion_family_away)"
)
M_EXTRA = ", in_hukou, co_resident, active, dropout, party_member, public_payroll, village_cadre)"


def raw_sqlite(url: str, rows: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]) -> float:
    upgrade(SPEC.migrations, url, service="registry")
    conn = sqlite3.connect(make_url(url).database or "")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    now = "2025-01-01 00:00:00"
    h_rows = [(*r, now, now, "[]", 1, "agricultural", "poor", "none", 0, 0, 0, 0) for r in rows[0]]
    m_rows = [(*r, 1, 1, 1, 0, 0, 0, 0) for r in rows[1]]
    extra_h = H_EXTRA
    extra_m = M_EXTRA
    with _common.Timer() as timer:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO {H_SQL}{extra_h} VALUES ({','.join('?' * 18)})", h_rows)
        conn.executemany(f"INSERT INTO {M_SQL}{extra_m} VALUES ({','.join('?' * 15)})", m_rows)
        conn.execute("COMMIT")
    conn.close()
    return timer.seconds


def raw_copy(url: str, rows: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]) -> float:
    upgrade(SPEC.migrations, url, service="registry")
    parsed = make_url(url)
    dsn = f"host=127.0.0.1 port={parsed.port} user={parsed.username} dbname={parsed.database}"
    now = "2025-01-01 00:00:00+00"
    extra_h = H_EXTRA
    extra_m = M_EXTRA
    with psycopg.connect(dsn) as conn, _common.Timer() as timer:
        with conn.cursor() as cur:
            with cur.copy(f"COPY {H_SQL}{extra_h} FROM STDIN") as copy:
                for r in rows[0]:
                    copy.write_row(
                        (*r, now, now, "[]", 1, "agricultural", "poor", "none", False, False, False, False)
                    )
            with cur.copy(f"COPY {M_SQL}{extra_m} FROM STDIN") as copy:
                for r in rows[1]:
                    copy.write_row((*r, True, True, True, False, False, False, False))
        conn.commit()
    return timer.seconds


def get_vs_bare(url: str, home: Path, requests: int) -> float:
    """Requests/s of GET one household ÷ requests/s of a bare endpoint served by the same uvicorn server."""
    os.environ["FUPIN_REGISTRY_DATABASE_URL"] = url
    os.environ["FUPIN_REGISTRY_RUN_RELAY"] = "false"
    os.environ["FUPIN_REGISTRY_RUN_CONSUMERS"] = "false"
    settings = _common.bench_settings(
        home, "nats://127.0.0.1:1", jwt_secret="bench-secret-0123456789abcdef0123456789", log_level="WARNING"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = create_app(stack=settings)
    body = {"id": "x" * 36, "members": [{"name": "成员", "id_number": "5223**********0035"}] * 3}

    @app.get("/bare")
    def bare() -> dict[str, Any]:
        return body

    port = _common.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    from shared.auth import issue_token

    token = issue_token(settings, subject="bench", roles=["village_cadre"], region="522323")
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}) as client:
        ids = [h["id"] for h in client.get("/api/v1/households", params={"limit": 200}).json()["items"]]
        rates = {}
        for name, route in (("bare", lambda i: "/bare"), ("get", lambda i: f"/api/v1/households/{ids[i % len(ids)]}")):
            for i in range(50):  # warm up
                client.get(route(i))
            with _common.Timer() as timer:
                for i in range(requests):
                    assert client.get(route(i)).status_code == 200
            rates[name] = requests / timer.seconds
    server.should_exit = True
    thread.join(timeout=10)
    _common.say(f"GET one household {rates['get']:.0f}/s, bare endpoint {rates['bare']:.0f}/s")
    return _common.ratio(rates["get"], rates["bare"])


def main() -> None:
    p = _common.parser("registry_import", __doc__ or "")
    p.add_argument("--households", type=int, default=None, help="households to generate (default 100000)")
    p.add_argument("--postgres", default="auto", help="server URL, 'auto' for a temporary cluster, '' to skip")
    args = p.parse_args()
    households = args.households or (3000 if args.quick else 100_000)
    result: dict[str, Any] = {"bench": "registry_import", "households": households}
    with _common.workdir("registry", keep=args.keep) as home:
        path = home / "county.csv"
        members = generate(path, households)
        result["rows"] = members
        _common.say(f"generated {households} households, {members} members")
        rows = raw_rows(path)

        ours = import_file(_common.sqlite_url(home, "import"), path)
        raw = raw_sqlite(_common.sqlite_url(home, "raw"), rows)
        _common.say(f"SQLite: import {members / ours:.0f} rows/s, raw executemany {members / raw:.0f} rows/s")
        result["import_vs_executemany"] = _common.ratio(raw, ours)

        with _common.postgres_server(args.postgres) as server:
            if server:
                ours = import_file(f"{server}/bench_import", path)
                raw = raw_copy(f"{server}/bench_raw", rows)
                _common.say(f"PostgreSQL: import {members / ours:.0f} rows/s, raw COPY {members / raw:.0f} rows/s")
                result["import_vs_copy"] = _common.ratio(raw, ours)
        del rows
        result["get_vs_bare"] = get_vs_bare(_common.sqlite_url(home, "import"), home, 300 if args.quick else 2000)
    result["peak_rss_mb"] = _common.peak_rss_mb()
    _common.emit_result(result)


if __name__ == "__main__":
    main()
