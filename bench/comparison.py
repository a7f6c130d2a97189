"""County data comparison (大数据比对) at province scale, as ratios to a bare DuckDB join measured in the same run.

Setup (untimed): a registry database holding ``--households`` households (1,000,000, ≈3.3 million members; 10,000
with --quick) generated as ``services/registry/demo.py`` generates them (the same seed, the same people) and
written raw, one ``executemany`` per chunk, as ``bench/registry_import.py``'s raw side writes them. Five
department files as Parquet written by DuckDB, 10 million rows together (100,000 with --quick): vehicles,
real estate, businesses, public payroll, deaths. Most rows hold valid resident IDs of people outside the
registry (other provinces' area codes, right check digit); planted among them are rows holding members' IDs
whose evidence meets the kind's conditions (the hits, ≈20,000), rows holding members' IDs whose evidence fails
them (decoys: a motorbike, a flat bought in 2015, a wage of exactly 3,000.00, a death before registration) and a
few rows with a wrong check digit (rejects). The registry and identification services run as processes
(``tests.support.procs.ServiceProcess``) with a real nats-server; the dataset kinds are registered and the files
uploaded through identification's API (each upload prepared by the service), then one batch over the whole
province (``52``) runs through ``POST /api/v1/comparisons``.

Measured:
- the batch, from the POST to ``status=done`` (registry snapshot streamed over HTTP, loaded into DuckDB, five
  joins, findings, events and send-backs stored in one transaction), with its phases seen by polling
  identification's database every 20 ms from this process (no request to the service while it works):
  snapshot download (until the snapshot file stops growing), member load, matching (phase ``matching`` until
  ``storing``), storing.
- the limit: a bare DuckDB join of the same member IDs (the generated members, already in a DuckDB table, as
  the service's matching phase starts with them loaded) with the same five files as uploaded, conditions as
  plain SQL, hits fetched; the same DuckDB threads, in this process. Run twice before the batch and once after
  it; the median is the limit.

Figures: ``match_vs_duckdb`` (matching phase ÷ bare join, target ≤ 1.5), ``batch_vs_duckdb`` (whole batch ÷
bare join, target ≤ 5), ``hits_planted``, ``hits_found`` (findings stored), ``hits_exact`` (the findings are
exactly the planted rows: same kind, member and line in the file; the bare join finds the same), ``peak_rss_mb``
(VmHWM of the identification process: no copy of the inputs as Python objects), and for context the phase
seconds, upload seconds and the registry process's peak.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

import _common
import duckdb
import httpx
from registry_import import CAUSES, H_COLUMNS, HEALTHS, LABOURS, M_COLUMNS, RELATIONS, STATUSES, YES_NO

from services.registry.demo import SEED, ResidentIds, household_rows, villages
from services.registry.imports.bulk import TimeOrderedIds
from services.registry.main import SPEC
from shared.auth import issue_token
from shared.db import upgrade
from tests.support.procs import ServiceProcess

SECRET = "bench-secret-0123456789abcdef0123456789"
REGION = "52"  # the whole province: every generated household lies in 522323
OUTSIDE = ["110105", "310104", "440106", "510107", "330106", "420102", "370102", "610113"]  # never in the registry
CHUNK_MEMBERS = 50_000

# The five department files: share of the rows, the kind as registered, and SQL over ``h`` (a row's UBIGINT hash;
# ``m`` a member for planted and decoy rows) for each evidence column of noise, planted and decoy rows.
# ``bare`` is the condition as plain SQL for the bare join (``f`` the file, ``m`` the member).
KINDS: list[dict[str, Any]] = [
    {
        "share": 0.30,
        "kind": {
            "code": "vehicles", "name": "机动车登记信息", "department": "县公安局交警大队", "key_column": "身份证号",
            "evidence_columns": ["号牌号码", "车辆类型", "登记日期"], "rule": "七不进-3",
            "conditions": [{"column": "车辆类型", "op": "in", "values": ["轿车", "船舶", "工程机械", "大型农机具"]}],
        },
        "noise": {
            "号牌号码": "'贵E' || lpad(CAST(h % 100000 AS VARCHAR), 5, '0')",
            "车辆类型": "['轿车', '摩托车', '三轮车', '货车', '船舶', '工程机械', '大型农机具'][1 + (h >> 20) % 7]",
            "登记日期": "strftime(DATE '2005-01-01' + CAST((h >> 30) % 7000 AS INTEGER), '%Y-%m-%d')",
        },
        "planted": {"车辆类型": "['轿车', '船舶', '工程机械', '大型农机具'][1 + (h >> 20) % 4]"},
        "decoy": {"车辆类型": "['摩托车', '三轮车', '货车'][1 + (h >> 20) % 3]"},
        "bare": "f.\"车辆类型\" IN ('轿车', '船舶', '工程机械', '大型农机具')",
    },
    {
        "share": 0.25,
        "kind": {
            "code": "real_estate", "name": "不动产登记信息", "department": "县自然资源局", "key_column": "权利人证件号",
            "evidence_columns": ["不动产权证号", "登记日期", "建筑面积"], "rule": "七不进-2",
            "conditions": [{"column": "登记日期", "op": "after", "date": "2019-12-31"}],
        },
        "noise": {
            "不动产权证号": "'黔(' || CAST(2010 + h % 15 AS VARCHAR) || ')普安县不动产权第'"
            " || lpad(CAST((h >> 8) % 10000000 AS VARCHAR), 7, '0') || '号'",
            "登记日期": "strftime(DATE '2008-01-01' + CAST((h >> 30) % 6200 AS INTEGER), '%Y-%m-%d')",
            "建筑面积": "CAST(CAST(40 + (h >> 40) % 200 AS DECIMAL(8, 2)) AS VARCHAR)",
        },
        "planted": {"登记日期": "strftime(DATE '2020-01-01' + CAST((h >> 30) % 1800 AS INTEGER), '%Y-%m-%d')"},
        "decoy": {"登记日期": "strftime(DATE '2010-01-01' + CAST((h >> 30) % 3600 AS INTEGER), '%Y-%m-%d')"},
        "bare": "CAST(f.\"登记日期\" AS DATE) > DATE '2019-12-31'",
    },
    {
        "share": 0.20,
        "kind": {
            "code": "businesses", "name": "市场主体登记信息", "department": "县市场监督管理局",
            "key_column": "法定代表人身份证号", "evidence_columns": ["统一社会信用代码", "企业名称", "成立日期"],
            "rule": "七不进-4", "conditions": [],
        },
        "noise": {
            "统一社会信用代码": "'915223' || upper(substr(md5(CAST(h AS VARCHAR)), 1, 12))",
            "企业名称": "'普安县' || ['兴', '顺', '发', '达', '隆', '盛', '鑫', '源'][1 + (h >> 12) % 8]"
            " || ['商贸', '农业', '建材', '运输', '茶业'][1 + (h >> 16) % 5] || '有限公司'",
            "成立日期": "strftime(DATE '2000-01-01' + CAST((h >> 30) % 9000 AS INTEGER), '%Y-%m-%d')",
        },
        "planted": {},
        "decoy": None,
        "bare": "TRUE",
    },
    {
        "share": 0.10,
        "kind": {
            "code": "payroll", "name": "财政供养人员工资发放", "department": "县财政局", "key_column": "身份证号码",
            "evidence_columns": ["单位名称", "月工资"], "rule": "七不进-5",
            "conditions": [{"column": "月工资", "op": "above", "amount": "3000.00"}],
        },
        "noise": {
            "单位名称": "['县教育局', '县卫生健康局', '县财政局', '县人社局', '乡镇人民政府'][1 + (h >> 12) % 5]",
            "月工资": "wage(1000 + CAST((h >> 30) % 9000 AS INTEGER))",
        },
        "planted": {"月工资": "wage(3001 + CAST((h >> 30) % 9000 AS INTEGER))"},
        "decoy": {"月工资": "wage(3000 - CAST((h >> 30) % 1500 AS INTEGER))"},
        "bare": "CAST(replace(f.\"月工资\", ',', '') AS DECIMAL(18, 2)) > 3000",
    },
    {
        "share": 0.15,
        "kind": {
            "code": "deaths", "name": "死亡人员信息", "department": "县公安局户籍科", "key_column": "公民身份号码",
            "evidence_columns": ["死亡日期", "注销原因"], "rule": "deceased",
            "conditions": [{"column": "死亡日期", "op": "after_registration"}],
        },
        "noise": {
            "死亡日期": "strftime(DATE '2010-01-01' + CAST((h >> 30) % 5400 AS INTEGER), '%Y年%m月%d日')",
            "注销原因": "'死亡'",
        },
        "planted": {"死亡日期": "strftime(m.registered_on + CAST(1 + (h >> 30) % 3000 AS INTEGER), '%Y年%m月%d日')"},
        "decoy": {"死亡日期": "strftime(m.registered_on - CAST((h >> 30) % 1500 AS INTEGER), '%Y年%m月%d日')"},
        "bare": "strptime(f.\"死亡日期\", '%Y年%m月%d日') > m.registered_on",
    },
]  # fmt: skip

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
MACROS = [
    "CREATE MACRO check_char(b) AS substr('10X98765432', (("
    + " + ".join(f"CAST(substr(b, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(WEIGHTS))
    + ") % 11) + 1, 1)",
    # 3,512.00 as a payroll export writes it (the service accepts the thousands separator)
    "CREATE MACRO wage(y) AS CASE WHEN y >= 1000 THEN CAST(y // 1000 AS VARCHAR) || ','"
    " || lpad(CAST(y % 1000 AS VARCHAR), 3, '0') ELSE CAST(y AS VARCHAR) END || '.00'",
]


# --- the registry ------------------------------------------------------------------------------------------------


def fill_registry(url: str, households: int, members_csv: Path) -> int:
    """The demo generator's households written raw into the registry's tables; the members also to a CSV."""
    upgrade(SPEC.migrations, url, service="registry")
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # untimed setup
    h_sql = f"INSERT INTO household ({H_COLUMNS}) VALUES ({','.join('?' * len(H_COLUMNS.split(',')))})"
    m_sql = f"INSERT INTO member ({M_COLUMNS}) VALUES ({','.join('?' * len(M_COLUMNS.split(',')))})"
    rng, places, resident_ids, ids = random.Random(SEED), villages(), ResidentIds(), TimeOrderedIds()
    now = "2025-01-01 00:00:00.000000"
    h_rows: list[tuple[Any, ...]] = []
    m_rows: list[tuple[Any, ...]] = []
    total, report = 0, 100_000
    started = time.perf_counter()
    with members_csv.open("w", encoding="utf-8") as out:
        out.write("member_id,household_id,resident_id,registered_on\n")
        for n in range(households):
            rows = household_rows(rng, n, places, resident_ids)
            keys = ids.take(len(rows) + 1)
            head, household_id, registered = rows[0], keys[0], rows[0]["登记日期"]
            h_rows.append((
                household_id, head["户编号"], head["区划代码"], int(head["村民小组"]), head["家庭住址"],
                CAUSES[head["主要致贫原因"]], keys[1], registered, registered, head["住房安全等级"][0],
                *(YES_NO[head[c]] for c in ("饮水安全", "不愁吃", "不愁穿", "义务教育有保障", "住房安全有保障",
                                            "基本医疗有保障")),
                now, now, "[]", 1, "agricultural", STATUSES[head["户状态"] or "贫困户"], "none", False, False, False,
                False,
            ))  # fmt: skip
            for member_id, row in zip(keys[1:], rows, strict=True):
                number = row["身份证号"]
                m_rows.append((
                    member_id, household_id, row["姓名"], number, RELATIONS[row["与户主关系"]],
                    "male" if row["性别"] == "男" else "female", f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
                    registered, LABOURS[row["劳动能力"]], HEALTHS[row["健康状况"]], True, True, True, False, False,
                    False, False, row.get("联系电话") or None,
                ))  # fmt: skip
                out.write(f"{member_id},{household_id},{number},{registered}\n")
            if len(m_rows) >= CHUNK_MEMBERS or n == households - 1:
                conn.execute("BEGIN")
                conn.executemany(h_sql, h_rows)
                conn.executemany(m_sql, m_rows)
                conn.execute("COMMIT")
                total += len(m_rows)
                h_rows, m_rows = [], []
                if n + 1 >= report:
                    report += 100_000
                    elapsed = time.perf_counter() - started
                    _common.say(f"  registry: {n + 1:,} households, {total:,} members ({elapsed:.0f} s)")
    conn.close()
    return total


# --- the department files ----------------------------------------------------------------------------------------


def _select(spec: dict[str, Any], part: str, key_sql: str) -> str:
    """The SELECT list of one part (noise, planted, decoy, bad) of a file: the key, then each evidence column."""
    kind = spec["kind"]
    override = spec.get(part) or {}
    columns = [f'{key_sql} AS "{kind["key_column"]}"']
    for column in kind["evidence_columns"]:
        columns.append(f'{override.get(column, spec["noise"][column])} AS "{column}"')
    return ", ".join(columns)


def positive(hashed: str) -> str:
    """A UBIGINT hash as a non-negative BIGINT (list indexes and date offsets want a signed integer)."""
    return f"CAST({hashed} >> 1 AS BIGINT)"


def write_files(con: duckdb.DuckDBPyConnection, home: Path, total_rows: int, planted: int) -> list[dict[str, Any]]:
    """Five department files as Parquet; for each, its path and the planted rows (member, line) it holds."""
    out = []
    areas = "[" + ", ".join(f"'{a}'" for a in OUTSIDE) + "]"
    body = (
        f"{areas}[1 + h % {len(OUTSIDE)}] || strftime(DATE '1930-01-01' + CAST((h >> 8) % 30000 AS INTEGER), '%Y%m%d')"
        " || lpad(CAST((h >> 24) % 1000 AS VARCHAR), 3, '0')"
    )
    for i, spec in enumerate(KINDS):
        code = spec["kind"]["code"]
        rows = round(total_rows * spec["share"])
        decoys = planted // 4 if spec["decoy"] else 0
        bad = max(1, rows // 20_000)
        noise = rows - planted - decoys - bad
        pick = f"hash(member_id, '{code}')"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE chosen AS SELECT *, row_number() OVER (ORDER BY {pick}) AS r "
            f"FROM members ORDER BY {pick} LIMIT {planted + decoys}"
        )
        noise_hash, bad_hash = positive(f"hash(i, '{code}')"), positive(f"hash(i, '{code}', 'bad')")
        noise_cols, bad_cols = _select(spec, "noise", "id"), _select(spec, "bad", "id")
        planted_cols, decoy_cols = _select(spec, "planted", "m.resident_id"), _select(spec, "decoy", "m.resident_id")
        parts = [
            f"SELECT 'noise' AS part, NULL AS member_id, NULL AS household_id, hash(i, {i}) AS o, {noise_cols} "
            f"FROM (SELECT i, h, b || check_char(b) AS id FROM "
            f"(SELECT i, {noise_hash} AS h, {body} AS b FROM range({noise}) t(i)))",
            f"SELECT 'planted', member_id, household_id, hash(member_id, 'o') AS o, {planted_cols} "
            f"FROM (SELECT *, {positive('hash(member_id)')} AS h FROM chosen WHERE r <= {planted}) m",
            f"SELECT 'bad', NULL, NULL, hash(i, 'bad') AS o, {bad_cols} FROM "
            f"(SELECT i, h, b || CASE check_char(b) WHEN '0' THEN '1' ELSE '0' END AS id FROM "
            f"(SELECT i, {bad_hash} AS h, {body} AS b FROM range({bad}) t(i)))",
        ]
        if decoys:
            parts.append(
                f"SELECT 'decoy', member_id, household_id, hash(member_id, 'o') AS o, {decoy_cols} "
                f"FROM (SELECT *, {positive('hash(member_id)')} AS h FROM chosen WHERE r > {planted}) m"
            )
        con.execute(f"CREATE OR REPLACE TEMP TABLE f AS {' UNION ALL '.join(parts)} ORDER BY o")
        columns = ", ".join(f'"{c}"' for c in (spec["kind"]["key_column"], *spec["kind"]["evidence_columns"]))
        path = home / f"{code}.parquet"
        con.execute(f"COPY (SELECT {columns} FROM f ORDER BY rowid) TO '{path}' (FORMAT parquet)")
        lines = con.execute("SELECT member_id, household_id, rowid FROM f WHERE part = 'planted'").fetchall()
        out.append({"spec": spec, "path": path, "rows": rows, "planted": {(code, m, n) for m, _, n in lines},
                    "households": {h for _, h, _ in lines}, "bad": bad, "decoys": decoys})  # fmt: skip
        _common.say(f"  {code}: {rows:,} rows ({len(lines):,} planted hits, {decoys:,} decoys, {bad:,} bad IDs)")
    return out


# --- the bare join -----------------------------------------------------------------------------------------------


def post_file(api: httpx.Client, code: str, path: Path) -> tuple[float, httpx.Response]:
    with path.open("rb") as fh, _common.Timer() as t:
        answer = api.post(f"/datasets/{code}/files", files={"file": (path.name, fh, "application/octet-stream")})
    return t.seconds, answer


def upload(api: httpx.Client, con: duckdb.DuckDBPyConnection, file: dict[str, Any]) -> tuple[float, Path]:
    """The file uploaded through the API as Parquet; when the service cannot read Parquet, the same rows as a CSV
    written by DuckDB (said in the output and in ``upload_format``). Its seconds and the path sent."""
    code, path = file["spec"]["kind"]["code"], file["path"]
    seconds, answer = post_file(api, code, path)
    if answer.status_code == 422:
        _common.say(f"  {code}: the service refused the Parquet file ({answer.json()['detail'][:150]!r}); as CSV")
        path = path.with_suffix(".csv")
        con.execute(f"COPY (SELECT * FROM read_parquet('{file['path']}')) TO '{path}' (FORMAT csv, HEADER)")
        seconds, answer = post_file(api, code, path)
    assert answer.status_code == 201, answer.text
    got = answer.json()
    assert got["rows"] == file["rows"] and got["bad_rows"] == file["bad"], got
    size = path.stat().st_size / 2**20
    _common.say(f"  uploaded {code}: {size:.0f} MB {path.suffix[1:]}, {got['rows']:,} rows in {seconds:.1f} s")
    return seconds, path


def bare_join(con: duckdb.DuckDBPyConnection, files: list[dict[str, Any]]) -> tuple[float, set[tuple[str, str]]]:
    """The limit: each file joined with the members table on the raw key, its condition as plain SQL, hits fetched."""
    found: set[tuple[str, str]] = set()
    with _common.Timer() as timer:
        for file in files:
            kind = file["spec"]["kind"]
            evidence = ", ".join(f'f."{c}"' for c in kind["evidence_columns"])
            rows = con.execute(
                f"SELECT m.member_id, m.household_id, {evidence} FROM members m JOIN read_parquet(?) f "
                f'ON f."{kind["key_column"]}" = m.resident_id WHERE {file["spec"]["bare"]}',
                [str(file["path"])],
            ).fetchall()
            found |= {(kind["code"], r[0]) for r in rows}
    return timer.seconds, found


# --- the services ------------------------------------------------------------------------------------------------


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def snapshot_bytes(snapshot: Path) -> int | None:
    """The bytes in the batch's snapshot file, or in its parts' files (``snapshot-<batch>-<k>.csv``) when it is
    asked in parts; None while there is none."""
    sizes = []
    for path in snapshot.parent.glob(f"{snapshot.stem}*.csv"):
        with contextlib.suppress(FileNotFoundError):
            sizes.append(path.stat().st_size)
    return sum(sizes) if sizes else None


def watch_batch(db_path: Path, batch_id: str, snapshot: Path, started: float) -> dict[str, float]:
    """Poll identification's database (read-only, no request to the service) until the batch ends; when each
    phase was first seen, and when the snapshot file last grew, in seconds after ``started``."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    seen: dict[str, float] = {}
    size, grown = -1, 0.0
    try:
        while True:
            row = conn.execute("SELECT status, phase, message FROM comparisonbatch WHERE id = ?", [batch_id]).fetchone()
            now = time.perf_counter() - started
            got = snapshot_bytes(snapshot)
            if got is not None and got != size:
                size, grown = got, now
            if row:
                status, phase, message = row
                seen.setdefault(phase or "", now)
                if status in ("done", "failed"):
                    if status == "failed":
                        raise RuntimeError(f"the batch failed: {message}")
                    seen["download_end"] = grown
                    seen["snapshot_bytes"] = size
                    return seen
            time.sleep(0.02)
    finally:
        conn.close()


def touch_households(url: str, share: int) -> int:
    """Every ``share``-th household changed as the registry's versioned edit leaves it (``version`` + 1,
    ``updated_at`` now, stored as ``AwareDateTime`` keeps it on SQLite: naive UTC text), in one bulk SQL update
    while the services run; the members are left as they were, so the planted hits stay the same. How many."""
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60)
    try:
        with conn:
            cursor = conn.execute(
                "UPDATE household SET version = version + 1, updated_at = ? WHERE rowid % ? = 0", [now, share]
            )
        return cursor.rowcount
    finally:
        conn.close()


def run_batch(api: httpx.Client, ident_db: Path, home: Path, body: dict[str, Any]) -> tuple[str, dict[str, float]]:
    """One batch through the API, watched to its end: its id and when each phase was seen."""
    started = time.perf_counter()
    answer = api.post("/comparisons", json=body)
    assert answer.status_code == 202, answer.text
    batch_id = answer.json()["id"]
    snapshot = home / "var" / "identification" / "comparison" / f"snapshot-{batch_id}.csv"
    return batch_id, watch_batch(ident_db, batch_id, snapshot, started)


def phases(seen: dict[str, float]) -> dict[str, float]:
    done = seen["done"]
    return {
        "snapshot_download": round(seen.get("download_end", 0.0), 2),
        "member_load": round(seen.get("matching", 0.0) - seen.get("download_end", 0.0), 2),
        "matching": round(seen.get("storing", done) - seen.get("matching", 0.0), 2),
        "storing": round(done - seen.get("storing", done), 2),
    }


def main() -> None:
    p = _common.parser("comparison", __doc__ or "")
    p.add_argument("--households", type=int, default=None, help="households in the registry (default 1000000)")
    args = p.parse_args()
    households = args.households or (10_000 if args.quick else 1_000_000)
    total_rows = households * 10
    planted_per_kind = max(households // 250, 10)
    result: dict[str, Any] = {"bench": "comparison", "households": households}
    os.environ.setdefault("FUPIN_JWT_SECRET", SECRET)
    with _common.workdir("comparison", keep=args.keep) as home:
        registry_url = _common.sqlite_url(home, "registry")
        ident_db = home / "identification.db"
        members_csv = home / "members.csv"
        with _common.Timer() as t:
            members = fill_registry(registry_url, households, members_csv)
        result["members"] = members
        _common.say(f"registry: {households:,} households, {members:,} members written raw in {t.seconds:.0f} s")

        con = duckdb.connect()
        for macro in MACROS:
            con.execute(macro)
        con.execute(
            "CREATE TABLE members AS SELECT member_id, household_id, resident_id, CAST(registered_on AS DATE) "
            "AS registered_on FROM read_csv(?, header=true, all_varchar=true)",
            [str(members_csv)],
        )
        with _common.Timer() as t:
            files = write_files(con, home, total_rows, planted_per_kind)
        result["file_rows"] = sum(f["rows"] for f in files)
        result["hits_planted"] = sum(len(f["planted"]) for f in files)
        _common.say(
            f"department files: {result['file_rows']:,} rows, {result['hits_planted']:,} planted ({t.seconds:.0f} s)"
        )

        limits = [bare_join(con, files) for _ in range(2)]
        _common.say(f"bare DuckDB join: {limits[0][0]:.3f} s, {limits[1][0]:.3f} s, {len(limits[0][1]):,} hits")

        with _common.temp_nats(home) as nats:
            base = {
                "FUPIN_NATS_URL": nats.url,
                "FUPIN_DATA_DIR": str(home / "var"),
                "FUPIN_JWT_SECRET": os.environ["FUPIN_JWT_SECRET"],
                "FUPIN_LOG_LEVEL": "WARNING",
                "FUPIN_MAX_UPLOAD_BYTES": str(4 << 30),
                "FUPIN_SERVICE_CALL_TIMEOUT_SECONDS": "60",
            }
            registry = ServiceProcess("registry", base | {"FUPIN_REGISTRY_DATABASE_URL": registry_url}, home)
            registry.start()
            ident_env = base | {
                "FUPIN_IDENTIFICATION_DATABASE_URL": f"sqlite:///{ident_db}",
                "FUPIN_SERVICE_URLS": json.dumps({"registry": registry.url}),
            }
            ident = ServiceProcess("identification", ident_env, home)
            try:
                ident.start()
                stack = _common.bench_settings(home, nats.url, jwt_secret=os.environ["FUPIN_JWT_SECRET"])
                token = issue_token(stack, subject="bench", roles=["county_office"], region=REGION)
                headers = {"Authorization": f"Bearer {token}"}
                with httpx.Client(base_url=f"{ident.url}/api/v1", headers=headers, timeout=1800) as api:
                    uploads, formats = 0.0, set()
                    for file in files:
                        answer = api.post("/datasets", json=file["spec"]["kind"])
                        assert answer.status_code == 201, answer.text
                        seconds, path = upload(api, con, file)
                        uploads += seconds
                        formats.add(path.suffix[1:])
                        # the line of a row in the file: a Parquet row's number, a CSV's after the header line
                        offset = 1 if path.suffix == ".parquet" else 2
                        file["planted"] = {(code, m, i + offset) for code, m, i in file["planted"]}
                    result["upload_format"] = "+".join(sorted(formats))
                    result["upload_s"] = round(uploads, 2)

                    planted = set().union(*(f["planted"] for f in files))
                    batch_id, seen = run_batch(api, ident_db, home, {"region_code": REGION})
                    batch_s = seen["done"]
                    batch = api.get(f"/comparisons/{batch_id}").json()
                    summary = api.get(f"/comparisons/{batch_id}/summary").json()
                    touched = touch_households(registry_url, 100)
                    delta_id, delta_seen = run_batch(api, ident_db, home, {"region_code": REGION})
                    delta = api.get(f"/comparisons/{delta_id}").json()
                result["peak_rss_mb"] = vm_hwm_mb(ident.proc.pid)  # type: ignore[union-attr]
                result["registry_peak_rss_mb"] = vm_hwm_mb(registry.proc.pid)  # type: ignore[union-attr]
            finally:
                ident.stop()
                registry.stop()

        check = sqlite3.connect(ident_db)
        stored = set(check.execute("SELECT dataset, member_id, line FROM finding WHERE batch_id = ?", [batch_id]))
        delta_stored = set(check.execute("SELECT dataset, member_id, line FROM finding WHERE batch_id = ?", [delta_id]))
        flagged = check.execute("SELECT count(*) FROM outbox WHERE event_type = 'comparison.flagged'").fetchone()[0]
        check.close()
        limits.append(bare_join(con, files))
        limit = statistics.median(s for s, _ in limits)
        bare_hits = limits[0][1]
        con.close()

        matching = seen.get("storing", batch_s) - seen.get("matching", 0.0)
        households_hit = len(set().union(*(f["households"] for f in files)))
        exact = stored == planted and all(found == {(k, m) for k, m, _ in planted} for _, found in limits)
        result |= {
            "match_vs_duckdb": _common.ratio(matching, limit),
            "batch_vs_duckdb": _common.ratio(batch_s, limit),
            "hits_planted": len(planted),
            "hits_found": len(stored),
            "hits_exact": exact,
            "bare_hits": len(bare_hits),
            "duckdb_join_s": round(limit, 3),
            "duckdb_join_runs_s": [round(s, 3) for s, _ in limits],
            "batch_s": round(batch_s, 2),
            "phases_s": phases(seen),
            "batch_delta_vs_duckdb": _common.ratio(delta_seen["done"], limit),
            "batch_delta_s": round(delta_seen["done"], 2),
            "delta_phases_s": phases(delta_seen),
            "delta_households_changed": touched,
            "delta_snapshot": delta["snapshot"],
            "delta_snapshot_rows": delta["snapshot_rows"],
            "delta_members": delta["members"],
            "delta_hits_exact": delta_stored == planted,
            "snapshot_mb": round(seen.get("snapshot_bytes", 0) / 2**20, 1),
            "batch_members": batch["members"],
            "batch_rejects": batch["rejects"],
            "rejects_planted": sum(f["bad"] for f in files),
            "flagged_events": flagged,
            "households_planted": households_hit,
            "summary": {line["dataset"]: line["findings"] for line in summary["lines"]},
        }
        _common.say(
            f"batch {batch_s:.2f} s (matching {matching:.2f} s) against a bare join of {limit:.3f} s; "
            f"{len(stored):,} findings for {len(planted):,} planted hits; exact: {exact}"
        )
        missing, extra = planted - stored, stored - planted
        if missing or extra:
            _common.say(f"MISMATCH: {len(missing)} planted hits not found (e.g. {sorted(missing)[:3]}), "
                        f"{len(extra)} findings not planted (e.g. {sorted(extra)[:3]})")  # fmt: skip
        assert batch["members"] == members, batch
        assert (delta["snapshot"], delta["members"], delta_stored) == ("delta", members, planted), delta
        assert flagged == households_hit, (flagged, households_hit)
    _common.emit_result(result)


if __name__ == "__main__":
    main()
