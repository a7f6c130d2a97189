"""The DuckDB side of the comparison: department files prepared once, then one set-based join per dataset kind.

A file is prepared when it is uploaded: its rows get their line in the file, the resident ID in its normalised
form (``normalised_from``, the SQL twin of ``domain.resident_ids``) and why it is invalid, and the evidence
columns as ``e0``, ``e1`` … in a Parquet file beside the original, written in one statement. A batch then loads
the registry's snapshot into DuckDB once and runs one join per kind, its conditions as SQL with bound
parameters: no row of either side becomes a Python object, only the findings do, already shaped as stored
(evidence as a JSON object). Every connection is bounded by the service's settings (``connect``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from services.identification.domain.comparison import Condition, Op
from services.identification.domain.resident_ids import BLANKS, FULL_WIDTH, HALF_WIDTH
from services.identification.settings import IdentificationSettings, identification_settings
from shared.errors import ValidationFailed
from shared.files.tabular import XLSX_SUFFIXES, open_table

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日"]
NORMALISED = "[0-9]{17}[0-9X]"  # the form the registry stores (and normalised_from gives a valid ID)
SPILL = "duckdb.tmp"


def connect(folder: Path, settings: IdentificationSettings | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB bounded by ``comparison_memory_mb`` (and ``comparison_threads``), spilling beyond the
    limit to ``folder/duckdb.tmp``: a province's members and a department's millions of rows never need more."""
    config = settings or identification_settings()
    options: dict[str, Any] = {
        "memory_limit": f"{config.comparison_memory_mb}MiB",
        "temp_directory": str(folder / SPILL),
    }
    if config.comparison_threads:
        options["threads"] = config.comparison_threads
    return duckdb.connect(config=options)


def _check_sql(body: str) -> str:
    """The check character of an 17-digit SQL string expression."""
    terms = " + ".join(f"CAST(substr({body}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(WEIGHTS))
    return f"substr('{CHECK}', (({terms}) % 11) + 1, 1)"


def clean_sql(expr: str) -> str:
    """SQL for ``resident_ids.clean``: blanks out, full-width digits ASCII, upper case."""
    blanks = "".join(BLANKS)
    # translate() drops the characters of its second argument that have no counterpart in the third
    return f"upper(translate(coalesce({expr}, ''), '{FULL_WIDTH}{blanks}', '{HALF_WIDTH}'))"


def upgrade_sql(column: str) -> str:
    """SQL for the rest of ``resident_ids.normalise`` over a cleaned column: 15 digits upgraded to 18."""
    body = f"(substr({column}, 1, 6) || '19' || substr({column}, 7, 9))"
    return (
        f"CASE WHEN length({column}) = 15 AND regexp_full_match({column}, '[0-9]{{15}}') "
        f"THEN {body} || {_check_sql(body)} ELSE {column} END"
    )


def normalised_from(expr: str, source: str, *, keep: str = "*") -> str:
    """``SELECT keep, <normalised expr> AS resident_id FROM source``, cleaning once in an inner select."""
    inner = f"(SELECT *, {clean_sql(expr)} AS __clean FROM {source})"
    return f"SELECT {keep}, {upgrade_sql('__clean')} AS resident_id FROM {inner}"


def problem_sql(expr: str) -> str:
    """SQL for ``resident_ids.problem`` over a normalised number: empty, format, birth_date, checksum or NULL."""
    return (
        f"CASE WHEN {expr} = '' THEN 'empty' "
        f"WHEN NOT regexp_full_match({expr}, '[0-9]{{17}}[0-9X]') THEN 'format' "
        f"WHEN try_strptime(substr({expr}, 7, 8), '%Y%m%d') IS NULL THEN 'birth_date' "
        f"WHEN {_check_sql(expr)} <> substr({expr}, 18, 1) THEN 'checksum' END"
    )


def date_sql(expr: str) -> str:
    formats = ", ".join(f"'{f}'" for f in DATE_FORMATS)
    return f"CAST(try_strptime(trim({expr}), [{formats}]) AS DATE)"


def amount_sql(expr: str) -> str:
    return f"TRY_CAST(replace(replace(trim({expr}), ',', ''), '，', '') AS DECIMAL(18, 2))"


@dataclass(frozen=True)
class Prepared:
    rows: int
    bad_rows: int


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _aggregate(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The one row of an aggregate query without GROUP BY (DuckDB always returns it)."""
    row = con.execute(sql).fetchone()
    assert row is not None
    return row


def data_lines(path: Path) -> int:
    """Lines after the header, counted in bytes (the last line may lack its newline)."""
    lines, last = 0, b"\n"
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(lines - 1 + (last != b"\n"), 0)


def _source(con: duckdb.DuckDBPyConnection, path: Path, spool: Path) -> str:
    """The file as a relation (SQL) with each row's line in the file as ``__line``, read once.

    A Parquet file is read as it is: a row's line is its position (it has no header line), values as text, as
    CSV's. A UTF-8 CSV is loaded by DuckDB into table ``raw``, each record's line being its position plus the
    header when the file has no blank or multi-line records (checked by counting). Anything else (GBK, a
    spreadsheet, blank lines) is streamed through the shared table reader, which knows each row's number, into a
    UTF-8 spool first.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return (
            "(SELECT COLUMNS(* EXCLUDE (file_row_number))::VARCHAR, file_row_number + 1 AS __line "
            f"FROM read_parquet({_literal(str(path))}, file_row_number=true))"
        )
    if suffix == ".csv":
        try:
            con.execute("CREATE TABLE raw AS SELECT * FROM read_csv(?, header=true, all_varchar=true)", [str(path)])
            if _aggregate(con, "SELECT count(*) FROM raw")[0] == data_lines(path):
                return "(SELECT *, rowid + 2 AS __line FROM raw)"
            con.execute("DROP TABLE raw")
        except duckdb.Error:
            con.execute("DROP TABLE IF EXISTS raw")
    _spool_rows(path, spool)
    spooled = f"read_csv({_literal(str(spool))}, header=true, all_varchar=true)"
    return f"(SELECT * REPLACE (CAST(__line AS BIGINT) AS __line) FROM {spooled})"


def _spool_rows(path: Path, spool: Path) -> None:
    table = open_table(path)
    with spool.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["__line", *table.headers])
        for number, cells in table.rows:
            writer.writerow([number, *cells])


def prepare(path: Path, target: Path, *, key_column: str, evidence_columns: Sequence[str]) -> Prepared:
    """Write the matching form of a department file to ``target`` (Parquet); its row and bad-ID counts.

    A file without the key column or an evidence column is a 422 on ``file`` naming the missing column.
    """
    if path.suffix.lower() not in (".csv", ".parquet", *XLSX_SUFFIXES):
        raise ValidationFailed(f"a CSV, XLSX or Parquet file is expected, not {path.suffix}", field="file")
    spool = target.with_suffix(".spool.csv")
    try:
        with connect(target.parent) as con:
            source = _source(con, path, spool)
            columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
            missing = [c for c in (key_column, *evidence_columns) if c not in columns]
            if missing:
                found = ", ".join(c for c in columns if c != "__line")
                raise ValidationFailed(f"the file has no column {', '.join(missing)} (it has: {found})", field="file")
            evidence = "".join(f", CAST({_quote(c)} AS VARCHAR) AS e{i}" for i, c in enumerate(evidence_columns))
            inner = f"(SELECT __line AS line, CAST({_quote(key_column)} AS VARCHAR) AS raw{evidence} FROM {source})"
            keep = "line, raw" + "".join(f", e{i}" for i in range(len(evidence_columns)))
            normalised = normalised_from("raw", inner, keep=keep)
            con.sql(f"SELECT *, {problem_sql('resident_id')} AS problem FROM ({normalised})").write_parquet(str(target))
            rows, bad = _aggregate(con, f"SELECT count(*), count(problem) FROM read_parquet({_literal(str(target))})")
    except duckdb.Error as exc:
        target.unlink(missing_ok=True)
        raise ValidationFailed(f"the file could not be read as a table: {str(exc)[:200]}", field="file") from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        spool.unlink(missing_ok=True)
    return Prepared(rows=rows, bad_rows=bad)


def rejects(prepared: Path, *, chunk: int = 10_000) -> Iterator[list[tuple[int, str, str]]]:
    """The rows whose resident ID is invalid, as (line, raw value, reason), in chunks."""
    with connect(prepared.parent) as con:
        con.execute(
            "SELECT line, coalesce(raw, ''), problem FROM read_parquet(?) WHERE problem IS NOT NULL ORDER BY line",
            [str(prepared)],
        )
        while rows := con.fetchmany(chunk):
            yield rows


@dataclass(frozen=True)
class KindQuery:
    """One dataset kind as the batch joins it: its prepared file and conditions."""

    kind_id: str
    code: str
    rule: str
    file_id: str
    prepared_path: str
    evidence_columns: tuple[str, ...]
    conditions: tuple[Condition, ...]
    rows: int = 0
    rejects: int = 0


def condition_sql(condition: Condition, columns: Sequence[str], cutoff_year: int | None) -> tuple[str, list[Any]]:
    """One condition as SQL over ``f.e<i>`` (and ``m.registered_on``), with its bound parameters."""
    column = f"f.e{list(columns).index(condition.column)}"
    if condition.op is Op.in_list:
        marks = ", ".join("?" for _ in condition.values)
        return f"trim({column}) IN ({marks})", [v.strip() for v in condition.values]
    if condition.op is Op.after:
        return f"{date_sql(column)} > CAST(? AS DATE)", [condition.on]
    if condition.op is Op.since_cutoff_year:
        return f"{date_sql(column)} >= CAST(? AS DATE)", [date(cutoff_year or 1, 1, 1)]
    if condition.op is Op.after_registration:
        return f"{date_sql(column)} > m.registered_on", []
    return f"{amount_sql(column)} > CAST(? AS DECIMAL(18, 2))", [str(condition.amount)]


def kind_sql(kind: KindQuery, cutoff_year: int | None) -> tuple[str, list[Any]]:
    """The join of the snapshot's members with one kind's file: one row per distinct finding, its evidence as the
    JSON object stored with it. The fingerprint (kind, member, rule, evidence values) is the same batch after batch:
    it is how a later batch knows a finding it saw before."""
    values = [f"f.e{i}" for i in range(len(kind.evidence_columns))]
    where, params = ["f.problem IS NULL"], []
    for condition in kind.conditions:
        sql, bound = condition_sql(condition, kind.evidence_columns, cutoff_year)
        where.append(sql)
        params.extend(bound)
    listed = f"to_json([{', '.join(values)}])" if values else "'[]'"
    named = f"CAST(json_object({', '.join(f'?, {v}' for v in values)}) AS VARCHAR)" if values else "'{}'"
    sql = (
        f"SELECT ? AS kind_id, m.member_id, m.household_id, m.region_code, m.resident_id, f.line, "
        f"{named} AS evidence, md5(concat_ws('|', ?, m.member_id, ?, {listed})) AS fingerprint "
        f"FROM members m JOIN read_parquet(?) f ON f.resident_id = m.resident_id "
        f"WHERE {' AND '.join(where)} "
        f"QUALIFY row_number() OVER (PARTITION BY fingerprint ORDER BY f.line) = 1"
    )
    return sql, [kind.kind_id, *kind.evidence_columns, kind.kind_id, kind.rule, kind.prepared_path, *params]


CSV = "read_csv(?, header=true, all_varchar=true)"  # snapshot files, their path (or paths) the one parameter
COMPACT = (  # the registry's compact snapshot: its five columns as text, no sniffing
    "read_csv(?, header=true, auto_detect=false, columns={'member_id': 'VARCHAR', 'household_id': 'VARCHAR', "
    "'resident_id': 'VARCHAR', 'region_code': 'VARCHAR', 'registered_on': 'VARCHAR'})"
)


def _members_sql(source: str, where: str) -> str:
    """The snapshot's rows in ``source`` as table ``members`` holds them, those meeting ``where``.

    The registry stores resident IDs validated, 18 characters in upper case (``check_identity`` and the bulk
    import refuse anything else), so an ID of that form is taken as it is: only another one (a row older than
    that validation) is normalised, and the batch does not re-clean millions of valid IDs. The snapshot is read
    once; DuckDB reads only the columns named here.
    """
    resident_id = (
        f"CASE WHEN regexp_full_match(resident_id, '{NORMALISED}') THEN resident_id "
        f"ELSE {upgrade_sql(clean_sql('resident_id'))} END"
    )
    return (
        "SELECT member_id, household_id, region_code, "
        f"TRY_CAST(registered_on AS DATE) AS registered_on, {resident_id} AS resident_id "
        f"FROM {source} WHERE {where}"
    )


def load_members(con: duckdb.DuckDBPyConnection, snapshot: Path | Sequence[Path]) -> int:
    """The registry's snapshot (one file, or the files of its parts) as table ``members`` (its active members);
    how many."""
    files = [str(snapshot)] if isinstance(snapshot, Path) else [str(p) for p in snapshot]
    con.execute("CREATE TABLE members AS " + _members_sql(CSV, "member_active = 'true'"), [files])
    return _aggregate(con, "SELECT count(*) FROM members")[0]


def load_compact(con: duckdb.DuckDBPyConnection, snapshot: Sequence[Path]) -> int:
    """The registry's compact snapshot (the files of its parts: its active members, ``member_id, household_id,
    resident_id, region_code, registered_on``) as table ``members``; how many."""
    con.execute("CREATE TABLE members AS " + _members_sql(COMPACT, "true"), [[str(p) for p in snapshot]])
    return _aggregate(con, "SELECT count(*) FROM members")[0]


def load_cached(con: duckdb.DuckDBPyConnection, cache: Path) -> int:
    """Table ``members`` as the last batch left it (``save_members``); how many."""
    con.execute("CREATE TABLE members AS SELECT * FROM read_parquet(?)", [str(cache)])
    return _aggregate(con, "SELECT count(*) FROM members")[0]


def merge_delta(con: duckdb.DuckDBPyConnection, delta: Path, region: str) -> tuple[int, int]:
    """Every member of each household in ``delta`` (the registry's changes, any region) replaced by the delta's
    active ones under ``region``: a household that moved away leaves, one that moved in arrives. The rows read
    and the members now held."""
    con.execute(
        "CREATE TEMP TABLE delta AS SELECT household_id, member_active = 'true' AND starts_with(region_code, ?) AS "
        f"keep, * EXCLUDE (household_id) FROM {CSV}",
        [region, str(delta)],
    )
    rows = _aggregate(con, "SELECT count(*) FROM delta")[0]
    con.execute("DELETE FROM members WHERE household_id IN (SELECT DISTINCT household_id FROM delta)")
    con.execute("INSERT INTO members " + _members_sql("delta", "keep"))
    con.execute("DROP TABLE delta")
    return rows, _aggregate(con, "SELECT count(*) FROM members")[0]


def save_members(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """Table ``members`` as a Parquet file, written beside ``target`` and renamed onto it (never half a file)."""
    spool = target.with_suffix(".writing")
    con.execute(f"COPY members TO {_literal(str(spool))} (FORMAT parquet)")
    spool.replace(target)


Hit = tuple[str, str, str, str, str, int, str, str]  # kind_id, member, household, region, id, line, evidence, fp


def match(con: duckdb.DuckDBPyConnection, kind: KindQuery, cutoff_year: int | None) -> list[Hit]:
    """One kind's findings against the loaded members (a few per thousand members: these are the output)."""
    sql, params = kind_sql(kind, cutoff_year)
    return [tuple(row) for row in con.execute(sql, params).fetchall()]
