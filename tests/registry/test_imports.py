"""Bulk import: bad rows reported by row, column and reason; good rows land; the same file twice is a no-op."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from services.registry import events
from services.registry.imports import job as job_module
from services.registry.imports import reading
from services.registry.imports.leases import hold
from services.registry.imports.template import COLUMNS
from services.registry.main import create_app
from services.registry.models import ImportJob
from shared.clock import FrozenClock
from shared.db import Database
from shared.events import outbox as outbox_module
from shared.events.catalogue import validate_data
from shared.events.envelope import Envelope
from tests.registry.files import household_rows, member_row, write_csv, write_xlsx
from tests.registry.files import run_import as run

pytestmark = pytest.mark.integration


def errors(api: Any, headers: dict[str, str], job_id: str) -> set[tuple[int, str]]:
    page = api.get(f"/api/v1/imports/{job_id}/errors", headers=headers).json()
    return {(e["row"], e["column"]) for e in page["items"]}


def mixed_file() -> list[dict[str, str]]:
    """Rows 2–4 and 5–6 are good households; rows 7–12 each carry one fault."""
    bad_checksum = member_row("HK-BAD-1", "赵一", "户主", born=date(1970, 1, 1))
    bad_checksum["身份证号"] = bad_checksum["身份证号"][:17] + ("0" if bad_checksum["身份证号"][-1] != "0" else "1")
    wrong_birth = member_row("HK-BAD-2", "钱二", "户主", born=date(1971, 1, 1)) | {"出生日期": "1971-01-02"}
    nowhere = member_row("HK-BAD-3", "孙三", "户主", born=date(1972, 1, 1)) | {"区划代码": "522323109999"}
    no_name = member_row("HK-BAD-4", "", "户主", born=date(1973, 1, 1))
    bad_cause = member_row("HK-BAD-5", "周五", "户主", born=date(1974, 1, 1)) | {"主要致贫原因": "穷"}
    two_heads_a = member_row("HK-BAD-6", "吴六", "户主", born=date(1975, 1, 1))
    return [
        *household_rows("HK-GOOD-1", 3),
        *household_rows("HK-GOOD-2", 2),
        bad_checksum,
        wrong_birth,
        nowhere,
        no_name,
        bad_cause,
        two_heads_a,
        member_row("HK-BAD-6", "吴七", "户主", born=date(1976, 1, 1)),
    ]


class TestImport:
    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_bad_rows_reported_good_rows_land_and_a_second_run_changes_nothing(
        self, api, county, sql, tmp_path, suffix
    ):
        rows = mixed_file()
        path = tmp_path / f"households{suffix}"
        write = write_csv if suffix == ".csv" else write_xlsx
        write(path, rows)
        job = run(api, county, path)
        assert job["status"] == "done", job
        assert (job["rows_total"], job["rows_done"]) == (12, 12)
        assert (job["households_created"], job["members_created"]) == (2, 5)
        assert errors(api, county, job["id"]) == {
            (7, "身份证号"),
            (8, "身份证号"),
            (9, "区划代码"),
            (10, "姓名"),
            (11, "主要致贫原因"),
            (12, "与户主关系"),
            (13, "与户主关系"),
        }
        reasons = api.get(f"/api/v1/imports/{job['id']}/errors", headers=county).json()["items"]
        assert any("校验码" in e["reason"] for e in reasons)
        assert sql("SELECT count(*) FROM household") == 2
        assert sql("SELECT count(*) FROM member") == 5
        assert sql("SELECT count(*) FROM outbox WHERE event_type = 'household.registered'") == 2

        write(path, rows)
        again = run(api, county, path)
        assert (again["households_created"], again["members_created"], again["rows_unchanged"]) == (0, 0, 5)
        assert errors(api, county, again["id"]) == errors(api, county, job["id"])
        assert sql("SELECT count(*) FROM household") == 2
        assert sql("SELECT count(*) FROM member") == 5
        assert sql("SELECT count(*) FROM outbox") == 2

        listed = api.get("/api/v1/households", params={"q": "王大山"}, headers=county).json()["items"]
        assert {h["hukou_number"] for h in listed} == {"HK-GOOD-1", "HK-GOOD-2"}

    def test_a_member_already_active_elsewhere_keeps_the_household_out(self, api, county, sql, tmp_path):
        first = household_rows("HK-A", 2)
        write_csv(tmp_path / "a.csv", first)
        run(api, county, tmp_path / "a.csv")
        clash = household_rows("HK-B", 2)
        clash[1]["身份证号"] = first[1]["身份证号"]
        job = run(api, county, write_csv(tmp_path / "b.csv", clash))
        assert job["households_created"] == 0
        assert errors(api, county, job["id"]) == {(3, "身份证号"), (2, "户编号")}
        assert sql("SELECT count(*) FROM household") == 1

    def test_gb18030_csv_from_excel_is_read(self, api, county, sql, tmp_path):
        job = run(api, county, write_csv(tmp_path / "gbk.csv", household_rows("HK-GBK", 3), encoding="gb18030"))
        assert (job["households_created"], job["error_count"]) == (1, 0)

    def test_rows_outside_the_cadres_village_are_refused(self, api, cadre, tmp_path):
        rows = [r | {"区划代码": "522323109002"} for r in household_rows("HK-ELSEWHERE", 2)]
        job = run(api, cadre, write_csv(tmp_path / "x.csv", rows))
        assert job["households_created"] == 0
        assert (2, "区划代码") in errors(api, cadre, job["id"])

    def test_a_file_without_the_required_columns_fails_with_a_message(self, api, county, tmp_path):
        path = tmp_path / "wrong.csv"
        path.write_text("name,id\n张三,1\n", encoding="utf-8")
        job = run(api, county, path)
        assert job["status"] == "failed" and "户编号" in job["message"]

    def test_the_template_has_the_documented_headers(self, api, county):
        response = api.get("/api/v1/imports/template.xlsx", headers=county)
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
        assert sheet[0] == [c.header for c in COLUMNS]
        csv_text = api.get("/api/v1/imports/template.csv", headers=county).content.decode("utf-8-sig")
        assert csv_text.splitlines()[0].split(",")[:3] == ["户编号", "区划代码", "村民小组"]


# --- the template's further columns: land, housing, water and power, 两不愁三保障, access, 七不进, 登记日期 ---

FULL_HOUSEHOLD = {
    "登记日期": "2015/3/8",
    "耕地面积(亩)": "3.5",
    "林地面积(亩)": "12",
    "草地面积(亩)": "0",
    "主要种植": "玉米、茶叶",
    "主要养殖": "生猪",
    "住房安全等级": "C级",
    "住房结构": "土坯房",
    "易地扶贫搬迁": "已搬迁",
    "危房改造年度": "2018",
    "饮水安全": "否",
    "饮水问题": "取水不便",
    "通生活用电": "是",
    "不愁吃": "是",
    "不愁穿": "是",
    "义务教育有保障": "是",
    "住房安全有保障": "否",
    "基本医疗有保障": "是",
    "通硬化路": "是",
    "通电话": "是",
    "通宽带": "否",
    "有小汽车": "否",
    "有大型农机具": "是",
    "经营企业": "否",
    "新建购房年度": "2012",
    "全家外出": "否",
}


def household_id(sql: Any, hukou: str) -> str:
    return sql("SELECT id FROM household WHERE hukou_number = :h", h=hukou)


class TestTemplateColumns:
    def test_every_block_lands_on_the_household_and_reads_back(self, api, county, sql, tmp_path):
        rows = household_rows("HK-FULL", 3)
        rows[0] |= FULL_HOUSEHOLD | {"村干部": "是", "联系电话": "138 0013 8000"}
        rows[1] |= {"财政供养": "是", "劳动能力": "普通劳动力", "健康状况": "残疾"}
        job = run(api, county, write_csv(tmp_path / "full.csv", rows))
        assert (job["households_created"], job["members_created"], job["error_count"]) == (1, 3, 0), job

        body = api.get(f"/api/v1/households/{household_id(sql, 'HK-FULL')}", headers=county).json()
        assert body["registered_on"] == "2015-03-08"
        land = body["land"]
        assert [Decimal(land[k]) for k in ("cultivated_mu", "forest_mu", "grassland_mu")] == [
            Decimal("3.5"),
            Decimal("12"),
            Decimal("0"),
        ]
        assert (land["crops"], land["livestock"]) == ("玉米、茶叶", "生猪")
        assert body["housing"] == {
            "grade": "C",
            "structure": "adobe",
            "relocation": "relocated",
            "renovated_year": 2018,
        }
        assert body["utilities"] == {"safe_water": False, "water_issue": "inconvenient", "electricity": True}
        assert body["assurances"] == {
            "food": True,
            "clothing": True,
            "education": True,
            "housing": False,
            "medical": True,
        }
        assert body["access"] == {"road": True, "phone": True, "broadband": False}
        assert body["exclusions"] == {
            "vehicle": False,
            "machinery": True,
            "enterprise": False,
            "new_house_year": 2012,
            "family_away": False,
        }
        by_relation = {m["relation"]: m for m in body["members"]}
        assert by_relation["head"]["village_cadre"] is True
        assert by_relation["head"]["public_payroll"] is False
        assert by_relation["spouse"]["public_payroll"] is True
        assert (by_relation["spouse"]["labour"], by_relation["spouse"]["health"]) == ("full", "disabled")
        assert {m["joined_on"] for m in body["members"]} == {"2015-03-08"}  # members since the registration
        assert sql("SELECT phone FROM member WHERE relation = 'head'") == "13800138000"

        again = run(api, county, write_csv(tmp_path / "full.csv", rows))
        assert (again["households_created"], again["rows_unchanged"], again["error_count"]) == (0, 3, 0)

    def test_a_file_with_only_some_of_the_columns_imports(self, api, county, sql, tmp_path):
        columns = ["户编号", "区划代码", "家庭住址", "姓名", "身份证号", "与户主关系", "住房安全等级"]
        rows = household_rows("HK-FEW", 2)
        rows[0]["住房安全等级"] = "B"
        path = tmp_path / "few.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        job = run(api, county, path)
        assert (job["households_created"], job["members_created"], job["error_count"]) == (1, 2, 0), job
        assert sql("SELECT housing_grade FROM household") == "B"

    def test_empty_cells_take_the_tables_defaults(self, api, county, sql, tmp_path):
        job = run(api, county, write_csv(tmp_path / "plain.csv", household_rows("HK-PLAIN", 2)))
        assert job["households_created"] == 1
        body = api.get(f"/api/v1/households/{household_id(sql, 'HK-PLAIN')}", headers=county).json()
        assert body["registered_on"] == "2025-06-16"  # the import day (the tests' frozen clock)
        assert (body["status"], body["hukou_type"], body["housing"]["relocation"]) == ("poor", "agricultural", "none")
        assert body["exclusions"]["vehicle"] is False and body["utilities"]["safe_water"] is None

    @pytest.mark.parametrize(
        ("header", "value", "reason"),
        [
            ("住房安全等级", "E级", "unknown 住房安全等级"),
            ("住房结构", "茅草房", "unknown 住房结构"),
            ("易地扶贫搬迁", "也许", "unknown 易地扶贫搬迁"),
            ("饮水问题", "太远", "unknown 饮水问题"),
            ("饮水安全", "大概", "is not 是 or 否"),
            ("有小汽车", "两辆", "is not 是 or 否"),
            ("耕地面积(亩)", "-2", "not an area"),
            ("林地面积(亩)", "1.234", "more than 2 decimals"),
            ("草地面积(亩)", "许多", "not a number"),
            ("危房改造年度", "1900", "outside 1950–2100"),
            ("新建购房年度", "去年", "not a number"),
            ("登记日期", "2099-01-01", "in the future"),
            ("登记日期", "2015-02-30", "not a date"),
            ("财政供养", "x", "is not 是 or 否"),
            ("次要致贫原因", "因病、穷", "unknown 次要致贫原因"),
            ("村民小组", "100", "outside 1–99"),
            ("家庭住址", "长" * 201, "longer than 200"),
        ],
        ids=lambda v: v if len(str(v)) < 20 else "long",
    )
    def test_a_bad_code_or_value_is_reported_on_its_row_and_column(
        self, api, county, sql, tmp_path, header, value, reason
    ):
        good = household_rows("HK-OK", 2)
        bad = [member_row("HK-BAD", "郑九", "户主", born=date(1980, 5, 6)) | {header: value}]
        job = run(api, county, write_csv(tmp_path / "bad.csv", good + bad))
        assert (job["households_created"], job["error_count"]) == (1, 1), job
        items = api.get(f"/api/v1/imports/{job['id']}/errors", headers=county).json()["items"]
        assert [(e["row"], e["column"]) for e in items] == [(4, header)]
        assert reason in items[0]["reason"]

    def test_household_columns_are_read_from_the_head_row_and_checked_on_every_row(self, api, county, sql, tmp_path):
        rows = household_rows("HK-HEAD", 3)
        rows[0] |= {"住房安全等级": "B级", "登记日期": "2016-01-02"}
        rows[1] |= {"住房安全等级": "D级", "登记日期": "2017-01-01"}  # a member row's household cells are not used
        job = run(api, county, write_csv(tmp_path / "head.csv", rows))
        assert (job["households_created"], job["error_count"]) == (1, 0)
        assert sql("SELECT housing_grade FROM household") == "B"
        other = household_rows("HK-HEAD-2", 3)
        other[2] |= {"住房安全等级": "Z级"}  # but they are checked
        job = run(api, county, write_csv(tmp_path / "head2.csv", other))
        assert job["households_created"] == 0
        assert errors(api, county, job["id"]) == {(4, "住房安全等级"), (2, "户编号"), (3, "户编号")}

    def test_the_template_files_sample_household_imports(self, api, county, sql, tmp_path):
        for suffix in ("csv", "xlsx"):
            path = tmp_path / f"template.{suffix}"
            path.write_bytes(api.get(f"/api/v1/imports/template.{suffix}", headers=county).content)
            job = run(api, county, path)
            created = 1 if suffix == "csv" else 0  # the second file holds the same household: a no-op
            assert (job["households_created"], job["error_count"]) == (created, 0), job
        assert sql("SELECT housing_grade FROM household") == "C"

    def test_the_xlsx_template_explains_every_column(self, api, county):
        content = api.get("/api/v1/imports/template.xlsx", headers=county).content
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        assert book.sheet_names == ["户籍成员", "填写说明"]
        notes = book.get_sheet_by_index(1).to_python()
        assert [row[0] for row in notes[1 : len(COLUMNS) + 1]] == [c.header for c in COLUMNS]
        assert all(row[2] for row in notes[1 : len(COLUMNS) + 1])


# --- how the job runs: chunks, progress, retries, outbox rows, abandoned jobs ---


class TestJob:
    def test_households_that_straddle_chunks_land_whole_and_progress_commits_chunk_by_chunk(
        self, api, county, sql, tmp_path, monkeypatch
    ):
        monkeypatch.setattr(reading, "CHUNK_ROWS", 4)
        progress: list[int] = []

        def spy(land):  # type: ignore[no-untyped-def]
            def landed(db, importer, *args, **kw):  # type: ignore[no-untyped-def]
                land(db, importer, *args, **kw)
                with db.reader() as session:  # what GET /imports/{id} sees between two chunks
                    progress.append(session.get(ImportJob, importer.job_id).rows_done)

            return landed

        monkeypatch.setattr(job_module, "_land_inline", spy(job_module._land_inline))  # SQLite
        monkeypatch.setattr(job_module, "_write", spy(job_module._write))  # PostgreSQL's writer thread
        rows = [r for i in range(5) for r in household_rows(f"HK-CHUNK-{i}", 3)]
        job = run(api, county, write_csv(tmp_path / "chunks.csv", rows))
        assert (job["status"], job["households_created"], job["members_created"]) == ("done", 5, 15)
        assert (job["rows_total"], job["rows_done"]) == (15, 15)
        assert len(progress) >= 4 and progress == sorted(progress) and progress[-1] == 15
        heads = sql("SELECT count(*) FROM household h JOIN member m ON m.id = h.head_member_id")
        assert heads == 5
        assert sql("SELECT count(DISTINCT household_id) FROM member") == 5

    def test_a_chunk_that_loses_a_race_on_a_unique_key_is_read_again(self, api, county, sql, tmp_path, monkeypatch):
        monkeypatch.setattr(reading, "CHUNK_ROWS", 4)  # three chunks: the first one clashes
        write = job_module.Importer.write
        calls: list[int] = []

        def clash_once(self, session, plan, **kw):  # type: ignore[no-untyped-def]
            calls.append(1)
            write(self, session, plan, **kw)
            if len(calls) == 1:  # written, then lost: the transaction rolls back
                raise IntegrityError("INSERT INTO member", {}, Exception("duplicate key (a concurrent import)"))

        monkeypatch.setattr(job_module.Importer, "write", clash_once)
        rows = [r for i in range(3) for r in household_rows(f"HK-RACE-{i}", 3)]
        job = run(api, county, write_csv(tmp_path / "race.csv", rows))
        assert (job["status"], job["households_created"], job["members_created"]) == ("done", 3, 9)
        assert (job["rows_done"], job["error_count"]) == (9, 0)
        assert len(calls) == 4
        assert (sql("SELECT count(*) FROM household"), sql("SELECT count(*) FROM member")) == (3, 9)
        assert sql("SELECT count(*) FROM outbox") == 3

    def test_two_imports_of_overlapping_files_at_once_register_each_household_once(
        self, api, registry_url, clock, sql, tmp_path, monkeypatch
    ):
        monkeypatch.setattr(reading, "CHUNK_ROWS", 7)
        shared = [r for i in range(40) for r in household_rows(f"HK-BOTH-{i}", 3)]
        files = {
            "a": shared + [r for i in range(4) for r in household_rows(f"HK-A-{i}", 2)],
            "b": [r for i in range(4) for r in household_rows(f"HK-B-{i}", 2)] + shared[::-1],
        }
        db = Database(registry_url, service="registry", clock=clock)
        try:
            with db.transaction() as session:
                jobs = {name: ImportJob(filename=name, created_by="x", created_at=clock.now()) for name in files}
                session.add_all(jobs.values())
                session.flush()
                ids = {name: job.id for name, job in jobs.items()}
            threads = [
                threading.Thread(
                    target=job_module.run_import, args=(db, ids[name], write_csv(tmp_path / f"{name}.csv", rows))
                )
                for name, rows in files.items()
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            with db.reader() as session:
                done = [session.get(ImportJob, job_id).model_dump() for job_id in ids.values()]
        finally:
            db.dispose()
        assert {job["status"] for job in done} == {"done"}, [job["message"] for job in done]
        assert sum(job["households_created"] for job in done) == 48
        assert sql("SELECT count(*) FROM household") == 48
        assert sql("SELECT count(*) FROM member") == 40 * 3 + 8 * 2
        assert sql("SELECT count(*) FROM outbox") == 48
        assert sql("SELECT count(DISTINCT id_number) FROM member") == 136

    def test_the_outbox_rows_are_the_events_modules_household_registered(self, api, county, registry_url, tmp_path):
        rows = household_rows("HK-EV-1", 3) + household_rows("HK-EV-2", 1)
        run(api, county, write_csv(tmp_path / "events.csv", rows))
        engine = create_engine(registry_url)
        try:
            with engine.connect() as conn:
                payloads = [json.loads(p) for (p,) in conn.execute(text("SELECT payload FROM outbox ORDER BY seq"))]
                heads = dict(conn.execute(text("SELECT id, head_member_id FROM household")).all())
                members = conn.execute(text("SELECT household_id, id FROM member ORDER BY id")).all()
        finally:
            engine.dispose()
        assert [Envelope.model_validate(p).type for p in payloads] == ["household.registered"] * 2
        for payload in payloads:
            data = payload["data"]
            assert data == validate_data("household.registered", data)
            assert data["head_member_id"] == heads[data["household_id"]]
            assert sorted(data["member_ids"]) == sorted(m for h, m in members if h == data["household_id"])
            assert (data["version"], data["status"], payload["subject"]) == (1, "poor", data["household_id"])

    def test_the_fast_outbox_rows_are_the_envelope_model_and_fall_back_when_it_changes(self, monkeypatch):
        """The import's rows come from shared's fast path (``outbox_rows``); checked here against the envelope model,
        and when the model's rendering changes (a field more), every row is made by the model instead."""
        session = SimpleNamespace(info={"clock": FrozenClock(datetime(2025, 6, 16, 10)), "service": "registry"})
        household = ("h-1", "522323109001", "m-1", ("m-1", "m-2"), "poor", 1)
        [fast] = events.registered_rows(session, [household], created_at="now", event_ids=["e-1"])  # type: ignore[arg-type]
        data = {"household_id": "h-1", "region_code": "522323109001", "head_member_id": "m-1"}
        data |= {"member_ids": ["m-1", "m-2"], "version": 1, "status": "poor"}
        reference = Envelope(
            id="e-1",
            type="household.registered",
            source="registry",
            subject="h-1",
            time=session.info["clock"].now(),
            data=validate_data("household.registered", data),
        )
        assert fast[:3] + fast[4:] == ("e-1", "household.registered", "h-1", "now")
        assert json.loads(fast[3]) == json.loads(reference.model_dump_json())

        validate = outbox_module.validate_data
        monkeypatch.setattr(outbox_module, "validate_data", lambda t, d: validate(t, d) | {"town": "青山镇"})
        [slow] = events.registered_rows(session, [household], created_at="now", event_ids=["e-1"])  # type: ignore[arg-type]
        assert json.loads(slow[3])["data"]["town"] == "青山镇"
        assert json.loads(slow[3])["id"] == "e-1"


class TestAbandonedJobs:
    def test_a_job_left_running_by_a_runner_that_died_is_failed_on_start_and_a_live_one_is_kept(
        self, api, county, registry_url, stack, clock, tmp_path
    ):
        db = Database(registry_url, service="registry", clock=clock)
        try:
            with db.transaction() as session:
                jobs = [
                    ImportJob(filename=f"{name}.csv", created_by="x", region_scope="522323", created_at=clock.now())
                    for name in ("dead", "alive")
                ]
                for job in jobs:
                    job.status = "running"
                    session.add(job)
                session.flush()
                dead, alive = (job.id for job in jobs)
            # The live job's runner holds its lease; the service starts again.
            with hold(db, alive), TestClient(create_app(stack=stack, clock=clock)) as restarted:
                died = restarted.get(f"/api/v1/imports/{dead}", headers=county).json()
                assert died["status"] == "failed"
                assert "interrupted" in died["message"] and died["finished_at"]
                assert restarted.get(f"/api/v1/imports/{alive}", headers=county).json()["status"] == "running"
            # Its runner gone too, the next import notices.
            run(api, county, write_csv(tmp_path / "next.csv", household_rows("HK-NEXT", 2)))
            assert api.get(f"/api/v1/imports/{alive}", headers=county).json()["status"] == "failed"
        finally:
            db.dispose()

    def test_a_finished_job_is_left_alone(self, api, county, tmp_path):
        job = run(api, county, write_csv(tmp_path / "one.csv", household_rows("HK-ONE", 2)))
        run(api, county, write_csv(tmp_path / "two.csv", household_rows("HK-TWO", 2)))
        after = api.get(f"/api/v1/imports/{job['id']}", headers=county).json()
        assert (after["status"], after["message"]) == ("done", None)
