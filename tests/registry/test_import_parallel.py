"""Bulk import with the file read in a parser process (``imports/parallel.py``), forced on for small files:
the same households land and the same rows are reported as when the job reads the file itself."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from services.registry.imports import job as job_module
from services.registry.imports import parallel, reading
from services.registry.main import SPEC
from services.registry.models import ImportJob, ImportRowError
from shared.clock import FrozenClock
from shared.db import Database, upgrade
from tests.registry.files import household_rows, member_row, write_csv, write_xlsx
from tests.registry.files import run_import as run
from tests.registry.test_imports import mixed_file

pytestmark = pytest.mark.integration
PARSERS = "import-parser"


def parsers() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == PARSERS]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few rows, so that a small file straddles many."""
    monkeypatch.setattr(reading, "CHUNK_ROWS", 4)
    monkeypatch.setattr(reading, "FIRST_ROWS", 2)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[parallel.Parser]]:
    """Every parser started while the test runs; none may be left running after it."""
    made: list[parallel.Parser] = []
    init = parallel.Parser.__init__

    def spy(self: parallel.Parser, *args: Any, **kw: Any) -> None:
        init(self, *args, **kw)
        made.append(self)

    monkeypatch.setattr(parallel.Parser, "__init__", spy)
    yield made
    assert parsers() == []


Outcome = tuple[dict[str, Any], list[tuple[int, str, str]]]


@pytest.fixture
def import_on(
    database_url: Callable[[str], str], clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Outcome]:
    """Import a file with the job itself (not through the API) into a database of its own, the file read in
    line or by a parser process; the job (without its ids and times) and its row errors."""
    urls: dict[str, str] = {}

    def run_job(path: Path, *, parallel_from: int, into: str) -> Outcome:
        if into not in urls:
            urls[into] = database_url(f"imp_{into}")
            upgrade(SPEC.migrations, urls[into], service="registry")
        monkeypatch.setattr(reading, "PARALLEL_FROM", parallel_from)
        db = Database(urls[into], service="registry", clock=clock)
        try:
            with db.transaction() as session:
                job = ImportJob(filename=path.name, created_by="x", region_scope="522323", created_at=clock.now())
                session.add(job)
                session.flush()
                job_id = job.id
            spooled = path.with_name(f"{uuid.uuid4().hex}{path.suffix}")  # the job removes its file
            shutil.copyfile(path, spooled)
            job_module.run_import(db, job_id, spooled)
            with db.reader() as session:
                done = session.get(ImportJob, job_id)
                assert done is not None
                kept = done.model_dump(exclude={"id", "filename", "created_at", "finished_at"})
                errors = session.exec(
                    select(ImportRowError.row, ImportRowError.column, ImportRowError.reason).where(
                        ImportRowError.job_id == job_id
                    )
                ).all()
        finally:
            db.dispose()
        return kept, sorted((r, c, reason) for r, c, reason in errors)

    return run_job


def big_mixed_file() -> list[dict[str, str]]:
    """Good households around the mixed file's bad ones, and one household's rows cut by many chunks."""
    rows = [r for i in range(12) for r in household_rows(f"HK-P-{i}", 1 + i % 4)]
    rows += mixed_file()
    rows += [member_row("HK-BIG", "王大山", "户主", born=date(1950, 1, 1))]
    rows += [member_row("HK-BIG", f"王{i}", "子女", born=date(1980 + i, 2, 3)) for i in range(9)]
    rows += [r for i in range(5) for r in household_rows(f"HK-Q-{i}", 3)]
    return rows


class TestSameAsInLine:
    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_good_rows_land_and_bad_rows_are_reported_as_in_line_and_a_second_run_changes_nothing(
        self, import_on, small_chunks, started, tmp_path, suffix
    ):
        path = tmp_path / f"mixed{suffix}"
        (write_csv if suffix == ".csv" else write_xlsx)(path, big_mixed_file())
        in_line = import_on(path, parallel_from=10**9, into="inline")
        assert started == []
        elsewhere = import_on(path, parallel_from=0, into="parallel")
        assert len(started) == 1
        assert elsewhere == in_line
        job, errors = elsewhere
        assert job["status"] == "done" and job["households_created"] == 12 + 2 + 1 + 5, job
        assert {(r, c) for r, c, _ in errors} >= {(7 + 30, "身份证号"), (12 + 30, "与户主关系")}

        again = import_on(path, parallel_from=0, into="parallel")
        assert (again[0]["households_created"], again[0]["members_created"]) == (0, 0)
        assert again[0]["rows_unchanged"] == job["members_created"]
        assert again[1] == errors
        assert again == import_on(path, parallel_from=10**9, into="inline")

    def test_a_file_without_the_required_columns_fails_before_any_parser_starts(
        self, api, county, started, tmp_path, monkeypatch
    ):
        monkeypatch.setattr(reading, "PARALLEL_FROM", 0)
        path = tmp_path / "wrong.csv"
        path.write_text("name,id\n张三,1\n", encoding="utf-8")
        job = run(api, county, path)
        assert job["status"] == "failed" and "户编号" in job["message"]
        assert started == []

    def test_an_xlsx_damaged_part_way_fails_the_job_as_in_line_after_the_chunks_before_it(
        self, import_on, started, tmp_path, monkeypatch
    ):
        monkeypatch.setattr(reading, "CHUNK_ROWS", 100)
        rows = [r for i in range(400) for r in household_rows(f"HK-D-{i}", 3, day=i)]
        path = write_xlsx(tmp_path / "damaged.xlsx", rows)
        with zipfile.ZipFile(path) as zf:
            parts = {name: zf.read(name) for name in zf.namelist()}
        sheet = parts["xl/worksheets/sheet1.xml"]
        cut = sheet.index(b'<row r="1000"')  # past the reader's first 256 KB; the dimension stays
        parts["xl/worksheets/sheet1.xml"] = sheet[:cut] + b'<row r="1000"><c r="A1000"><v>1</v></row>'
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in parts.items():
                zf.writestr(name, data)
        in_line = import_on(path, parallel_from=10**9, into="inline")
        elsewhere = import_on(path, parallel_from=0, into="parallel")
        assert len(started) == 1
        assert elsewhere == in_line
        job = elsewhere[0]
        assert job["status"] == "failed" and "mismatched" in job["message"], job
        assert job["rows_total"] == 1200 and 0 < job["rows_done"] < 999 and job["households_created"] > 0


class TestThroughTheApi:
    def test_households_that_straddle_chunks_land_whole_and_progress_commits_chunk_by_chunk(
        self, api, county, sql, small_chunks, started, tmp_path, monkeypatch
    ):
        monkeypatch.setattr(reading, "PARALLEL_FROM", 0)
        progress: list[int] = []
        land = job_module.Importer.write

        def spy(self, session, plan, **kw):  # type: ignore[no-untyped-def]
            land(self, session, plan, **kw)
            progress.append(plan.tally.rows_done)

        monkeypatch.setattr(job_module.Importer, "write", spy)
        rows = [r for i in range(5) for r in household_rows(f"HK-CHUNK-{i}", 3)]
        job = run(api, county, write_csv(tmp_path / "chunks.csv", rows))
        assert len(started) == 1
        assert (job["status"], job["households_created"], job["members_created"]) == ("done", 5, 15)
        assert (job["rows_total"], job["rows_done"]) == (15, 15)
        assert len(progress) >= 4 and sum(progress) == 15
        assert sql("SELECT count(*) FROM household h JOIN member m ON m.id = h.head_member_id") == 5
        assert sql("SELECT count(DISTINCT household_id) FROM member") == 5

    def test_a_parser_killed_part_way_fails_the_job_with_a_message_and_leaves_no_process(
        self, api, county, sql, started, tmp_path, monkeypatch
    ):
        monkeypatch.setattr(reading, "PARALLEL_FROM", 0)
        monkeypatch.setattr(reading, "CHUNK_ROWS", 100)
        monkeypatch.setattr(reading, "FIRST_ROWS", 100)
        plan = job_module.Importer.plan
        killed: list[int] = []

        def kill_first(self, households, found):  # type: ignore[no-untyped-def]
            if not killed:  # the first chunk is in; the parser is still reading (the pipe holds ~64 KB)
                [parser] = started
                assert parser.process.pid is not None
                os.kill(parser.process.pid, signal.SIGKILL)
                killed.append(parser.process.pid)
            return plan(self, households, found)

        monkeypatch.setattr(job_module.Importer, "plan", kill_first)
        rows = [r for i in range(1500) for r in household_rows(f"HK-KILL-{i}", 2, day=i)]  # ~400 KB pickled
        job = run(api, county, write_csv(tmp_path / "killed.csv", rows))
        assert killed
        assert job["status"] == "failed", job
        assert "killed by signal 9" in job["message"] and "Import the file again" in job["message"]
        assert 0 < job["rows_done"] < 3000
        assert sql("SELECT count(*) FROM member") == job["members_created"] == job["rows_done"]
        assert parsers() == []
        with pytest.raises(ValueError, match="closed"):  # joined and closed
            started[0].process.is_alive()

    def test_a_large_file_is_read_by_a_parser_by_default_and_a_small_one_in_line(self, api, county, started, tmp_path):
        rows = household_rows("HK-SMALL", 3)
        job = run(api, county, write_csv(tmp_path / "small.csv", rows))
        assert (job["status"], started) == ("done", [])
        assert reading.PARALLEL_FROM >= 10_000
