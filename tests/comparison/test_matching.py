"""The DuckDB side on its own: bounded connections, the snapshot's members as loaded, findings as stored."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.identification.comparison import matching
from services.identification.comparison.jobs import _flagged_data
from services.identification.domain.comparison import Condition, Op
from services.identification.domain.resident_ids import normalise
from services.identification.settings import IdentificationSettings, identification_settings
from services.registry.snapshot.schemas import COLUMNS
from shared.events.catalogue import validate_data
from tests.support.builders import resident_id

ID = "11010519491231002X"


def _limits(con: duckdb.DuckDBPyConnection) -> tuple[str, int, str]:
    row = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')"
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


class TestBoundedConnections:
    def test_the_memory_limit_and_threads_come_from_the_settings(self, tmp_path: Path) -> None:
        config = IdentificationSettings(comparison_memory_mb=200, comparison_threads=1)
        with matching.connect(tmp_path, config) as con:
            memory, threads, spill = _limits(con)
        assert memory in ("200.0 MiB", "209.7 MB") and threads == 1
        assert spill == str(tmp_path / matching.SPILL)

    def test_the_environment_sets_them(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("FUPIN_IDENTIFICATION_COMPARISON_MEMORY_MB", "128")
        monkeypatch.setenv("FUPIN_IDENTIFICATION_COMPARISON_THREADS", "1")
        identification_settings.cache_clear()
        try:
            with matching.connect(tmp_path) as con:
                memory, threads, _ = _limits(con)
        finally:
            identification_settings.cache_clear()
        assert memory in ("128.0 MiB", "134.2 MB") and threads == 1

    def test_a_limit_below_64_mib_is_refused(self) -> None:
        with pytest.raises(ValueError, match="comparison_memory_mb"):
            IdentificationSettings(comparison_memory_mb=10)

    def test_a_join_larger_than_the_limit_spills_and_still_answers(self, tmp_path: Path) -> None:
        big = "SELECT i, md5(CAST(i AS VARCHAR)) || md5(CAST(-i AS VARCHAR)) AS k FROM range(1500000) t(i)"
        config = IdentificationSettings(comparison_memory_mb=64, comparison_threads=1)
        with matching.connect(tmp_path, config) as con:
            con.execute("SET temp_directory = ''")  # the limit holds: without a place to spill, this is too big
            with pytest.raises(duckdb.OutOfMemoryException):
                con.execute(f"CREATE TABLE a AS {big}")
        with matching.connect(tmp_path, config) as con:
            con.execute(f"CREATE TABLE a AS {big}")
            row = con.execute("SELECT count(*) FROM a JOIN a b USING (k)").fetchone()
        assert row == (1_500_000,)


def _snapshot(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A registry snapshot file (its real header) of (member id, resident ID, member_active) rows."""
    lines = [",".join(COLUMNS)]
    for member_id, number, active in rows:
        lines.append(f"{member_id},h-{member_id},{number},522323109001,poor,{active},2024-01-10,2024-01-10,")
    path.write_text("\n".join(lines) + "\n")
    return path


class TestLoadMembers:
    def test_active_members_with_their_ids_as_matched(self, tmp_path: Path) -> None:
        rows = [
            ("m1", ID, "true"),
            ("m2", "11010519491231002x", "true"),  # an old row: normalised as a department's ID is
            ("m3", "110105491231002", "true"),
            ("m4", '"１１０１０５１９４９１２３１００２Ｘ"', "true"),
            ("m5", ID.replace("2X", "3X"), "false"),  # left the household: not compared
        ]
        with matching.connect(tmp_path) as con:
            assert matching.load_members(con, _snapshot(tmp_path / "s.csv", rows)) == 4
            got = dict(con.execute("SELECT member_id, resident_id FROM members").fetchall())
            registered = con.execute("SELECT DISTINCT registered_on FROM members").fetchall()
        assert got == {"m1": ID, "m2": ID, "m3": ID, "m4": ID}
        assert [str(d) for (d,) in registered] == ["2024-01-10"]

    @settings(max_examples=60, deadline=None)
    @given(raw=st.text(alphabet="0123456789Xx１２３Ｘ \u3000", max_size=20))
    def test_any_stored_value_loads_as_normalise_makes_it(self, raw: str) -> None:
        with tempfile.TemporaryDirectory() as folder, duckdb.connect() as con:
            matching.load_members(con, _snapshot(Path(folder) / "s.csv", [("m1", f'"{raw}"', "true")]))
            row = con.execute("SELECT resident_id FROM members").fetchone()
        assert row == (normalise(raw),)


class TestFindingsAsStored:
    def _kind(self, tmp_path: Path, rows: list[list[str]]) -> matching.KindQuery:
        source = tmp_path / "vehicles.csv"
        source.write_text("身份证号,号牌号码,车辆类型\n" + "".join(",".join(r) + "\n" for r in rows))
        prepared = tmp_path / "vehicles.prepared.parquet"
        matching.prepare(source, prepared, key_column="身份证号", evidence_columns=["号牌号码", "车辆类型"])
        condition = Condition(column="车辆类型", op=Op.in_list, values=("轿车",))
        return matching.KindQuery(
            kind_id="k1",
            code="vehicles",
            rule="七不进-3",
            file_id="f1",
            prepared_path=str(prepared),
            evidence_columns=("号牌号码", "车辆类型"),
            conditions=(condition,),
        )

    def test_evidence_is_the_named_object_and_the_fingerprint_is_unchanged(self, tmp_path: Path) -> None:
        other = resident_id()
        kind = self._kind(tmp_path, [[ID, "贵E12345", "轿车"], [ID, "贵E12345", "轿车"], [other, "贵E9", "摩托车"]])
        with matching.connect(tmp_path) as con:
            matching.load_members(con, _snapshot(tmp_path / "s.csv", [("m1", ID, "true"), ("m2", other, "true")]))
            [hit] = matching.match(con, kind, None)
        kind_id, member_id, household_id, region, number, line, evidence, fingerprint = hit
        assert (kind_id, member_id, household_id, region, number, line) == ("k1", "m1", "h-m1", "522323109001", ID, 2)
        assert json.loads(evidence) == {"号牌号码": "贵E12345", "车辆类型": "轿车"}
        # the fingerprint earlier batches stored: a later batch must still know them
        listed = json.dumps(["贵E12345", "轿车"], ensure_ascii=False, separators=(",", ":"))
        assert fingerprint == hashlib.md5(f"k1|m1|七不进-3|{listed}".encode()).hexdigest()

    def test_prepare_writes_every_row_with_its_line_and_problem(self, tmp_path: Path) -> None:
        kind = self._kind(
            tmp_path, [[ID, "a", "轿车"], ["110105194912310021", "b", "轿车"], [" " + ID.lower(), "c", "x"]]
        )
        with duckdb.connect() as con:
            rows = con.execute(
                "SELECT line, resident_id, problem, e0 FROM read_parquet(?) ORDER BY line", [kind.prepared_path]
            ).fetchall()
        assert rows == [(2, ID, None, "a"), (3, "110105194912310021", "checksum", "b"), (4, ID, None, "c")]


def test_the_flagged_event_data_is_what_the_catalogue_publishes() -> None:
    """emit_many renders events with json.dumps only when the data is exactly the catalogue's model."""

    class Batch:
        id = "b1"

    found = [{"dataset": "vehicles", "rule": "七不进-3", "member_id": "m1", "region_code": "522323109001"}]
    data = _flagged_data(Batch(), "h1", found)  # type: ignore[arg-type]
    assert validate_data("comparison.flagged", data) == data


def _household_snapshot(path: Path, rows: list[tuple[str, str, str, bool]]) -> Path:
    """A registry snapshot file of (member, household, region, active) rows, each with a fresh valid ID."""
    lines = [",".join(COLUMNS)]
    for member, household, region, active in rows:
        values = [member, household, resident_id(), region, "poor", "true" if active else "false", "2024-01-10"]
        lines.append(",".join([*values, "2024-01-10", ""]))
    path.write_text("\n".join(lines) + "\n")
    return path


BASE = [("a1", "A", "522323109001", True), ("a2", "A", "522323109001", True), ("b1", "B", "522323109002", True)]


class TestMergeDelta:
    @pytest.mark.parametrize(
        ("delta", "kept"),
        [
            ([], {"a1", "a2", "b1"}),  # nothing changed
            ([("a1", "A", "522323109001", True), ("a2", "A", "522323109001", False)], {"a1", "b1"}),  # a2 died
            ([*BASE[:2], ("a3", "A", "522323109001", True)], {"a1", "a2", "a3", "b1"}),  # a birth
            ([("b1", "B", "522323101001", True)], {"a1", "a2"}),  # B moved to another township
            ([("c1", "C", "522323109003", True)], {"a1", "a2", "b1", "c1"}),  # a household moved (or split) in
            ([("x1", "X", "522323101001", True)], {"a1", "a2", "b1"}),  # a change elsewhere is not kept
            ([("a9", "A", "522323109001", True)], {"a9", "b1"}),  # A's members replaced whole
        ],
    )
    def test_each_changed_household_is_replaced_by_its_active_members_in_the_region(
        self, tmp_path: Path, delta: list[tuple[str, str, str, bool]], kept: set[str]
    ) -> None:
        with duckdb.connect() as con:
            matching.load_members(con, _household_snapshot(tmp_path / "full.csv", BASE))
            rows, members = matching.merge_delta(con, _household_snapshot(tmp_path / "delta.csv", delta), "522323109")
            held = {r[0] for r in con.execute("SELECT member_id FROM members").fetchall()}
            matching.save_members(con, tmp_path / "cache.parquet")
        with duckdb.connect() as again:
            assert matching.load_cached(again, tmp_path / "cache.parquet") == len(kept)
        assert (held, rows, members) == (kept, len(delta), len(kept))
