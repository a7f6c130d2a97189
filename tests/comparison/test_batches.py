"""County data comparison end to end: a real registry over HTTP, department files, batches, findings, cases."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from sqlalchemy import create_engine, text

from services.identification.comparison import matching
from services.identification.settings import identification_settings
from shared.ids import many_ids
from tests.identification.conftest import OTHER_VILLAGE, VILLAGE
from tests.identification.test_cases_api import RULES, VOTE, attach, notice_and_end, ok, problem, step
from tests.support.builders import household_body, resident_id
from tests.support.procs import ServiceProcess

pytestmark = pytest.mark.integration
VEHICLES = {
    "code": "vehicles",
    "name": "机动车登记信息",
    "department": "县公安局交警大队",
    "key_column": "身份证号",
    "evidence_columns": ["号牌号码", "车辆类型", "登记日期"],
    "rule": "七不进-3",
    "conditions": [{"column": "车辆类型", "op": "in", "values": ["轿车", "船舶", "工程机械"]}],
}
DEATHS = {
    "code": "deaths",
    "name": "死亡人员信息",
    "key_column": "公民身份号码",
    "evidence_columns": ["死亡日期"],
    "rule": "deceased",
    "conditions": [{"column": "死亡日期", "op": "after_registration"}],
}
PAYOUTS = {
    "code": "pensions",
    "name": "养老金发放",
    "key_column": "身份证号",
    "evidence_columns": ["金额", "发放年月"],
    "rule": "pension",
    "conditions": [{"column": "金额", "op": "above", "amount": "3000.00"}],
}


def households(reg: Any, county: dict[str, str], n: int, region: str = VILLAGE) -> list[dict[str, Any]]:
    """``n`` households in the real registry, each with its members' whole IDs (the answer masks them)."""
    out = []
    for _ in range(n):
        body = household_body(region_code=region) | {"registered_on": "2024-01-10", "status": "poor"}
        created = ok(reg.post("/api/v1/households", json=body, headers=county), 201)
        ids = {p["name"]: p["id_number"] for p in body["members"]}
        created["people"] = [(m["id"], ids[m["name"]]) for m in created["members"]]
        out.append(created)
    return out


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(api: Any, code: str, headers: dict[str, str], content: bytes, name: str = "file.csv") -> Any:
    return api.post(f"/api/v1/datasets/{code}/files", files={"file": (name, content, "text/csv")}, headers=headers)


def legacy(full: str) -> str:
    return full[:6] + full[8:17]


def fullwidth(number: str) -> str:
    return " " + number.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ")) + " "


def run(api: Any, headers: dict[str, str], region: str = "522323") -> dict[str, Any]:
    """Start a batch; TestClient runs the background task before answering, so the batch has ended."""
    started = ok(api.post("/api/v1/comparisons", json={"region_code": region}, headers=headers), 202)
    return ok(api.get(f"/api/v1/comparisons/{started['id']}", headers=headers))


def findings(api: Any, batch_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = ok(api.get(f"/api/v1/comparisons/{batch_id}/findings", params=params, headers=headers))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def scalar(statement: str, **params: Any) -> Any:
    """One value from identification's database (the URL the ``api`` fixture set)."""
    engine = create_engine(os.environ["FUPIN_IDENTIFICATION_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(text(statement), params).scalar()
    finally:
        engine.dispose()


def outbox(database_url: Any, event_type: str) -> int:
    return scalar("SELECT count(*) FROM outbox WHERE event_type = :t", t=event_type)


@pytest.fixture
def planted(api: Any, reg: Any, county: dict[str, str]) -> dict[str, Any]:
    """Six households; department files with planted hits, near misses, legacy and messy IDs, bad rows."""
    hh = households(reg, county, 6)
    for kind in (VEHICLES, DEATHS, PAYOUTS):
        ok(api.post("/api/v1/datasets", json=kind, headers=county), 201)
    (m0, id0), (m1, id1) = hh[0]["people"][0], hh[1]["people"][1]
    (m2, id2), (m3, id3) = hh[2]["people"][0], hh[3]["people"][2]
    vehicles = [
        [id0, "贵E12345", "轿车", "2023-05-01"],  # hit
        [legacy(id1), "贵E22222", "工程机械", "2022-01-01"],  # hit through the 15-digit form (if born before 2000)
        [hh[4]["people"][0][1], "贵E33333", "三轮车", "2023-01-01"],  # near miss: not a listed vehicle type
        ["110105194912310021", "贵E44444", "轿车", "2023-01-01"],  # bad checksum: line 5
        ["522323199001011234", "贵E55555", "轿车", "2023-01-01"],  # valid-looking outsider: nobody registered
    ]
    deaths = [
        [fullwidth(id2), "2024-08-01"],  # hit: died after the household's registration (2024-01-10)
        [hh[5]["people"][0][1], "2023-12-31"],  # before registration: not a finding
    ]
    payouts = [[id3, "3,500.00", "2025-05"], [hh[4]["people"][1][1], "2800.00", "2025-05"]]
    ok(upload(api, "vehicles", county, csv_bytes(["身份证号", "号牌号码", "车辆类型", "登记日期"], vehicles)), 201)
    ok(upload(api, "deaths", county, csv_bytes(["公民身份号码", "死亡日期"], deaths)), 201)
    ok(upload(api, "pensions", county, csv_bytes(["身份证号", "金额", "发放年月"], payouts)), 201)
    expected = {(m0, "七不进-3"), (m2, "deceased"), (m3, "pension")}
    if id1[6:8] == "19":
        expected.add((m1, "七不进-3"))
    return {"households": hh, "expected": expected, "legacy_member": m1}


class TestPlantedHits:
    def test_planted_hits_found_and_nothing_else(self, api, county, planted, database_url) -> None:
        batch = run(api, county)
        assert batch["status"] == "done", batch["message"]
        assert (batch["members"], batch["kinds_total"], batch["progress"]) == (18, 3, 100)
        found = findings(api, batch["id"], county)
        assert {(f["member_id"], f["rule"]) for f in found} == planted["expected"]
        assert (planted["legacy_member"], "七不进-3") in {(f["member_id"], f["rule"]) for f in found}
        car = next(f for f in found if f["evidence"].get("号牌号码") == "贵E12345")
        assert car["evidence"] == {"号牌号码": "贵E12345", "车辆类型": "轿车", "登记日期": "2023-05-01"}
        assert (car["line"], car["dataset"]) == (2, "vehicles")
        assert "*" in car["resident_id_masked"]
        flagged_households = {f["household_id"] for f in found}
        assert batch["households_flagged"] == len(flagged_households)
        assert outbox(database_url, "comparison.flagged") == len(flagged_households)

    def test_a_bad_checksum_row_is_reported_with_its_line(self, api, county, planted) -> None:
        [file] = ok(api.get("/api/v1/datasets/vehicles/files", headers=county))["items"]
        assert (file["rows"], file["bad_rows"], file["version"]) == (5, 1, 1)
        [reject] = ok(api.get(f"/api/v1/datasets/vehicles/files/{file['id']}/rejects", headers=county))["items"]
        assert (reject["line"], reject["reason"]) == (5, "checksum")
        assert "*" in reject["value_masked"] and "校验码" in reject["message"]

    def test_rerun_is_idempotent_same_findings_no_second_event(self, api, county, planted, database_url) -> None:
        first = run(api, county)
        events = outbox(database_url, "comparison.flagged")
        second = run(api, county)
        assert second["status"] == "done"
        one, two = findings(api, first["id"], county), findings(api, second["id"], county)
        key = lambda f: (f["member_id"], f["rule"], f["line"], tuple(f["evidence"].items()))  # noqa: E731
        assert sorted(map(key, one)) == sorted(map(key, two))
        assert (second["new_findings"], second["households_flagged"]) == (0, 0)
        assert {f["repeat_of"] for f in two} == {f["id"] for f in one}
        assert outbox(database_url, "comparison.flagged") == events

    def test_the_same_bytes_again_are_a_no_op(self, api, county, planted) -> None:
        [file] = ok(api.get("/api/v1/datasets/vehicles/files", headers=county))["items"]
        raw = f"{file['id']}"  # the kind keeps one version until different bytes come
        again = ok(api.get("/api/v1/datasets/vehicles", headers=county))
        assert again["current_version"] == 1 and raw


class TestLimits:
    def test_a_batch_runs_inside_the_configured_memory_limit(
        self, api, county, planted, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("FUPIN_IDENTIFICATION_COMPARISON_MEMORY_MB", "64")
        monkeypatch.setenv("FUPIN_IDENTIFICATION_COMPARISON_THREADS", "1")
        identification_settings.cache_clear()
        seen: list[tuple[Any, ...]] = []
        connect = matching.connect

        def spying(folder: Path, settings: Any = None) -> duckdb.DuckDBPyConnection:
            con = connect(folder, settings)
            setting = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
            assert setting is not None
            seen.append(setting)
            return con

        monkeypatch.setattr(matching, "connect", spying)
        try:
            batch = run(api, county)
        finally:
            identification_settings.cache_clear()
        assert batch["status"] == "done", batch["message"]
        assert {(f["member_id"], f["rule"]) for f in findings(api, batch["id"], county)} == planted["expected"]
        assert seen and all(limit in ("64.0 MiB", "67.1 MB") and threads == 1 for limit, threads in seen)


class TestConditions:
    def test_conditions_on_evidence_columns_hold(self, api, reg, county) -> None:
        hh = households(reg, county, 1)
        people = [p for _, p in hh[0]["people"]]
        house = {
            "code": "houses",
            "name": "不动产登记",
            "key_column": "证件号码",
            "evidence_columns": ["登记时间", "坐落"],
            "rule": "七不进-2",
            "conditions": [{"column": "登记时间", "op": "since_cutoff_year"}],
        }
        ok(api.post("/api/v1/rule-sets", json=RULES, headers=county), 201)  # cut-off 2013
        ok(api.post("/api/v1/datasets", json=house, headers=county), 201)
        rows = [[people[0], "2013/01/01", "县城"], [people[1], "2012年12月31日", "县城"], [people[2], "20200101", "x"]]
        ok(upload(api, "houses", county, csv_bytes(["证件号码", "登记时间", "坐落"], rows)), 201)
        batch = run(api, county)
        found = {f["evidence"]["登记时间"] for f in findings(api, batch["id"], county)}
        assert found == {"2013/01/01", "20200101"}

    def test_a_parquet_file_is_read_like_its_csv(self, api, reg, county, tmp_path) -> None:
        hh = households(reg, county, 1)
        person = hh[0]["people"][0]
        ok(api.post("/api/v1/datasets", json=VEHICLES, headers=county), 201)
        path = tmp_path / "vehicles.parquet"
        rows = [[person[1], "贵E12345", "轿车", "2023-05-01"], ["110105194912310021", "贵E4", "轿车", "2023-01-01"]]
        con = duckdb.connect()
        con.execute("CREATE TABLE v (身份证号 VARCHAR, 号牌号码 VARCHAR, 车辆类型 VARCHAR, 登记日期 VARCHAR)")
        con.executemany("INSERT INTO v VALUES (?, ?, ?, ?)", rows)
        con.execute(f"COPY v TO '{path}' (FORMAT parquet)")
        con.close()
        files = {"file": ("vehicles.parquet", path.read_bytes(), "application/octet-stream")}
        ok(api.post("/api/v1/datasets/vehicles/files", files=files, headers=county), 201)
        batch = run(api, county)
        assert [f["member_id"] for f in findings(api, batch["id"], county)] == [person[0]]
        [file] = ok(api.get("/api/v1/datasets/vehicles/files", headers=county))["items"]
        [reject] = ok(api.get(f"/api/v1/datasets/vehicles/files/{file['id']}/rejects", headers=county))["items"]
        assert reject["line"] == 2

    def test_a_kind_refuses_conditions_on_columns_it_does_not_keep(self, api, county) -> None:
        body = VEHICLES | {"conditions": [{"column": "颜色", "op": "in", "values": ["红"]}]}
        errors = problem(api.post("/api/v1/datasets", json=body, headers=county), 422)["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("conditions.0.column", "unknown_column")]
        missing = problem(api.post("/api/v1/datasets", json=VEHICLES | {"rule": "nope"}, headers=county), 422)
        assert missing["errors"][0]["field"] == "rule"

    def test_a_file_without_the_key_column_is_refused(self, api, county) -> None:
        ok(api.post("/api/v1/datasets", json=VEHICLES, headers=county), 201)
        body = problem(upload(api, "vehicles", county, csv_bytes(["号码", "车辆类型"], [["1", "轿车"]])), 422)
        assert body["errors"][0]["field"] == "file" and "身份证号" in body["detail"]


class TestCasesAndResolution:
    def _case_at_county_comparison(self, api, clock, county, township, cadre, household_id) -> str:
        ok(api.post("/api/v1/rule-sets", json=RULES, headers=county), 201)
        case = ok(
            api.post("/api/v1/cases", json={"kind": "recognition", "household_id": household_id}, headers=cadre), 201
        )
        cid = case["id"]
        ok(step(api, cid, "application", cadre, application_form=attach(api, cid, cadre)))
        held = ok(step(api, cid, "group_review", cadre, minutes=[attach(api, cid, cadre)], attendance=12, vote=VOTE))
        notice_and_end(api, clock, held, "group_review", VILLAGE, cadre)
        ok(step(api, cid, "survey", cadre, survey={"surveyed_by": "张干部"}))
        ok(step(api, cid, "village_review", cadre, minutes=[attach(api, cid, cadre)], attendance=30, vote=VOTE))
        notice_and_end(api, clock, held, "village_review", VILLAGE, cadre)
        moved = ok(step(api, cid, "township_review", township, opinion="同意"))
        assert moved["next_step"]["key"] == "county_comparison"
        return cid

    def test_flagged_case_goes_back_to_reverification_and_resolution_is_recorded(
        self, api, reg, clock, county, township, cadre, token
    ) -> None:
        [hh] = households(reg, county, 1)
        cid = self._case_at_county_comparison(api, clock, county, township, cadre, hh["id"])
        ok(api.post("/api/v1/datasets", json=VEHICLES, headers=county), 201)
        rows = [[hh["people"][0][1], "贵E12345", "轿车", "2023-05-01"]]
        ok(upload(api, "vehicles", county, csv_bytes(["身份证号", "号牌号码", "车辆类型", "登记日期"], rows)), 201)
        batch = run(api, county)
        assert batch["cases_sent_back"] == 1
        case = ok(api.get(f"/api/v1/cases/{cid}", headers=county))
        assert (case["status"], case["next_step"]["key"]) == ("open", "survey")
        steps = ok(api.get(f"/api/v1/cases/{cid}/steps", params={"limit": 50}, headers=county))["items"]
        assert steps[-1]["action"] == "send_back" and "数据比对" in steps[-1]["comment"]
        [finding] = findings(api, batch["id"], county)
        assert (finding["case_id"], finding["case_action"]) == (cid, "sent_back")

        # village cadre of another village: invisible; the household's own cadre resolves it
        other = token("village_cadre", region=OTHER_VILLAGE)
        assert ok(api.get(f"/api/v1/comparisons/{batch['id']}/findings", headers=other))["items"] == []
        resolve = f"/api/v1/findings/{finding['id']}/resolution"
        problem(api.post(resolve, json={"resolution": "dismissed", "reason": "x"}, headers=other), 404)
        problem(api.post(resolve, json={"resolution": "maybe", "reason": "x"}, headers=cadre), 422)
        problem(api.post(resolve, json={"resolution": "dismissed", "reason": "x"}, headers=token("auditor")), 403)
        done = ok(
            api.post(resolve, json={"resolution": "dismissed", "reason": "车辆系亲属赠与，已过户"}, headers=cadre)
        )
        assert (done["resolution"], done["resolved_by"]) == ("dismissed", "cadre-xiajie")
        problem(api.post(resolve, json={"resolution": "confirmed", "reason": "again"}, headers=cadre), 409)
        summary = ok(api.get(f"/api/v1/comparisons/{batch['id']}/summary", headers=county))
        assert summary["lines"] == [
            {"dataset": "vehicles", "rule": "七不进-3", "findings": 1, "confirmed": 0, "dismissed": 1, "open": 0}
        ]
        # seen again in a later batch: the resolution is shown there too, the case is not sent back twice
        again = run(api, county)
        [repeat] = findings(api, again["id"], county)
        assert (repeat["repeat_of"], repeat["resolution"], again["cases_sent_back"]) == (finding["id"], "dismissed", 0)


class TestAccess:
    def test_roles_and_scope(self, api, county, cadre, token) -> None:
        assert api.get("/api/v1/comparisons").status_code == 401
        problem(api.post("/api/v1/datasets", json=VEHICLES, headers=cadre), 403)
        problem(api.post("/api/v1/comparisons", json={"region_code": "522323"}, headers=cadre), 403)
        problem(api.post("/api/v1/comparisons", json={"region_code": "530000"[:6]}, headers=county), 403)
        bad = problem(api.post("/api/v1/comparisons", json={"region_code": "52232"}, headers=county), 422)
        assert bad["errors"][0]["field"].endswith("region_code")
        problem(api.get("/api/v1/datasets/nothing-here", headers=county), 404)


class TestKilledBatch:
    def test_a_killed_batch_leaves_no_partial_findings_and_is_failed_then_rerun(
        self, api, county, planted, registry, nats_server, tmp_path: Path
    ) -> None:
        env = {
            "FUPIN_NATS_URL": nats_server.url,
            "FUPIN_DATA_DIR": str(api.app.state.stack.data_dir),
            "FUPIN_JWT_SECRET": os.environ["FUPIN_JWT_SECRET"],
            "FUPIN_IDENTIFICATION_DATABASE_URL": os.environ["FUPIN_IDENTIFICATION_DATABASE_URL"],
            "FUPIN_IDENTIFICATION_RUN_JOBS": "false",
            "FUPIN_SERVICE_URLS": json.dumps({"registry": registry.url}),
        }
        process = ServiceProcess("identification", env, tmp_path)
        process.start(faults="comparison.before_commit")
        try:
            answer = httpx.post(f"{process.url}/api/v1/comparisons", json={"region_code": "522323"}, headers=county)
            assert answer.status_code == 202, answer.text
            process.wait_exit()  # killed between the bulk insert of the findings and the commit
        finally:
            process.stop()
        killed = answer.json()["id"]
        assert scalar("SELECT status FROM comparisonbatch WHERE id = :i", i=killed) == "running"
        assert scalar("SELECT count(*) FROM finding") == 0
        assert scalar("SELECT count(*) FROM outbox WHERE event_type = 'comparison.flagged'") == 0

        again = run(api, county)  # asking for a new batch fails the abandoned one first
        dead = ok(api.get(f"/api/v1/comparisons/{killed}", headers=county))
        assert dead["status"] == "failed" and "interrupted" in dead["message"]
        assert again["status"] == "done" and again["new_findings"] == len(planted["expected"])


class TestDelta:
    """The second batch of a region reads the cache and only the households changed since (both backends)."""

    def _change(self, reg: Any, county: dict[str, str], household_id: str, **body: Any) -> None:
        body = {"evidence": "证明材料", "reason": "reported by the village", **body}
        ok(reg.post(f"/api/v1/households/{household_id}/changes", json=body, headers=county), 201)

    def test_added_deceased_and_moved_members_are_seen_through_the_delta(self, api, reg, county, clock, planted):
        township = VILLAGE[:9]
        clock.advance(timedelta(hours=1))  # past the safety overlap: the households are not read again
        first = run(api, county, township)
        assert (first["status"], first["snapshot"], first["snapshot_rows"]) == ("done", "full", 18), first["message"]
        assert {(f["member_id"], f["rule"]) for f in findings(api, first["id"], county)} == planted["expected"]
        hh = planted["households"]
        (m0, _), (m3, id3) = hh[0]["people"][0], hh[3]["people"][2]
        baby_id = resident_id(born=date(2025, 4, 2), sex="female")
        baby = {"name": "新生儿", "relation": "grandchild", "id_number": baby_id}
        self._change(reg, county, hh[4]["id"], kind="birth", member=baby, effective_date="2025-04-02")
        self._change(reg, county, hh[3]["id"], kind="death", member_id=m3, effective_date="2025-03-01")
        moved = {"reason": "moved to another township", "region_code": OTHER_VILLAGE}
        ok(reg.patch(f"/api/v1/households/{hh[0]['id']}", json=moved, headers=county))
        payouts = [[id3, "3,500.00", "2025-05"], [baby_id, "3600.00", "2025-05"]]  # a new file naming the baby
        ok(upload(api, "pensions", county, csv_bytes(["身份证号", "金额", "发放年月"], payouts)), 201)
        second = run(api, county, township)
        assert (second["status"], second["snapshot"]) == ("done", "delta"), second["message"]
        assert second["snapshot_rows"] == 3 + 3 + 4  # the three changed households, the dead and the baby too
        assert second["members"] == 18 - 3 - 1 + 1
        found = {(f["member_id"], f["rule"]) for f in findings(api, second["id"], county)}
        baby_member = next(f["member_id"] for f in findings(api, second["id"], county) if f["rule"] == "pension")
        assert found == planted["expected"] - {(m0, "七不进-3"), (m3, "pension")} | {(baby_member, "pension")}
        again = ok(api.post("/api/v1/comparisons", json={"region_code": township, "full": True}, headers=county), 202)
        full = ok(api.get(f"/api/v1/comparisons/{again['id']}", headers=county))
        # a whole snapshot is the registry's compact one: its active members only (the deceased is not sent)
        assert (full["status"], full["snapshot"], full["snapshot_rows"]) == ("done", "full", 18 - 3 - 1 + 1)
        assert {(f["member_id"], f["rule"]) for f in findings(api, full["id"], county)} == found
        assert full["members"] == second["members"]

    def test_a_missing_cache_file_or_a_failed_delta_reads_everything_or_keeps_the_cache(
        self, api, reg, county, clock, planted, monkeypatch
    ):
        first = run(api, county)
        path = Path(scalar("SELECT path FROM snapshotcache WHERE region_code = '522323'"))
        kept = path.read_bytes()
        clock.advance(timedelta(hours=1))
        from services.identification.comparison import jobs

        def refused(*args: Any, **kwargs: Any) -> None:
            raise jobs.BatchFailed("the registry refused the snapshot: 503")

        download = jobs.download_snapshot
        monkeypatch.setattr(jobs, "download_snapshot", refused)
        failed = run(api, county)
        assert failed["status"] == "failed" and "refused" in failed["message"]
        assert path.read_bytes() == kept and scalar("SELECT rows FROM snapshotcache") == first["members"]
        monkeypatch.setattr(jobs, "download_snapshot", download)
        path.unlink()
        again = run(api, county)
        assert (again["status"], again["snapshot"], again["snapshot_rows"]) == ("done", "full", 18)
        newest = Path(scalar("SELECT path FROM snapshotcache WHERE region_code = '522323'"))
        assert newest != path and newest.is_file()  # each batch keeps its own file; the row names the newest
        newest.write_bytes(b"not parquet")
        third = run(api, county)
        assert (third["status"], third["snapshot"]) == ("done", "full")
        assert {f["member_id"] for f in findings(api, third["id"], county)} == {m for m, _ in planted["expected"]}


class TestSnapshotParts:
    """A county's snapshot is asked in parts at once (one per core, or as set), a township's in one request."""

    @pytest.mark.parametrize("parts", ["1", "3"])
    def test_a_batch_in_parts_finds_the_same_and_leaves_no_part_file(
        self, api, county, planted, monkeypatch: pytest.MonkeyPatch, parts: str
    ) -> None:
        from services.identification.comparison import jobs

        monkeypatch.setenv("FUPIN_IDENTIFICATION_COMPARISON_SNAPSHOT_PARTS", parts)
        identification_settings.cache_clear()
        asked: list[dict[str, Any]] = []
        download = jobs.ServiceClient.download

        def spying(self: Any, path: str, target: Path, params: dict[str, Any] | None = None) -> Any:
            asked.append(dict(params or {}))
            return download(self, path, target, params)

        monkeypatch.setattr(jobs.ServiceClient, "download", spying)
        try:
            batch = run(api, county)
            township = run(api, county, VILLAGE[:9])
        finally:
            identification_settings.cache_clear()
        assert batch["status"] == "done", batch["message"]
        assert (batch["members"], batch["snapshot_rows"]) == (18, 18)
        assert {(f["member_id"], f["rule"]) for f in findings(api, batch["id"], county)} == planted["expected"]
        county_asks, township_asks = asked[: int(parts)], asked[int(parts) :]
        if parts == "1":
            assert county_asks == [{"region": "522323"}]
        else:
            assert sorted(a.pop("part") for a in county_asks) == [0, 1, 2]
            assert county_asks == [{"region": "522323", "parts": 3}] * 3
        assert township_asks == [{"region": VILLAGE[:9]}]  # a township: one request
        assert township["status"] == "done" and township["members"] == 18
        folder = Path(api.app.state.stack.data_dir) / "identification" / "comparison"
        assert list(folder.glob("snapshot-*")) == []

    def test_a_registry_that_sends_the_whole_snapshot_for_a_part_fails_the_batch(
        self, api, county, planted, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from services.identification.comparison import jobs

        download = jobs.ServiceClient.download

        def older(self: Any, path: str, target: Path, params: dict[str, Any] | None = None) -> Any:
            plain = {k: v for k, v in (params or {}).items() if k not in ("part", "parts")}
            headers = download(self, path, target, plain)
            return httpx.Headers({k: v for k, v in headers.items() if k.lower() != "snapshot-part"})

        monkeypatch.setattr(jobs.ServiceClient, "download", older)
        monkeypatch.setattr(jobs, "snapshot_parts", lambda region, settings=None: 2)
        batch = run(api, county)
        assert batch["status"] == "failed" and "part" in batch["message"]
        assert scalar("SELECT count(*) FROM finding") == 0

    def test_parts_follow_the_setting_and_the_cores_and_a_township_is_one(self) -> None:
        from services.identification.comparison import jobs
        from services.identification.settings import IdentificationSettings

        assert jobs.snapshot_parts("522323", IdentificationSettings(comparison_snapshot_parts=3)) == 3
        assert jobs.snapshot_parts("52", IdentificationSettings(comparison_snapshot_parts=0)) == (os.cpu_count() or 1)
        assert jobs.snapshot_parts("522323109", IdentificationSettings(comparison_snapshot_parts=4)) == 1
        target = Path("/x/snapshot-b.csv")
        assert jobs.part_files(target, 1) == [target]
        assert jobs.part_files(target, 2) == [Path("/x/snapshot-b-0.csv"), Path("/x/snapshot-b-1.csv")]
        ids = many_ids(3)
        assert len(set(ids)) == 3 and ids == sorted(ids) and all(len(i) == 36 and i[14] == "7" for i in ids)


def test_a_region_cache_is_held_by_one_batch_at_a_time_per_region() -> None:
    from services.identification.comparison import cache

    with cache.held("522323"):
        assert cache._LOCKS["522323"].locked()
        with cache.held("522324"):  # another region's cache is its own
            assert cache._LOCKS["522324"].locked()
        other = cache._LOCKS["522324"]
        assert other.acquire(blocking=False)  # free again once that batch is done with it
        other.release()
        assert not cache._LOCKS["522323"].acquire(blocking=False)  # the next batch of the region waits
    assert not cache._LOCKS["522323"].locked()
