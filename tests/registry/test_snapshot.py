"""The bulk member snapshot for the county data comparison: system role only, streamed, narrowed by region, the
same bytes on SQLite and PostgreSQL (each row checked against the registry's tables read through the ORM)."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, create_engine, select

from services.registry.models import Household, Member
from services.registry.snapshot import service
from services.registry.snapshot.schemas import COLUMNS
from shared.clock import FrozenClock
from tests.registry.conftest import OTHER_TOWNSHIP_VILLAGE, VILLAGE
from tests.support.builders import household_body
from tests.support.sql import Sql


def _register(api: TestClient, headers: dict[str, str], region_code: str, members: int) -> dict[str, object]:
    body = household_body(region_code=region_code, members=members)
    response = api.post("/api/v1/households", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    ids = {p["name"]: p["id_number"] for p in body["members"]}
    for member in created["members"]:
        member["id_number"] = ids[member["name"]]  # the answer masks it; the snapshot must not
    return created


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, date) else ("" if value is None else str(value))


def _written(registry_url: str, line: Callable[[Member, Household], tuple[Any, ...]], *, active: bool) -> list[str]:
    """``line`` of each member (active ones only when ``active``) as the csv module writes it, sorted."""
    engine = create_engine(registry_url)
    try:
        with Session(engine) as session:
            query = select(Member, Household).join(Household, col(Household.id) == col(Member.household_id))
            rows = [line(m, h) for m, h in session.exec(query.where(col(Member.active)) if active else query)]
    finally:
        engine.dispose()
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([_text(v) for v in row] for row in rows)
    return sorted(out.getvalue().splitlines(keepends=True))


def expected_csv(registry_url: str) -> list[str]:
    """The snapshot's lines as the csv module writes the registry's rows read through the ORM, sorted."""

    def line(m: Member, h: Household) -> tuple[Any, ...]:
        return (m.id, h.id, m.id_number, h.region_code, h.status, m.active, h.registered_on, m.joined_on, m.left_on)

    return _written(registry_url, line, active=False)


def _two_villages_one_gone(api: TestClient, county: dict[str, str], sql: Sql) -> str:
    """Two households in two townships, five members; the third of the first has moved away (its id)."""
    here = _register(api, county, VILLAGE, 3)
    _register(api, county, OTHER_TOWNSHIP_VILLAGE, 2)
    gone: str = here["members"][2]["id"]  # type: ignore[index]
    sql("UPDATE member SET active = false, left_on = '2025-03-01', left_reason = 'moved' WHERE id = :i", i=gone)
    return gone


def lines_of(content: bytes) -> tuple[str, list[str]]:
    header, *lines = content.decode().splitlines(keepends=True)
    return header, sorted(lines)


class TestSnapshot:
    @pytest.mark.parametrize(
        "role", ["village_cadre", "township_reviewer", "county_office", "bank_officer", "auditor", "helper"]
    )
    def test_every_role_but_system_is_refused(
        self, api: TestClient, token: Callable[..., dict[str, str]], role: str
    ) -> None:
        paths = ("/api/v1/snapshot/members.csv", "/api/v1/snapshot/members.parquet", "/api/v1/snapshot/compact.csv")
        for path, params in itertools.product(paths, ({}, {"part": 1, "parts": 2})):
            response = api.get(path, params=params, headers=token(role, region="522323"))
            assert response.status_code == 403, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert api.get(path, params=params).status_code == 401

    def test_without_a_token_401(self, api: TestClient) -> None:
        assert api.get("/api/v1/snapshot/members.csv").status_code == 401

    def test_csv_holds_every_member_with_its_ids_region_status_and_dates(
        self, api: TestClient, county: dict[str, str], system: dict[str, str]
    ) -> None:
        here = _register(api, county, VILLAGE, 3)
        there = _register(api, county, OTHER_TOWNSHIP_VILLAGE, 2)
        response = api.get("/api/v1/snapshot/members.csv", headers=system)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = _rows(response.text)
        assert tuple(rows[0]) == COLUMNS
        assert len(rows) == 5
        by_id = {r["member_id"]: r for r in rows}
        for household in (here, there):
            for member in household["members"]:  # type: ignore[attr-defined]
                row = by_id[member["id"]]
                assert row["household_id"] == household["id"]
                assert row["resident_id"] == member["id_number"]
                assert row["region_code"] == household["region_code"]
                assert row["household_status"] == household["status"]
                assert row["member_active"] == "true"
                assert row["registered_on"] == household["registered_on"]

    def test_region_prefix_narrows(self, api: TestClient, county: dict[str, str], system: dict[str, str]) -> None:
        _register(api, county, VILLAGE, 3)
        _register(api, county, OTHER_TOWNSHIP_VILLAGE, 2)
        rows = _rows(api.get("/api/v1/snapshot/members.csv", params={"region": VILLAGE[:9]}, headers=system).text)
        assert {r["region_code"] for r in rows} == {VILLAGE}
        assert len(rows) == 3
        bad = api.get("/api/v1/snapshot/members.csv", params={"region": "52%"}, headers=system)
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"].endswith("region")

    def test_a_system_token_scoped_elsewhere_gets_nothing(
        self, api: TestClient, county: dict[str, str], token: Callable[..., dict[str, str]]
    ) -> None:
        _register(api, county, VILLAGE, 3)
        rows = _rows(api.get("/api/v1/snapshot/members.csv", headers=token("system", region="11")).text)
        assert rows == []

    def test_parquet_has_the_same_rows(
        self, api: TestClient, county: dict[str, str], system: dict[str, str], tmp_path: Path
    ) -> None:
        _register(api, county, VILLAGE, 4)
        response = api.get("/api/v1/snapshot/members.parquet", headers=system)
        assert response.status_code == 200
        target = tmp_path / "m.parquet"
        target.write_bytes(response.content)
        with duckdb.connect() as con:
            count, active = con.execute(
                "SELECT count(*), bool_and(member_active) FROM read_parquet(?)", [str(target)]
            ).fetchone()  # type: ignore[misc]
        assert (count, active) == (4, True)

    def test_small_fetches_and_chunks_give_every_member_once(
        self, api: TestClient, county: dict[str, str], system: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(service, "PAGE", 2)
        monkeypatch.setattr(service, "CHUNK", 10)
        monkeypatch.setattr(service, "HOUSEHOLDS", 2)
        for _ in range(5):
            _register(api, county, VILLAGE, 3)
        rows = _rows(api.get("/api/v1/snapshot/members.csv", headers=system).text)
        ids = [r["member_id"] for r in rows]
        assert len(ids) == 15 == len(set(ids))
        for part in range(2):  # pages of a part too
            params = {"part": part, "parts": 2}
            ids += [
                r["member_id"]
                for r in _rows(api.get("/api/v1/snapshot/members.csv", params=params, headers=system).text)
            ]
        assert sorted(ids[15:]) == sorted(ids[:15])
        delta = api.get(
            "/api/v1/snapshot/members.csv", params={"changed_since": "2000-01-01T00:00:00+08:00"}, headers=system
        )
        assert sorted(r["member_id"] for r in _rows(delta.text)) == sorted(ids[:15])


class TestSnapshotContent:
    """Byte for byte what the csv module makes of the registry's rows, on either backend (so the same on both)."""

    def test_the_csv_is_every_row_formatted_as_csv_writes_it(
        self, api: TestClient, county: dict[str, str], system: dict[str, str], registry_url: str, sql: Sql
    ) -> None:
        gone = _two_villages_one_gone(api, county, sql)
        response = api.get("/api/v1/snapshot/members.csv", headers=system)
        header, lines = lines_of(response.content)
        assert header == ",".join(COLUMNS) + "\n"
        assert lines == expected_csv(registry_url)
        left = next(r for r in _rows(response.text) if r["member_id"] == gone)
        assert (left["member_active"], left["left_on"]) == ("false", "2025-03-01")

    def test_an_old_unvalidated_id_is_quoted_not_a_broken_line(
        self, api: TestClient, county: dict[str, str], system: dict[str, str], registry_url: str, sql: Sql
    ) -> None:
        here = _register(api, county, VILLAGE, 2)
        odd = '5223,"23 x'
        sql("UPDATE member SET id_number = :v WHERE id = :i", v=odd, i=here["members"][0]["id"])  # type: ignore[index]
        response = api.get("/api/v1/snapshot/members.csv", headers=system)
        assert lines_of(response.content)[1] == expected_csv(registry_url)
        assert odd in {r["resident_id"] for r in _rows(response.text)}

    def test_parquet_holds_the_csv_rows_typed(
        self, api: TestClient, county: dict[str, str], system: dict[str, str], tmp_path: Path
    ) -> None:
        _register(api, county, VILLAGE, 3)
        _register(api, county, OTHER_TOWNSHIP_VILLAGE, 2)
        text = api.get("/api/v1/snapshot/members.csv", headers=system).text
        target = tmp_path / "m.parquet"
        target.write_bytes(api.get("/api/v1/snapshot/members.parquet", headers=system).content)
        with duckdb.connect() as con:
            types = dict(con.execute("SELECT name, type FROM parquet_schema(?)", [str(target)]).fetchall())
            rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM read_parquet(?)", [str(target)]).fetchall()
        assert (types["member_active"], types["registered_on"], types["left_on"]) == ("BOOLEAN", "INT32", "INT32")
        assert sorted(tuple(_text(v) for v in row) for row in rows) == sorted(
            tuple(r[c] for c in COLUMNS) for r in _rows(text)
        )

    def test_a_reader_that_stops_midway_leaves_the_database_usable(
        self, api: TestClient, county: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for _ in range(3):
            _register(api, county, VILLAGE, 3)
        monkeypatch.setattr(service, "PAGE", 2)
        monkeypatch.setattr(service, "CHUNK", 10)
        monkeypatch.setattr(service, "HOUSEHOLDS", 1)
        db = api.app.state.db  # type: ignore[attr-defined]
        for _ in range(db.read_engine.pool.size() + 2):  # more abandoned streams than the pool holds connections
            streams = [
                (service.csv_stream(db, ""), service.HEADER),
                (service.compact_stream(db, ""), service.COMPACT_HEADER),
            ]
            for stream, header in streams:
                assert next(stream) == header
                assert next(stream).count(b"\n") >= 1
                stream.close()
        assert len(_rows(b"".join(service.csv_stream(db, "")).decode())) == 9
        assert len(_rows(b"".join(service.compact_stream(db, "")).decode())) == 9


class TestChangedSince:
    def test_only_households_changed_since_with_every_member_and_a_watermark(
        self, api: TestClient, county: dict[str, str], system: dict[str, str], clock: FrozenClock
    ) -> None:
        changed = _register(api, county, VILLAGE, 3)
        _register(api, county, OTHER_TOWNSHIP_VILLAGE, 2)
        clock.advance(timedelta(minutes=1))  # the clock stands still: the registrations come strictly before the mark
        first = api.get("/api/v1/snapshot/members.csv", headers=system)
        mark = first.headers["snapshot-watermark"]
        assert len(_rows(first.text)) == 5
        died = changed["members"][1]["id"]  # type: ignore[index]
        body = {
            "kind": "death",
            "member_id": died,
            "effective_date": changed["registered_on"],
            "evidence": "死亡证明",
            "reason": "r",
        }
        answer = api.post(f"/api/v1/households/{changed['id']}/changes", json=body, headers=county)
        assert answer.status_code == 201, answer.text
        delta = api.get("/api/v1/snapshot/members.csv", params={"changed_since": mark}, headers=system)
        assert delta.status_code == 200
        rows = _rows(delta.text)
        assert {r["household_id"] for r in rows} == {changed["id"]}
        assert len(rows) == 3  # the deceased member too, inactive
        assert {r["member_id"]: r["member_active"] for r in rows}[died] == "false"
        assert delta.headers["snapshot-watermark"] >= mark
        parquet = api.get("/api/v1/snapshot/members.parquet", params={"changed_since": mark}, headers=system)
        assert parquet.status_code == 200 and "snapshot-watermark" in parquet.headers

    @pytest.mark.parametrize("bad", ["2025-03-01T00:00:00", "yesterday", "2025-13-01T00:00:00+08:00"])
    def test_a_naive_or_unreadable_time_is_422_naming_the_field(
        self, api: TestClient, system: dict[str, str], bad: str
    ) -> None:
        for path in ("/api/v1/snapshot/members.csv", "/api/v1/snapshot/members.parquet"):
            response = api.get(path, params={"changed_since": bad}, headers=system)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"].endswith("changed_since")


class TestParts:
    """The snapshot asked in parts: every member in exactly one part, each household whole in one, the same
    refusals and scope for every part."""

    @pytest.mark.parametrize("parts", [2, 3, 16])
    def test_the_parts_hold_every_member_exactly_once(
        self, api: TestClient, county: dict[str, str], system: dict[str, str], registry_url: str, parts: int
    ) -> None:
        for _ in range(6):
            _register(api, county, VILLAGE, 3)
        _register(api, county, OTHER_TOWNSHIP_VILLAGE, 2)
        whole = lines_of(api.get("/api/v1/snapshot/members.csv", headers=system).content)[1]
        got: list[str] = []
        households: dict[str, int] = {}
        for part in range(parts):
            params = {"part": part, "parts": parts}
            response = api.get("/api/v1/snapshot/members.csv", params=params, headers=system)
            assert response.status_code == 200, response.text
            assert response.headers["snapshot-part"] == f"{part}/{parts}"
            assert "snapshot-watermark" in response.headers
            header, lines = lines_of(response.content)
            assert header == ",".join(COLUMNS) + "\n"
            got += lines
            for row in _rows(response.text):
                assert households.setdefault(row["household_id"], part) == part  # a household whole in one part
        assert sorted(got) == whole == expected_csv(registry_url)
        assert len(households) == 7

    def test_an_id_of_any_form_is_in_exactly_one_part(self, registry_url: str) -> None:
        from sqlalchemy import create_engine, literal
        from sqlalchemy import select as sa_select

        engine = create_engine(registry_url)
        try:
            with engine.connect() as conn:
                dialect = conn.dialect.name
                for value in ("h1", "", "01a23a69-f042-7380-a7dd-fb3900000000", "x" * 40):
                    got = [
                        conn.execute(sa_select(service.part_of(literal(value), dialect, 3) == k)).scalar()
                        for k in range(3)
                    ]
                    assert got.count(True) == 1, (value, got)
                assert conn.execute(sa_select(service.part_of(literal("h1"), dialect, 2))).scalar() == 0
                # the id's random hex digit splits households evenly between two parts
                ids = [f"01a23a69-f042-7380-a7dd-fb3{digit}00000000" for digit in "0123456789abcdef"]
                halves = [conn.execute(sa_select(service.part_of(literal(i), dialect, 2))).scalar_one() for i in ids]
                assert sorted(halves) == [0] * 8 + [1] * 8
        finally:
            engine.dispose()

    def test_region_scope_and_changed_since_hold_in_every_part(
        self, api: TestClient, county: dict[str, str], system: dict[str, str], token: Callable[..., dict[str, str]]
    ) -> None:
        for _ in range(4):
            _register(api, county, VILLAGE, 2)
            _register(api, county, OTHER_TOWNSHIP_VILLAGE, 1)
        elsewhere = token("system", region="11")
        narrowed, later = [], []
        for part in range(2):
            params: dict[str, Any] = {"part": part, "parts": 2}
            assert _rows(api.get("/api/v1/snapshot/members.csv", params=params, headers=elsewhere).text) == []
            narrowed += _rows(
                api.get("/api/v1/snapshot/members.csv", params=params | {"region": VILLAGE[:9]}, headers=system).text
            )
            changed = params | {"changed_since": "2999-01-01T00:00:00+08:00"}
            later += _rows(api.get("/api/v1/snapshot/members.csv", params=changed, headers=system).text)
        assert len(narrowed) == 8 and {r["region_code"] for r in narrowed} == {VILLAGE}
        assert later == []

    @pytest.mark.parametrize("role", ["village_cadre", "county_office", "auditor"])
    def test_every_part_is_refused_to_every_role_but_system(
        self, api: TestClient, token: Callable[..., dict[str, str]], role: str
    ) -> None:
        for path in ("/api/v1/snapshot/members.csv", "/api/v1/snapshot/members.parquet"):
            for part in range(2):
                response = api.get(path, params={"part": part, "parts": 2}, headers=token(role, region="522323"))
                assert response.status_code == 403, response.text

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"part": 2, "parts": 2}, "part"),
            ({"part": 1}, "part"),
            ({"part": -1, "parts": 2}, "part"),
            ({"part": 0, "parts": 0}, "parts"),
            ({"part": 0, "parts": 17}, "parts"),
        ],
    )
    def test_a_part_outside_the_parts_is_422_naming_it(
        self, api: TestClient, system: dict[str, str], params: dict[str, int], field: str
    ) -> None:
        for path in ("/api/v1/snapshot/members.csv", "/api/v1/snapshot/members.parquet"):
            response = api.get(path, params=params, headers=system)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"].endswith(field)

    def test_a_parquet_part_holds_the_csv_part_rows(
        self, api: TestClient, county: dict[str, str], system: dict[str, str], tmp_path: Path
    ) -> None:
        for _ in range(4):
            _register(api, county, VILLAGE, 2)
        total = 0
        for part in range(2):
            params = {"part": part, "parts": 2}
            text = api.get("/api/v1/snapshot/members.csv", params=params, headers=system).text
            response = api.get("/api/v1/snapshot/members.parquet", params=params, headers=system)
            assert response.headers["snapshot-part"] == f"{part}/2"
            target = tmp_path / f"m{part}.parquet"
            target.write_bytes(response.content)
            with duckdb.connect() as con:
                ids = {r[0] for r in con.execute("SELECT member_id FROM read_parquet(?)", [str(target)]).fetchall()}
            assert ids == {r["member_id"] for r in _rows(text)}
            total += len(ids)
        assert total == 8


def expected_compact(registry_url: str) -> list[str]:
    """The compact snapshot's lines as the csv module writes the registry's active members, sorted."""
    return _written(registry_url, lambda m, h: (m.id, h.id, m.id_number, h.region_code, h.registered_on), active=True)


COMPACT = "/api/v1/snapshot/compact.csv"


class TestCompact:
    """The comparison's whole snapshot: the active members' five columns, the same refusals, scope and parts."""

    # Its refusals: TestSnapshot.test_every_role_but_system_is_refused, with the other forms.

    def test_the_active_members_five_columns_as_csv_writes_them(
        self, api: TestClient, county: dict[str, str], system: dict[str, str], registry_url: str, sql: Sql
    ) -> None:
        gone = _two_villages_one_gone(api, county, sql)
        response = api.get(COMPACT, headers=system)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        header, lines = lines_of(response.content)
        assert header == ",".join(service.COMPACT_COLUMNS) + "\n"
        assert lines == expected_compact(registry_url)
        assert len(lines) == 4 and gone not in response.text

    def test_the_parts_hold_every_active_member_exactly_once_in_scope(
        self,
        api: TestClient,
        county: dict[str, str],
        system: dict[str, str],
        token: Callable[..., dict[str, str]],
        registry_url: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(service, "HOUSEHOLDS", 2)  # pages of a part too
        for _ in range(6):
            _register(api, county, VILLAGE, 3)
        _register(api, county, OTHER_TOWNSHIP_VILLAGE, 2)
        whole = lines_of(api.get(COMPACT, headers=system).content)[1]
        assert whole == expected_compact(registry_url) and len(whole) == 20
        for parts in (2, 3):
            got: list[str] = []
            households: dict[str, int] = {}
            for part in range(parts):
                response = api.get(COMPACT, params={"part": part, "parts": parts}, headers=system)
                assert response.status_code == 200, response.text
                assert response.headers["snapshot-part"] == f"{part}/{parts}"
                assert "snapshot-watermark" in response.headers
                got += lines_of(response.content)[1]
                for row in _rows(response.text):
                    assert households.setdefault(row["household_id"], part) == part  # a household whole in one
            assert sorted(got) == whole and len(households) == 7
        narrowed = []
        for part in range(2):
            params: dict[str, Any] = {"part": part, "parts": 2, "region": VILLAGE[:9]}
            narrowed += _rows(api.get(COMPACT, params=params, headers=system).text)
        assert len(narrowed) == 18 and {r["region_code"] for r in narrowed} == {VILLAGE}
        assert _rows(api.get(COMPACT, headers=token("system", region="11")).text) == []

    def test_an_old_id_needing_quotes_is_quoted_and_its_page_whole(
        self,
        api: TestClient,
        county: dict[str, str],
        system: dict[str, str],
        registry_url: str,
        sql: Sql,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(service, "HOUSEHOLDS", 2)
        households = [_register(api, county, VILLAGE, 2) for _ in range(4)]
        for value, household in zip(['5223,"23 x', "5223\n23", "52,23,,,\n,,,,"], households, strict=False):
            sql("UPDATE member SET id_number = :v WHERE id = :i", v=value, i=household["members"][0]["id"])  # type: ignore[index]
        response = api.get(COMPACT, headers=system)
        assert lines_of(response.content)[1] == expected_compact(registry_url)
        ids = {r["resident_id"] for r in _rows(response.text)}
        assert {'5223,"23 x', "5223\n23", "52,23,,,\n,,,,"} <= ids and len(ids) == 8

    def test_changes_since_are_read_from_the_member_lines(self, api: TestClient, system: dict[str, str]) -> None:
        response = api.get(COMPACT, params={"changed_since": "2025-03-01T00:00:00+08:00"}, headers=system)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"].endswith("changed_since")

    def test_a_part_outside_the_parts_is_422(self, api: TestClient, system: dict[str, str]) -> None:
        response = api.get(COMPACT, params={"part": 2, "parts": 2}, headers=system)
        assert response.status_code == 422 and response.json()["errors"][0]["field"].endswith("part")
