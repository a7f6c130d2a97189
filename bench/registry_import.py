"""Registry bulk import and GET-one-household, each as a ratio to the physical limit in the same run.

- import_vs_copy: rows/s of the registry's import job on PostgreSQL ÷ raw ``COPY`` of the same household
  and member rows into the same tables (parsing, ID checks, duplicate checks and events included on our side).
  The raw side gets its rows ready-made (the same values, 36-character time-ordered ids as the import
  writes, codes, dates and flags already converted) and times only the COPY and the commit; it runs in a
  child process, so this process's peak memory is the import's.
- import_vs_executemany: the same on SQLite against one raw ``executemany`` per table (the service's
  connection settings: WAL, synchronous=FULL, foreign keys on).
  Both are measured in interleaved rounds (the file cut into parts of whole households: import a part, then
  insert it raw, each side into its own growing database) and the median per-round ratio is reported, so a
  burst of load on a shared machine spoils one round, not the figure. --quick runs one round.
- get_vs_bare: GET /api/v1/households/{id} requests/s ÷ a bare FastAPI endpoint on the same server.
- peak_rss_mb: peak resident memory of this process, which runs the imports (the file is streamed; a
  large one is read by a parser process, whose peak is parser_peak_rss_mb).
- rss_growth_ratio: memory flat in file size. Two child processes import a CSV of N and of 3N households
  (SQLite); each reports its peak RSS above its RSS just before the import, plus the parser process's
  peak above its RSS at its start (a file of reading.PARALLEL_FROM rows or more is read in a parser
  process; rss_extra_mb is the sum). The ratio (3N's ÷ N's) is about 1 when memory does not grow with the
  file, about 3 when it grows in proportion. parser_peak_rss_mb: the parser process's own peak RSS.
- rss_growth_ratio_xlsx, rss_extra_mb_xlsx: the same for the same households as XLSX, written as Excel writes
  them (xlsxwriter, in a child process: shared strings, 村民小组 as a number, 登记日期 as a date cell). The
  XLSX reader streams the sheet; only its shared-strings table (about the text of the file's distinct
  strings) is held, so the ratio stays near 1 but a little above the CSV's.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import _common
import httpx
import psycopg
import uvicorn
import xlsxwriter
from sqlalchemy.engine import make_url

from services.registry.demo import generate
from services.registry.domain.codes import CAUSE_LABELS, HEALTH_LABELS, LABOUR_LABELS, STATUS_LABELS
from services.registry.imports import parallel
from services.registry.imports.bulk import TimeOrderedIds
from services.registry.imports.job import run_import
from services.registry.main import SPEC, create_app
from services.registry.models import ImportJob
from shared.db import Database, upgrade
from shared.metrics import peak_rss_mb, rss_mb


def to_xlsx(path: Path) -> Path:
    """The CSV as an XLSX beside it, as Excel would keep it: text as shared strings, 村民小组 as a number and
    登记日期 as a date cell (a number under a date format). xlsxwriter holds the sheet until it is closed: run
    it in a child process (mode "xlsx"), so that the bench's own memory is not the writer's."""
    target = path.with_suffix(".xlsx")
    book = xlsxwriter.Workbook(str(target))
    sheet = book.add_worksheet("户籍成员")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        headers = next(rows)
        numbers, dates = headers.index("村民小组"), headers.index("登记日期")
        for i, header in enumerate(headers):
            sheet.write_string(0, i, header)
        for r, row in enumerate(rows, start=1):
            for i, value in enumerate(row):
                if not value:
                    continue
                if i == numbers:
                    sheet.write_number(r, i, int(value))
                elif i == dates:
                    sheet.write_datetime(r, i, date.fromisoformat(value), day)
                else:
                    sheet.write_string(r, i, value)
    book.close()
    return target


def import_file(url: str, path: Path, *, before: Any = None) -> float:
    """Run the registry's import job (the code behind POST /imports) and return its seconds."""
    upgrade(SPEC.migrations, url, service="registry")
    db = Database(url, service="registry")
    try:
        with db.transaction() as session:
            job = ImportJob(filename=path.name, created_by="bench", region_scope="", created_at=db.clock.now())
            session.add(job)
            session.flush()
            job_id = job.id
        copy = path.with_name(f"{path.stem}.run{path.suffix}")
        shutil.copyfile(path, copy)  # the job removes its file when done
        if before:
            before()
        with _common.Timer() as timer:
            run_import(db, job_id, copy)
        with db.reader() as session:
            done = session.get(ImportJob, job_id)
            assert done is not None and done.status == "done" and done.error_count == 0, done
        return timer.seconds
    finally:
        db.dispose()


# The raw side's columns: everything the file says, the keys, and the columns that have no NULL default.
H_COLUMNS = (
    "id, hukou_number, region_code, group_no, address, primary_cause, head_member_id, registered_on, valid_from,"
    " housing_grade, utilities_safe_water, assurance_food, assurance_clothing, assurance_education,"
    " assurance_housing, assurance_medical, created_at, updated_at, secondary_causes, version, hukou_type, status,"
    " housing_relocation, exclusion_vehicle, exclusion_machinery, exclusion_enterprise, exclusion_family_away"
)
M_COLUMNS = (
    "id, household_id, name, id_number, relation, sex, birth_date, joined_on, labour, health, in_hukou,"
    " co_resident, active, dropout, party_member, public_payroll, village_cadre, phone"
)
RELATIONS = {"户主": "head", "配偶": "spouse", "子女": "child", "父母": "parent", "孙子女": "grandchild"}
YES_NO = {"是": True, "否": False}
LABOURS = {label: code.value for code, label in LABOUR_LABELS.items()}
HEALTHS = {label: code.value for code, label in HEALTH_LABELS.items()}
CAUSES = {label: code.value for code, label in CAUSE_LABELS.items()}
STATUSES = {label: code.value for code, label in STATUS_LABELS.items()}


def raw_rows(path: Path, now: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The same households and members as ready tuples (ids as the import makes them), prepared untimed."""
    households: dict[str, list[Any]] = {}
    members: list[tuple[Any, ...]] = []
    ids = TimeOrderedIds()
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            hukou = row["户编号"]
            member_id = ids.take(1)[0]
            if hukou not in households:
                registered = row["登记日期"]
                households[hukou] = [
                    ids.take(1)[0], hukou, row["区划代码"], int(row["村民小组"]), row["家庭住址"],
                    CAUSES[row["主要致贫原因"]], member_id, registered, registered, row["住房安全等级"][0],
                    *(YES_NO[row[h]] for h in ("饮水安全", "不愁吃", "不愁穿", "义务教育有保障", "住房安全有保障",
                                               "基本医疗有保障")),
                    now, now, "[]", 1, "agricultural", STATUSES[row["户状态"] or "贫困户"], "none", False, False,
                    False, False,
                ]  # fmt: skip
            household = households[hukou]
            born = f"{row['身份证号'][6:10]}-{row['身份证号'][10:12]}-{row['身份证号'][12:14]}"
            members.append(
                (
                    member_id, household[0], row["姓名"], row["身份证号"], RELATIONS[row["与户主关系"]],
                    "male" if row["性别"] == "男" else "female", born, household[7], LABOURS[row["劳动能力"]],
                    HEALTHS[row["健康状况"]], True, True, True, False, False, False, False, row["联系电话"] or None,
                )
            )  # fmt: skip
    return [tuple(h) for h in households.values()], members


def raw_sqlite(url: str, path: Path) -> float:
    upgrade(SPEC.migrations, url, service="registry")
    rows = raw_rows(path, "2025-01-01 00:00:00.000000")
    conn = sqlite3.connect(make_url(url).database or "", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")  # as the service's connections have it
    h_marks = ",".join("?" * len(H_COLUMNS.split(",")))
    m_marks = ",".join("?" * len(M_COLUMNS.split(",")))
    with _common.Timer() as timer:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO household ({H_COLUMNS}) VALUES ({h_marks})", rows[0])
        conn.executemany(f"INSERT INTO member ({M_COLUMNS}) VALUES ({m_marks})", rows[1])
        conn.execute("COMMIT")
    conn.close()
    return timer.seconds


def raw_copy(url: str, path: Path) -> float:
    upgrade(SPEC.migrations, url, service="registry")
    rows = raw_rows(path, "2025-01-01 00:00:00+00")
    parsed = make_url(url)
    dsn = f"host=127.0.0.1 port={parsed.port} user={parsed.username} dbname={parsed.database}"
    with psycopg.connect(dsn) as conn, _common.Timer() as timer:
        with conn.cursor() as cur:
            with cur.copy(f"COPY household ({H_COLUMNS}) FROM STDIN") as copy:
                for r in rows[0]:
                    copy.write_row(r)
            with cur.copy(f"COPY member ({M_COLUMNS}) FROM STDIN") as copy:
                for r in rows[1]:
                    copy.write_row(r)
        conn.commit()
    return timer.seconds


def child(mode: str, url: str, path: Path) -> None:
    """One measurement in this fresh process; prints its JSON (the parent reads the last line)."""
    if mode == "raw-sqlite":
        out: dict[str, Any] = {"seconds": raw_sqlite(url, path)}
    elif mode == "raw-copy":
        out = {"seconds": raw_copy(url, path)}
    elif mode == "xlsx":
        with _common.Timer() as timer:
            to_xlsx(path)
        out = {"seconds": timer.seconds}
    else:
        base: list[float] = []
        parallel.last_parser_rss_mb = None
        seconds = import_file(url, path, before=lambda: base.append(rss_mb()))
        peak = peak_rss_mb()
        out = {"seconds": seconds, "base_mb": round(base[0], 1), "peak_mb": round(peak, 1)}
        parser_base, parser_peak = parallel.last_parser_rss_mb or (0.0, 0.0)  # (0, 0): read in line
        out |= {"parser_base_mb": round(parser_base, 1), "parser_peak_mb": round(parser_peak, 1)}
    print(json.dumps(out), flush=True)


def in_child(mode: str, url: str, path: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", mode, "--url", url, "--file", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def rss_growth(home: Path, small: int, large: int, large_file: Path | None = None) -> dict[str, Any]:
    """Extra peak memory of importing N and 3N households, each in a fresh process on SQLite; as CSV, then
    the same households as XLSX."""
    extra: dict[str, dict[int, float]] = {".csv": {}, ".xlsx": {}}
    parser_peak: dict[str, dict[int, float]] = {".csv": {}, ".xlsx": {}}
    for households in (small, large):
        path = large_file if households == large and large_file else home / f"memory_{households}.csv"
        if not path.exists():
            generate(path, households)
        in_child("xlsx", "", path)
        for suffix in (".csv", ".xlsx"):
            name = f"memory_{households}{suffix.replace('.', '_')}"
            got = in_child("import", _common.sqlite_url(home, name), path.with_suffix(suffix))
            parser_grew = got["parser_peak_mb"] - got["parser_base_mb"]
            extra[suffix][households] = grew = max(got["peak_mb"] - got["base_mb"] + parser_grew, 0.1)
            parser_peak[suffix][households] = got["parser_peak_mb"]
            _common.say(
                f"memory: {households} households as {suffix[1:].upper()}, RSS {got['base_mb']:.0f} MB before the "
                f"import, peak {got['peak_mb']:.0f} MB; parser process {got['parser_base_mb']:.0f} MB at its start, "
                f"peak {got['parser_peak_mb']:.0f} MB (+{grew:.0f} MB both); import {got['seconds']:.1f} s"
            )
    csv_mb, xlsx_mb = extra[".csv"], extra[".xlsx"]
    return {
        "rss_growth_ratio": round(csv_mb[large] / csv_mb[small], 2),
        "rss_extra_mb": [round(csv_mb[small], 1), round(csv_mb[large], 1)],
        "rss_growth_ratio_xlsx": round(xlsx_mb[large] / xlsx_mb[small], 2),
        "rss_extra_mb_xlsx": [round(xlsx_mb[small], 1), round(xlsx_mb[large], 1)],
        "parser_peak_rss_mb": [round(parser_peak[".csv"][small], 1), round(parser_peak[".csv"][large], 1)],
        "parser_peak_rss_mb_xlsx": [round(parser_peak[".xlsx"][small], 1), round(parser_peak[".xlsx"][large], 1)],
        "rss_probe_households": [small, large],
    }


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


def split(path: Path, parts: int) -> list[Path]:
    """The file cut into ``parts`` files of whole households (each with the header), for interleaved rounds."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        header = next(rows)
        households = len({row[0] for row in rows})
    per_part = -(-households // parts)
    paths = [path.with_name(f"{path.stem}_{i}.csv") for i in range(parts)]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        next(rows)
        seen, last, out, writer = 0, None, None, None
        for row in rows:
            if row[0] != last:
                if seen % per_part == 0:
                    if out:
                        out.close()
                    out = paths[seen // per_part].open("w", encoding="utf-8", newline="")
                    writer = csv.writer(out)
                    writer.writerow(header)
                seen, last = seen + 1, row[0]
            writer.writerow(row)  # type: ignore[union-attr]
        if out:
            out.close()
    return paths[: -(-seen // per_part)]


def rounds(label: str, ours_url: str, raw_mode: str, raw_url: str, parts: list[Path], members: int) -> float:
    """Import each part, then insert it raw, in turn (each side into its own growing database); the median
    of the per-round ratios, so that a burst of load on the machine spoils one round, not the figure."""
    ratios, ours_total, raw_total = [], 0.0, 0.0
    for part in parts:
        ours = import_file(ours_url, part)
        raw = in_child(raw_mode, raw_url, part)["seconds"]
        ratios.append(raw / ours)
        ours_total, raw_total = ours_total + ours, raw_total + raw
    _common.say(
        f"{label}: import {members / ours_total:.0f} rows/s, raw {members / raw_total:.0f} rows/s; "
        f"per-round ratios {', '.join(f'{r:.2f}' for r in ratios)}"
    )
    return round(statistics.median(ratios), 3)


def main() -> None:
    p = _common.parser("registry_import", __doc__ or "")
    p.add_argument("--households", type=int, default=None, help="households to generate (default 100000)")
    p.add_argument("--postgres", default="auto", help="server URL, 'auto' for a temporary cluster, '' to skip")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5, 1 with --quick)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.url, Path(args.file))
        return
    households = args.households or (3000 if args.quick else 100_000)
    result: dict[str, Any] = {"bench": "registry_import", "households": households}
    with _common.workdir("registry", keep=args.keep) as home:
        path = home / "county.csv"
        members = generate(path, households)
        parts = split(path, args.rounds or (1 if args.quick else 5))
        result["rows"] = members
        result["rounds"] = len(parts)
        _common.say(f"generated {households} households, {members} members, in {len(parts)} part(s)")
        sqlite_import = _common.sqlite_url(home, "import")
        raw_sqlite_url = _common.sqlite_url(home, "raw")
        result["import_vs_executemany"] = rounds("SQLite", sqlite_import, "raw-sqlite", raw_sqlite_url, parts, members)
        with _common.postgres_server(args.postgres) as server:
            if server:
                pg_import, pg_raw = f"{server}/bench_import", f"{server}/bench_raw"
                result["import_vs_copy"] = rounds("PostgreSQL", pg_import, "raw-copy", pg_raw, parts, members)
        result["get_vs_bare"] = get_vs_bare(sqlite_import, home, 300 if args.quick else 2000)
        result["peak_rss_mb"] = _common.peak_rss_mb()
        if args.quick:
            result |= rss_growth(home, 10_000, 30_000)
        else:
            result |= rss_growth(home, households // 3, households, large_file=path)
    _common.emit_result(result)


if __name__ == "__main__":
    main()
