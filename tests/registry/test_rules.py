"""Pure registry rules, table-driven with the Chinese term in each case id."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain.changes import ChangeKind, birth_matches, check_change_date, member_on
from services.registry.domain.codes import CAUSE_LABELS, Cause, ContactKind, Rank, Status, parse_label
from services.registry.domain.contacts import duty_on, duty_window
from services.registry.domain.dates import (
    Period,
    current_version_holds,
    edit_date,
    end_date,
    in_force,
    not_in_future,
    period_order,
    version_start,
)
from services.registry.domain.helpers import (
    DEFAULT_LOADS,
    ended_refusal,
    load_refusal,
    needs_helper,
    rank_refusal,
    release_refusal,
)
from services.registry.domain.income import IncomeLines, counted_on, declarable, net_income, per_capita_net_income
from services.registry.domain.members import (
    DETAIL_FIELDS,
    MemberFacts,
    check_details,
    check_details_date,
    check_identity,
    check_members,
)
from services.registry.domain.regions import Level, parse_region_code
from services.registry.domain.status import StatusChange, decision_day, is_stale, status_decision
from services.registry.domain.updates import blank_refusals
from shared.errors import ValidationFailed
from shared.refusals import Refused
from shared.scope import narrow
from tests.support.builders import check_digit, resident_id

BORN = date(1980, 5, 17)
GOOD = resident_id(born=BORN, sex="female", serial=7)
TODAY = date(2025, 6, 16)


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
                "第18位校验码不符",
                id="身份证校验码 wrong check digit",
            ),
            pytest.param(
                with_check_digit("52232319801317002X", check_digit("52232319801317002")),
                None,
                None,
                "出生日期不存在",
                id="出生日期 impossible month 13",
            ),
            pytest.param(GOOD, "male", None, "sex male does not match", id="性别不符 ID says female"),
            pytest.param(
                GOOD, None, date(1980, 5, 18), "does not match the resident ID", id="出生日期不符 off by a day"
            ),
            pytest.param("5223231980", None, None, "应为18位", id="位数 too short"),
        ],
    )
    def test_refused_with_the_field_named(self, id_number: str, sex: str | None, birth: date | None, message: str):
        with pytest.raises(ValidationFailed) as caught:
            check_identity(facts=MemberFacts(id_number, "head", sex, birth), field="members.2", today=TODAY)
        assert message in caught.value.detail
        assert caught.value.field == "members.2.id_number"

    def test_consistent_id_gives_sex_and_birth_date(self):
        checked = check_identity(facts=MemberFacts(GOOD.lower(), "head", None, None), field="m", today=TODAY)
        assert (checked.sex, checked.birth_date, checked.id_number) == ("female", BORN, GOOD.upper())

    def test_bad_mobile_names_the_phone(self):
        with pytest.raises(ValidationFailed) as caught:
            check_identity(facts=MemberFacts(GOOD, "head", None, None, phone="12345"), field="member", today=TODAY)
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
        with pytest.raises(Refused) as caught:
            check_members(members, today=TODAY)
        assert caught.value.field == field

    def test_same_id_twice_in_one_household(self):
        with pytest.raises(Refused) as caught:
            check_members([MemberFacts(GOOD, "head", None, None), MemberFacts(GOOD, "child", None, None)], today=TODAY)
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
        with pytest.raises(Refused) as caught:
            per_capita_net_income(lines=lines(wages="1"), household_size=0)
        assert caught.value.field == "household_size"

    def test_negative_line_is_refused(self):
        with pytest.raises(Refused) as caught:
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
        assert narrow(scope, requested) == expected


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
        [future] = check_change_date(effective_date=date(2025, 6, 17), today=today)
        assert ("future" in future.message, future.field) == (True, "effective_date")
        [early] = check_change_date(effective_date=date(2020, 1, 1), today=today, joined_on=date(2021, 1, 1))
        assert "before the member joined" in early.message
        [unborn] = check_change_date(effective_date=date(2020, 1, 1), today=today, registered_on=date(2024, 1, 10))
        assert ("before the household was registered" in unborn.message, unborn.code) == (True, "before_registration")
        assert check_change_date(effective_date=today, today=today) == []
        [birth] = birth_matches(kind=ChangeKind.birth, birth_date=date(2025, 1, 1), effective_date=date(2025, 1, 2))
        assert birth.field == "effective_date"
        assert birth_matches(kind=ChangeKind.marriage_in, birth_date=date(2000, 1, 1), effective_date=today) == []


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
        assert load_refusal(rank=Rank.staff, active_pairings=2, limits={Rank.staff: 3}) == []

    def test_refusals_name_the_field_each_route_reports(self):
        [full] = load_refusal(rank=Rank.staff, active_pairings=2, limits=DEFAULT_LOADS)
        [held] = release_refusal(status=Status.poor, has_successor=False)
        [demoted] = rank_refusal(rank=Rank.staff, active_pairings=3, limits=DEFAULT_LOADS)
        assert [(r.code, r.field) for r in (full, held, demoted)] == [
            ("load_full", "helper_id"),
            ("still_poor", "successor_helper_id"),
            ("rank_below_load", "rank"),
        ]
        assert "at most 2" in full.message

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


CURRENT = dict.fromkeys(DETAIL_FIELDS) | {
    "in_hukou": True,
    "co_resident": True,
    "dropout": False,
    "party_member": False,
    "public_payroll": False,
    "village_cadre": False,
    "health": "healthy",
}


class TestMemberDetails:
    @pytest.mark.parametrize(
        ("edit", "changed"),
        [
            pytest.param({"health": "major_illness"}, {"health": "major_illness"}, id="大病 major illness"),
            pytest.param(
                {"health": "disabled", "disability_grade": 2},
                {"health": "disabled", "disability_grade": 2},
                id="残疾二级 disabled grade 2",
            ),
            pytest.param({"phone": "139-1234-5678"}, {"phone": "13912345678"}, id="手机号 normalised"),
            pytest.param(
                {"party_member": True, "health": "healthy"}, {"party_member": True}, id="党员 only what differs"
            ),
            pytest.param(
                {"education": "senior_high", "school": "普安一中"},
                {"education": "senior_high", "school": "普安一中"},
                id="高中 stage and school",
            ),
            pytest.param(
                {"migrant_place": "浙江宁波", "migrant_months": 10},
                {"migrant_place": "浙江宁波", "migrant_months": 10},
                id="外出务工 migrant work",
            ),
            pytest.param({"school": None, "health": "chronic"}, {"health": "chronic"}, id="慢性病 blank stays blank"),
        ],
    )
    def test_changed_details(self, edit: dict[str, Any], changed: dict[str, Any]):
        assert check_details(edit=edit, current=CURRENT) == changed

    @pytest.mark.parametrize(
        ("edit", "field"),
        [
            pytest.param({"phone": "12345"}, "phone", id="手机号 not a mobile"),
            pytest.param({"public_payroll": None}, "public_payroll", id="财政供养 flag never blank"),
            pytest.param({"disability_grade": 1}, "disability_grade", id="残疾等级 without 残疾"),
            pytest.param({"health": "healthy"}, "body", id="无变化 nothing changes"),
            pytest.param({"name": "改名"}, "name", id="姓名 identity is not a detail"),
        ],
    )
    def test_refused_with_the_field_named(self, edit: dict[str, Any], field: str):
        with pytest.raises((Refused, ValidationFailed)) as caught:
            check_details(edit=edit, current=CURRENT)
        assert caught.value.field == field

    def test_leaving_disabled_needs_the_grade_cleared(self):
        disabled = CURRENT | {"health": "disabled", "disability_grade": 3}
        with pytest.raises(Refused):
            check_details(edit={"health": "healthy"}, current=disabled)
        assert check_details(edit={"health": "healthy", "disability_grade": None}, current=disabled) == {
            "health": "healthy",
            "disability_grade": None,
        }

    @pytest.mark.parametrize(
        ("effective", "since", "problem"),
        [
            pytest.param(date(2025, 6, 16), date(2024, 1, 10), None, id="今日 today"),
            pytest.param(date(2025, 6, 17), date(2024, 1, 10), "future", id="未来 future"),
            pytest.param(
                date(2025, 3, 1), date(2025, 4, 1), "since 2025-04-01", id="早于上次变更 before the last edit"
            ),
            pytest.param(date(2025, 4, 1), date(2025, 4, 1), None, id="同日 same day as the last edit"),
        ],
    )
    def test_effective_date(self, effective: date, since: date, problem: str | None):
        found = check_details_date(effective_date=effective, today=date(2025, 6, 16), details_since=since)
        assert [problem in r.message and r.field == "effective_date" for r in found] == (
            [] if problem is None else [True]
        )


class TestHelperCoverage:
    @pytest.mark.parametrize(
        ("status", "dissolved", "helpers", "lacking"),
        [
            pytest.param(Status.poor, False, 0, True, id="贫困户 without helper"),
            pytest.param(Status.poor, False, 1, False, id="贫困户 paired"),
            pytest.param(Status.returned, False, 0, True, id="返贫 without helper"),
            pytest.param(Status.pre_exit, False, 0, True, id="预脱贫 without helper"),
            pytest.param(Status.exited, False, 0, False, id="已脱贫 needs none"),
            pytest.param(Status.non_poor, False, 0, False, id="一般农户 needs none"),
            pytest.param(Status.poor, True, 0, False, id="已注销 dissolved household"),
        ],
    )
    def test_needs_helper(self, status: Status, dissolved: bool, helpers: int, lacking: bool):
        assert needs_helper(status=status, dissolved=dissolved, active_helpers=helpers) is lacking

    @pytest.mark.parametrize(
        ("rank", "active", "refused"),
        [
            pytest.param(Rank.staff, 2, False, id="降为一般干部 2 fits"),
            pytest.param(Rank.staff, 3, True, id="降为一般干部 3 too many"),
            pytest.param(Rank.county_deputy, 5, False, id="副县级 5 fits"),
        ],
    )
    def test_rank_change_must_carry_the_load(self, rank: Rank, active: int, refused: bool):
        assert bool(rank_refusal(rank=rank, active_pairings=active, limits=DEFAULT_LOADS)) is refused

    @pytest.mark.parametrize(
        ("end_date", "day", "refused"),
        [
            pytest.param(None, date(2025, 6, 16), False, id="在岗 serving"),
            pytest.param(date(2025, 6, 1), date(2025, 5, 31), False, id="离岗前 before the end"),
            pytest.param(date(2025, 6, 1), date(2025, 6, 1), True, id="离岗当日 on the end day"),
        ],
    )
    def test_ended(self, end_date: date | None, day: date, refused: bool):
        found = ended_refusal(what="helper 李", end_date=end_date, day=day, field="helper_id")
        assert bool(found) is refused
        assert all(r.field == "helper_id" for r in found)


class TestStatusDecisions:
    @pytest.mark.parametrize(
        ("event_type", "kind", "change"),
        [
            pytest.param(
                "household.approved", None, StatusChange(Status.poor, identified_year=2025), id="识别通过 贫困户"
            ),
            pytest.param("household.rejected", None, StatusChange(Status.non_poor), id="识别未通过 一般农户"),
            pytest.param(
                "household.rejected", "recognition", StatusChange(Status.non_poor), id="识别未通过 named recognition"
            ),
            pytest.param("household.rejected", "exit", None, id="退出未通过 stays as it is"),
            pytest.param("household.exited", None, StatusChange(Status.exited, exit_year=2025), id="脱贫 已脱贫"),
            pytest.param("household.returned", None, StatusChange(Status.returned), id="返贫"),
            pytest.param("household.updated", None, None, id="not a decision"),
        ],
    )
    def test_decision_to_status(self, event_type: str, kind: str | None, change: StatusChange | None):
        assert status_decision(event_type=event_type, year=2025, kind=kind) == change

    @pytest.mark.parametrize(
        ("event_time", "decided_at", "stale"),
        [
            pytest.param(datetime(2025, 6, 1, tzinfo=UTC), None, False, id="首次决定 first decision"),
            pytest.param(datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 5, 1, tzinfo=UTC), False, id="更新 newer"),
            pytest.param(datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 5, 1, tzinfo=UTC), True, id="迟到 older"),
        ],
    )
    def test_a_late_older_decision_is_stale(self, event_time: datetime, decided_at: datetime | None, stale: bool):
        assert is_stale(event_time=event_time, decided_at=decided_at) is stale


class TestDates:
    TODAY = date(2025, 6, 16)

    @pytest.mark.parametrize(
        ("period", "day", "holds"),
        [
            pytest.param(Period(date(2025, 1, 1)), date(2025, 1, 1), True, id="起始日 first day counts"),
            pytest.param(Period(date(2025, 1, 1), date(2025, 6, 1)), date(2025, 5, 31), True, id="终止前 day before"),
            pytest.param(Period(date(2025, 1, 1), date(2025, 6, 1)), date(2025, 6, 1), False, id="终止日 end day"),
            pytest.param(Period(date(2025, 1, 1)), date(2024, 12, 31), False, id="起始前 before it starts"),
        ],
    )
    def test_a_period_holds_from_its_first_day_to_before_its_end(self, period: Period, day: date, holds: bool):
        assert in_force(period=period, day=day) is holds

    def test_nothing_in_the_future(self):
        assert not_in_future(day=self.TODAY, today=self.TODAY, field="registered_on") == []
        [refusal] = not_in_future(
            day=date(2025, 6, 17), today=self.TODAY, field="registered_on", what="registration date"
        )
        assert (refusal.code, refusal.field, refusal.message) == (
            "in_future",
            "registered_on",
            "registration date 2025-06-17 is in the future",
        )

    @pytest.mark.parametrize(
        ("effective", "since", "code"),
        [
            pytest.param(date(2025, 6, 16), date(2025, 1, 1), None, id="今日生效 today"),
            pytest.param(date(2025, 1, 1), date(2025, 1, 1), None, id="同日 same day as the version"),
            pytest.param(date(2025, 6, 17), date(2025, 1, 1), "in_future", id="未来 future"),
            pytest.param(date(2024, 12, 31), date(2025, 1, 1), "before_current_version", id="早于现版本 before"),
        ],
    )
    def test_an_edit_takes_effect_between_its_version_and_today(self, effective: date, since: date, code: str | None):
        found = edit_date(effective=effective, today=self.TODAY, in_force_since=since)
        assert [(r.code, r.field) for r in found] == ([] if code is None else [(code, "effective_date")])

    def test_versions_start_no_earlier_than_the_one_they_replace(self):
        assert version_start(effective=date(2025, 3, 1), in_force_since=date(2025, 4, 1)) == date(2025, 4, 1)
        assert version_start(effective=date(2025, 5, 1), in_force_since=date(2025, 4, 1)) == date(2025, 5, 1)
        assert current_version_holds(day=date(2025, 4, 1), in_force_since=date(2025, 4, 1)) is True
        assert current_version_holds(day=date(2025, 3, 31), in_force_since=date(2025, 4, 1)) is False

    @pytest.mark.parametrize(
        ("end", "started", "code"),
        [
            pytest.param(date(2025, 6, 1), date(2024, 3, 1), None, id="撤离 ends after it started"),
            pytest.param(date(2025, 7, 1), None, "in_future", id="未来 future end"),
            pytest.param(date(2024, 1, 1), date(2024, 3, 1), "before_start", id="早于开始 before it started"),
        ],
    )
    def test_an_end_date(self, end: date, started: date | None, code: str | None):
        found = end_date(end=end, today=self.TODAY, started=started)
        assert [(r.code, r.field) for r in found] == ([] if code is None else [(code, "end_date")])

    def test_a_period_does_not_end_before_it_starts(self):
        assert period_order(start=date(2025, 1, 1), end=None, field="end_date", what="a pairing") == []
        [refusal] = period_order(start=date(2025, 1, 1), end=date(2024, 1, 1), field="end_date", what="a pairing")
        assert (refusal.field, refusal.message) == ("end_date", "a pairing cannot end before it started")

    @pytest.mark.parametrize(
        ("year", "counted", "declarable_then"),
        [
            pytest.param(2024, date(2024, 12, 31), True, id="上年 last year: year end"),
            pytest.param(2025, date(2025, 6, 16), True, id="本年 this year: today"),
            pytest.param(2026, date(2025, 6, 16), False, id="明年 next year: not yet"),
        ],
    )
    def test_income_year(self, year: int, counted: date, declarable_then: bool):
        assert counted_on(year=year, today=self.TODAY) == counted
        assert (declarable(year=year, today=self.TODAY) == []) is declarable_then

    @pytest.mark.parametrize(
        ("decided_at", "day"),
        [
            pytest.param(datetime(2025, 6, 15, 17, 0, tzinfo=UTC), date(2025, 6, 16), id="北京时间 next morning"),
            pytest.param(datetime(2025, 6, 15, 15, 59), date(2025, 6, 15), id="naive read as UTC"),
        ],
    )
    def test_a_decision_takes_effect_on_its_shanghai_day(self, decided_at: datetime, day: date):
        assert decision_day(decided_at=decided_at) == day

    def test_duty_windows(self):
        window = duty_window(date(2025, 5, 20))
        assert (window.month_start, window.quarter_start) == (date(2025, 5, 1), date(2025, 4, 1))

    def test_a_partial_update_cannot_blank_what_is_always_there(self):
        found = blank_refusals(changes={"name": None, "unit_id": None, "phone": "139"}, required=("name", "phone"))
        assert [(r.code, r.field) for r in found] == [("blank", "name")]


class TestLabels:
    def test_chinese_label_or_code(self):
        assert parse_label("因病", CAUSE_LABELS, what="cause") is Cause.ILL
        assert parse_label("EDU", CAUSE_LABELS, what="cause") is Cause.EDU
        with pytest.raises(ValueError, match="因病"):
            parse_label("穷", CAUSE_LABELS, what="cause")
