"""The bulk member snapshot for the county data comparison: system role only, streamed, narrowed by region."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from services.registry.snapshot import service
from services.registry.snapshot.schemas import COLUMNS
from tests.registry.conftest import OTHER_TOWNSHIP_VILLAGE, VILLAGE
from tests.support.builders import household_body


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


class TestSnapshot:
    @pytest.mark.parametrize(
        "role", ["village_cadre", "township_reviewer", "county_office", "bank_officer", "auditor", "helper"]
    )
    def test_every_role_but_system_is_refused(
        self, api: TestClient, token: Callable[..., dict[str, str]], role: str
    ) -> None:
        for path in ("/api/v1/snapshot/members.csv", "/api/v1/snapshot/members.parquet"):
            response = api.get(path, headers=token(role, region="522323"))
            assert response.status_code == 403, response.text
            assert response.headers["content-type"].startswith("application/problem+json")

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

    def test_pages_are_keyset_and_bounded(
        self, api: TestClient, county: dict[str, str], system: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(service, "PAGE", 2)
        for _ in range(3):
            _register(api, county, VILLAGE, 3)
        rows = _rows(api.get("/api/v1/snapshot/members.csv", headers=system).text)
        ids = [r["member_id"] for r in rows]
        assert len(ids) == 9 == len(set(ids))
        assert ids == sorted(ids)
