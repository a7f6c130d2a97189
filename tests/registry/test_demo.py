"""Demo data (演示数据): a plausible county, the same bytes for the same seed, imported cleanly and only once."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from stdnum.cn import ric

from services.registry import demo
from shared.cli import stack
from shared.identity import parse_resident_id, validate_mobile
from shared.settings import StackSettings
from tests.registry.files import run_import
from tests.support.ports import free_port

HOUSEHOLDS = 300
CJK_NAME = re.compile(r"^[\u4e00-\u9fff]{2,3}$")
# Years between the head's birth and each relative's: children and grandchildren younger, parents older.
YOUNGER_BY = {"子女": (20, 35), "孙子女": (40, 70), "父母": (-35, -20), "配偶": (-5, 5)}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo-households.csv"
    demo.generate(path, HOUSEHOLDS)
    return path


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def households(rows: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    """The rows grouped by 户编号, checking that each household's rows sit together."""
    groups: list[list[dict[str, str]]] = []
    for row in rows:
        if not groups or groups[-1][0]["户编号"] != row["户编号"]:
            groups.append([])
        groups[-1].append(row)
    assert len(groups) == len({g[0]["户编号"] for g in groups})
    return groups


def born(row: dict[str, str]) -> date:
    return parse_resident_id(row["身份证号"]).birth_date


def years(earlier: date, later: date) -> float:
    return (later - earlier).days / 365.25


class TestFile:
    def test_the_same_seed_writes_the_same_bytes_and_a_larger_county_starts_with_a_smaller_one(
        self, demo_file: Path, tmp_path: Path
    ) -> None:
        demo.generate(tmp_path / "again.csv", HOUSEHOLDS)
        demo.generate(tmp_path / "other.csv", HOUSEHOLDS, seed=4)
        demo.generate(tmp_path / "larger.csv", HOUSEHOLDS + 50)
        assert (tmp_path / "again.csv").read_bytes() == demo_file.read_bytes()
        assert (tmp_path / "other.csv").read_bytes() != demo_file.read_bytes()
        assert (tmp_path / "larger.csv").read_bytes().startswith(demo_file.read_bytes())

    def test_it_is_shaped_like_the_benchmark_county(self, demo_file: Path) -> None:
        rows = read(demo_file)
        assert list(rows[0]) == demo.HEADERS
        assert len(households(rows)) == HOUSEHOLDS
        assert 3.1 < len(rows) / HOUSEHOLDS < 3.5  # 100,000 households ≈ 330,000 members

    def test_every_resident_id_is_valid_unique_and_agrees_with_its_row(self, demo_file: Path) -> None:
        rows = read(demo_file)
        numbers = [row["身份证号"] for row in rows]
        assert len(set(numbers)) == len(numbers)
        for row in rows:
            assert ric.is_valid(row["身份证号"]), row  # check digit, birth date and a county in force then
            rid = parse_resident_id(row["身份证号"])
            assert rid.sex == ("male" if row["性别"] == "男" else "female"), row
            assert rid.region_code in (demo.COUNTY, *demo.MARRIED_IN_FROM), row
        assert {parse_resident_id(n).region_code for n in numbers} > {demo.COUNTY}  # some wives married in

    def test_relations_and_ages_hang_together(self, demo_file: Path) -> None:
        relations: Counter[str] = Counter()
        for family in households(read(demo_file)):
            head, others = family[0], family[1:]
            assert head["与户主关系"] == "户主" and all(r["与户主关系"] != "户主" for r in others)
            assert date(1945, 1, 1) <= born(head) <= date(1990, 12, 31)
            for row in others:
                low, high = YOUNGER_BY[row["与户主关系"]]
                assert low <= years(born(head), born(row)) <= high, (head, row)
                relations[row["与户主关系"]] += 1
            spouses = [r for r in others if r["与户主关系"] == "配偶"]
            assert len(spouses) <= 1 and all(s["性别"] != head["性别"] for s in spouses)
            assert sum(r["与户主关系"] == "父母" for r in others) <= 2
            children = [born(r) for r in others if r["与户主关系"] == "子女"]
            grandchildren = [born(r) for r in others if r["与户主关系"] == "孙子女"]
            assert not grandchildren or (children and min(grandchildren) > max(children))
            assert all(born(r) < date.fromisoformat(head["登记日期"]) for r in family)  # before 建档
        assert set(relations) == {"配偶", "子女", "父母", "孙子女"}

    def test_names_statuses_and_phones_look_like_a_county_archive(self, demo_file: Path) -> None:
        rows = read(demo_file)
        assert all(CJK_NAME.match(r["姓名"]) and r["姓名"][0] in demo.SURNAMES for r in rows)
        assert len({r["姓名"] for r in rows}) > len(rows) * 0.6
        heads = [r for r in rows if r["与户主关系"] == "户主"]
        statuses = Counter(r["户状态"] for r in heads)
        assert statuses.most_common(1)[0][0] == "贫困户" and {"已脱贫", "一般农户"} <= set(statuses)
        assert Counter(r["主要致贫原因"] for r in heads).most_common(1)[0][0] == "因病"
        phones = [r["联系电话"] for r in rows if r["联系电话"]]
        assert 0 < len(phones) < len(heads) / 2
        assert all(validate_mobile(p) == p for p in phones)
        assert all(r["与户主关系"] == "户主" for r in rows if r["联系电话"])
        children = [r for r in rows if years(born(r), demo.FIRST_DAY) < 14]  # under 16 when registered
        assert children and all(r["劳动能力"] == "无劳动力" for r in children)


@pytest.mark.integration
def test_the_registry_imports_it_with_no_error_and_a_second_import_changes_nothing(
    api, county, sql, demo_file: Path
) -> None:
    rows = len(read(demo_file))
    job = run_import(api, county, demo_file)
    assert (job["status"], job["error_count"]) == ("done", 0), job
    assert (job["households_created"], job["members_created"]) == (HOUSEHOLDS, rows)
    again = run_import(api, county, demo_file)
    assert (again["status"], again["error_count"], again["rows_unchanged"]) == ("done", 0, rows), again
    assert (again["households_created"], again["members_created"]) == (0, 0)
    assert sql("SELECT count(*) FROM household") == HOUSEHOLDS


def test_up_says_why_the_demo_import_failed_and_carries_on(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    nobody = StackSettings(data_dir=tmp_path, port_base=free_port() - 1, jwt_secret="x" * 40)  # nothing listens
    stack._import_demo(nobody, tmp_path, 5, lambda: False)
    assert "demo data not imported" in capsys.readouterr().err
    assert (tmp_path / "demo-households.csv").exists()
