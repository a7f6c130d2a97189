"""Pure registry rules, table-driven with the Chinese term in each case id."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain.changes import ChangeKind, Period, birth_matches, check_change_date, member_on
from services.registry.domain.codes import CAUSE_LABELS, Cause, ContactKind, Rank, Status, parse_label
from services.registry.domain.contacts import duty_on
from services.registry.domain.helpers import DEFAULT_LOADS, load_refusal, release_refusal
from services.registry.domain.income import IncomeLines, net_income, per_capita_net_income
from services.registry.domain.members import MemberFacts, check_identity, check_members
from services.registry.domain.regions import Level, narrow_scope, parse_region_code
from shared.errors import ValidationFailed
from tests.support.builders import resident_id

BORN = date(1980, 5, 17)
GOOD = resident_id(born=BORN, sex="female", serial=7)


def with_check_digit(number: str, digit: str) -> str:
    return number[:17] + digit


class TestResidentId:
    @pytest.mark.parametrize(
        ("id_number", "sex", "birth", "message"),
        [
            pytest.param(
                with_check_digit(GOOD, "0" if GOOD[-1] != "0" else "1"),
                None,
                None,
                "校验码错误",
                id="身份证校验码 wrong check digit",
            ),
            pytest.param("52232319801317002X", None, None, "birth date", id="出生日期 impossible month 13"),
            pytest.param(GOOD, "male", None, "sex male does not match", id="性别不符 ID says female"),
            pytest.param(
                GOOD, None, date(1980, 5, 18), "does not match the resident ID", id="出生日期不符 off by a day"
            ),
            pytest.param("5223231980", None, None, "resident ID", id="位数 too short"),
        ],
    )
    def test_refused_with_the_field_named(self, id_number: str, sex: str | None, birth: date | None, message: str):
        with pytest.raises(ValidationFailed) as caught:
            check_identity(facts=MemberFacts(id_number, "head", sex, birth), field="members.2")
        assert message in caught.value.detail
        assert caught.value.field == "members.2.id_number"

    def test_consistent_id_gives_sex_and_birth_date(self):
        checked = check_identity(facts=MemberFacts(GOOD.lower(), "head", None, None), field="m")
        assert (checked.sex, checked.birth_date, checked.id_number) == ("female", BORN, GOOD.upper())

    def test_bad_mobile_names_the_phone(self):
        with pytest.raises(ValidationFailed) as caught:
            check_identity(facts=MemberFacts(GOOD, "head", None, None, phone="12345"), field="member")
        assert caught.value.field == "member.phone"

    @pytest.mark.parametrize(
        ("relations", "field"),
        [
            pytest.param(["spouse", "child"], "members", id="户主 none"),
            pytest.param(["head", "head"], "members", id="户主 two"),
        ],
    )
    def test_exactly_one_head(self, relations: list[str], field: str):
        members = [MemberFacts(resident_id(serial=i), r, None, None) for i, r in enumerate(relations)]
        with pytest.raises(ValidationFailed) as caught:
            check_members(members)
        assert caught.value.field == field

    def test_same_id_twice_in_one_household(self):
        with pytest.raises(ValidationFailed) as caught:
            check_members([MemberFacts(GOOD, "head", None, None), MemberFacts(GOOD, "child", None, None)])
        assert caught.value.field == "members.1.id_number"


def lines(**kw: str) -> IncomeLines:
    base = dict.fromkeys(
        ("wages", "production_gross", "production_costs", "property", "transfers", "policy_payments"), "0"
    )
    return IncomeLines(**{k: Decimal(v) for k, v in (base | kw).items()})


class TestPerCapitaNetIncome:
    @pytest.mark.parametrize(
        ("income", "size", "expected"),
        [
            pytest.param(lines(wages="12000"), 4, "3000.00", id="工资性收入 wages only"),
            pytest.param(
                lines(production_gross="9000", production_costs="3500"), 2, "2750.00", id="经营净收入 net of costs"
            ),
            pytest.param(
                lines(wages="6000", production_gross="4000", production_costs="1000", property="300", transfers="1200"),
                3,
                "3500.00",
                id="四项收入 four sources",
            ),
            pytest.param(lines(transfers="2000", policy_payments="736"), 1, "2736.00", id="政策性补贴 2736 line"),
            pytest.param(lines(wages="10000"), 3, "3333.33", id="四舍五入 rounds down at .333"),
            pytest.param(lines(wages="0.05"), 2, "0.03", id="四舍五入 half up at .025"),
            pytest.param(lines(production_gross="1000", production_costs="4000"), 2, "-1500.00", id="亏损 loss year"),
        ],
    )
    def test_rule(self, income: IncomeLines, size: int, expected: str):
        assert per_capita_net_income(lines=income, household_size=size) == Decimal(expected)

    def test_no_members_is_refused(self):
        with pytest.raises(ValidationFailed) as caught:
            per_capita_net_income(lines=lines(wages="1"), household_size=0)
        assert caught.value.field == "household_size"

    def test_negative_line_is_refused(self):
        with pytest.raises(ValidationFailed) as caught:
            per_capita_net_income(lines=lines(wages="-1"), household_size=1)
        assert caught.value.field == "wages"

    @given(
        amounts=st.lists(st.decimals(min_value=0, max_value=10**7, places=2), min_size=6, max_size=6),
        size=st.integers(min_value=1, max_value=15),
    )
    def test_per_capita_times_size_is_the_net_within_half_a_fen_each(self, amounts: list[Decimal], size: int):
        names = ("wages", "production_gross", "production_costs", "property", "transfers", "policy_payments")
        income = IncomeLines(**dict(zip(names, amounts, strict=True)))
        per_capita = per_capita_net_income(lines=income, household_size=size)
        assert per_capita == per_capita.quantize(Decimal("0.01"))
        assert abs(per_capita * size - net_income(lines=income)) <= Decimal("0.005") * size

    @given(
        base=st.decimals(min_value=0, max_value=10**6, places=2),
        more=st.decimals(min_value=0, max_value=10**6, places=2),
        size=st.integers(min_value=1, max_value=15),
    )
    def test_more_wages_never_lower_the_figure(self, base: Decimal, more: Decimal, size: int):
        low = per_capita_net_income(lines=lines(wages=str(base)), household_size=size)
        high = per_capita_net_income(lines=lines(wages=str(base + more)), household_size=size)
        assert high >= low


class TestRegionCodes:
    @pytest.mark.parametrize(
        ("raw", "code", "level", "parent"),
        [
            pytest.param("52", "520000000000", Level.province, None, id="省 province"),
            pytest.param("5223", "522300000000", Level.city, "520000000000", id="州 city"),
            pytest.param("522323", "522323000000", Level.county, "522300000000", id="县 county"),
            pytest.param("522323109", "522323109000", Level.township, "522323000000", id="镇 township 青山镇"),
            pytest.param("522323109001", "522323109001", Level.village, "522323109000", id="村 village"),
            pytest.param("522323000000", "522323000000", Level.county, "522300000000", id="县 padded"),
        ],
    )
    def test_levels_and_parents(self, raw: str, code: str, level: Level, parent: str | None):
        parsed = parse_region_code(raw)
        assert (parsed.code, parsed.level, parsed.parent_code) == (code, level, parent)

    @pytest.mark.parametrize(
        "raw", ["5", "52232", "52a323", "5223231091"], ids=["1 digit", "5 digits", "letters", "10"]
    )
    def test_malformed(self, raw: str):
        with pytest.raises(ValueError):
            parse_region_code(raw)

    @pytest.mark.parametrize(
        ("scope", "requested", "expected"),
        [
            pytest.param("522323", None, "522323", id="县 whole scope"),
            pytest.param("522323", "522323109", "522323109", id="县 narrowed to 镇"),
            pytest.param("522323109", "522323", "522323109", id="镇 asks for 县: stays in 镇"),
            pytest.param("522323109", "522323101", None, id="镇 asks for another 镇"),
            pytest.param("", "52", "52", id="system scope"),
        ],
    )
    def test_scope(self, scope: str, requested: str | None, expected: str | None):
        assert narrow_scope(scope=scope, requested=requested) == expected


class TestMembership:
    @pytest.mark.parametrize(
        ("period", "day", "counted"),
        [
            pytest.param(Period(date(2020, 1, 1), None), date(2025, 1, 1), True, id="在册 open"),
            pytest.param(Period(date(2020, 1, 1), date(2025, 3, 1)), date(2025, 2, 28), True, id="死亡 day before"),
            pytest.param(Period(date(2020, 1, 1), date(2025, 3, 1)), date(2025, 3, 1), False, id="死亡 on the day"),
            pytest.param(Period(date(2024, 5, 1), None), date(2024, 4, 30), False, id="新生 before birth"),
        ],
    )
    def test_member_on(self, period: Period, day: date, counted: bool):
        assert member_on(period=period, day=day) is counted

    def test_change_dates(self):
        today = date(2025, 6, 16)
        assert "future" in (check_change_date(effective_date=date(2025, 6, 17), today=today) or "")
        assert "before the member joined" in (
            check_change_date(effective_date=date(2020, 1, 1), today=today, joined_on=date(2021, 1, 1)) or ""
        )
        assert check_change_date(effective_date=today, today=today) is None
        assert birth_matches(kind=ChangeKind.birth, birth_date=date(2025, 1, 1), effective_date=date(2025, 1, 2))
        assert birth_matches(kind=ChangeKind.marriage_in, birth_date=date(2000, 1, 1), effective_date=today) is None


class TestHelpers:
    @pytest.mark.parametrize(
        ("rank", "active", "refused"),
        [
            pytest.param(Rank.county_deputy, 4, False, id="副县级 4 of 5"),
            pytest.param(Rank.county_deputy, 5, True, id="副县级 full at 5"),
            pytest.param(Rank.staff, 1, False, id="一般干部 1 of 2"),
            pytest.param(Rank.staff, 2, True, id="一般干部 full at 2"),
        ],
    )
    def test_load_by_rank_54321(self, rank: Rank, active: int, refused: bool):
        assert bool(load_refusal(rank=rank, active_pairings=active, limits=DEFAULT_LOADS)) is refused

    def test_configured_load_overrides_default(self):
        assert load_refusal(rank=Rank.staff, active_pairings=2, limits={Rank.staff: 3}) is None

    @pytest.mark.parametrize(
        ("status", "successor", "refused"),
        [
            pytest.param(Status.poor, False, True, id="不脱贫不脱钩 poor, no successor"),
            pytest.param(Status.poor, True, False, id="交接 handover to successor"),
            pytest.param(Status.exited, False, False, id="已脱贫 exited"),
            pytest.param(Status.returned, False, True, id="返贫 returned"),
        ],
    )
    def test_release(self, status: Status, successor: bool, refused: bool):
        assert bool(release_refusal(status=status, has_successor=successor)) is refused

    @pytest.mark.parametrize(
        ("contacts", "month", "quarter"),
        [
            pytest.param([], False, False, id="无联系 nothing"),
            pytest.param([(ContactKind.call, date(2025, 6, 2))], True, False, id="电话 call this month"),
            pytest.param([(ContactKind.visit, date(2025, 4, 20))], False, True, id="走访 visit earlier this quarter"),
            pytest.param([(ContactKind.visit, date(2025, 3, 31))], False, False, id="走访 last quarter"),
            pytest.param([(ContactKind.visit, date(2025, 6, 20))], False, False, id="future visit not counted"),
        ],
    )
    def test_duties(self, contacts: list, month: bool, quarter: bool):
        duty = duty_on(contacts=contacts, day=date(2025, 6, 16))
        assert (duty.contacted_this_month, duty.visited_this_quarter) == (month, quarter)


class TestLabels:
    def test_chinese_label_or_code(self):
        assert parse_label("因病", CAUSE_LABELS, what="cause") is Cause.ILL
        assert parse_label("EDU", CAUSE_LABELS, what="cause") is Cause.EDU
        with pytest.raises(ValueError, match="因病"):
            parse_label("穷", CAUSE_LABELS, what="cause")
