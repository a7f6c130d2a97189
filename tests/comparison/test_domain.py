"""Pure rules of the comparison: resident-ID normalising (and its SQL twin), dataset kinds, resolutions."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.identification.comparison.matching import clean_sql, problem_sql, upgrade_sql
from services.identification.domain.comparison import Condition, Op, Resolution, kind_refusals, resolution_refusals
from services.identification.domain.resident_ids import normalise, problem, upgrade
from tests.support.builders import resident_id

ID = "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "normalised", "why"),
    [
        pytest.param(ID, ID, None, id="18 digits as they are"),
        pytest.param("11010519491231002x", ID, None, id="check character upper-cased"),
        pytest.param(" 110105 1949\t1231002X\u3000", ID, None, id="whitespace and ideographic space removed"),
        pytest.param("１１０１０５１９４９１２３１００２Ｘ", ID, None, id="full-width digits (全角)"),
        pytest.param("110105491231002", "11010519491231002X", None, id="15-digit legacy upgraded (一代证)"),
        pytest.param("110105194912310021", "110105194912310021", "checksum", id="bad check character"),
        pytest.param("110105194913310021", "110105194913310021", "birth_date", id="month 13"),
        pytest.param("1101051949", "1101051949", "format", id="too short"),
        pytest.param("", "", "empty", id="empty"),
    ],
)
def test_normalise_and_problem(raw: str, normalised: str, why: str | None) -> None:
    assert normalise(raw) == normalised
    assert problem(normalise(raw)) == why


def _legacy(full: str) -> str:
    return full[:6] + full[8:17]


@given(born=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)), sex=st.sampled_from(["male", "female"]))
def test_a_legacy_number_upgrades_to_its_18_digit_form(born: date, sex: str) -> None:
    full = resident_id(born=born, sex=sex)
    assert upgrade(_legacy(full)) == full
    assert problem(full) is None


ALPHABET = "0123456789Xx０１２３４５６７８９Ｘｘ \t\u3000\u00a0"


def _sql(con: duckdb.DuckDBPyConnection, raw: str) -> tuple[str, str | None]:
    sql = f"SELECT n, {problem_sql('n')} FROM (SELECT {upgrade_sql('c')} AS n FROM (SELECT {clean_sql('?')} AS c))"
    row = con.execute(sql, [raw]).fetchone()
    assert row is not None
    normalised, found = row
    return normalised, found


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(ALPHABET, max_size=22), st.builds(_legacy, st.just(ID)), st.just(ID.lower())))
def test_sql_twin_agrees_with_python(raw: str) -> None:
    with duckdb.connect() as con:
        assert _sql(con, raw) == (normalise(raw), problem(normalise(raw)))


COLUMNS = ["车辆类型", "登记日期"]


@pytest.mark.parametrize(
    ("rule", "conditions", "codes"),
    [
        pytest.param("七不进-3", [Condition("车辆类型", Op.in_list, ("轿车",))], [], id="七不进-3 car in list"),
        pytest.param("七不进-9", [], ["unknown_rule"], id="unknown rule"),
        pytest.param("七不进-3", [Condition("颜色", Op.in_list, ("红",))], ["unknown_column"], id="not evidence"),
        pytest.param("七不进-3", [Condition("车辆类型", Op.in_list)], ["values_missing"], id="in without values"),
        pytest.param("七不进-2", [Condition("登记日期", Op.after)], ["date_missing"], id="after without date"),
        pytest.param("pension", [Condition("登记日期", Op.above)], ["amount_missing"], id="above without amount"),
        pytest.param("七不进-2", [Condition("登记日期", Op.since_cutoff_year)], [], id="七不进-2 since cut-off"),
        pytest.param("deceased", [Condition("登记日期", Op.after_registration)], [], id="death after registration"),
    ],
)
def test_kind_refusals(rule: str, conditions: list[Condition], codes: list[str]) -> None:
    found = kind_refusals(key_column="身份证号", evidence_columns=COLUMNS, rule=rule, conditions=conditions)
    assert [r.code for r in found] == codes


def test_key_column_is_not_evidence_and_columns_do_not_repeat() -> None:
    found = kind_refusals(key_column="身份证号", evidence_columns=["身份证号", "a", "a"], rule="other", conditions=[])
    assert {r.code for r in found} == {"columns_repeat", "key_is_evidence"}


@pytest.mark.parametrize(
    ("reason", "already", "codes"),
    [
        pytest.param("核实为同名", None, [], id="dismissed with a reason"),
        pytest.param("  ", None, ["reason_missing"], id="no reason"),
        pytest.param("x", "confirmed", ["already_resolved"], id="resolved once only"),
    ],
)
def test_resolution_refusals(reason: str, already: str | None, codes: list[str]) -> None:
    found = resolution_refusals(resolution=Resolution.dismissed, reason=reason, already=already)
    assert [r.code for r in found] == codes
