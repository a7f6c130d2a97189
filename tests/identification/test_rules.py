"""四进七不进, 一出三不出 and village exit, table-driven; each case id carries the Chinese rule it proves."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.identification.domain.facts import Facts, from_snapshot, stable_above, with_answers
from services.identification.domain.rules import (
    Outcome,
    Standard,
    Verdict,
    entry_advice,
    exit_advice,
    village_exit_advice,
)
from shared.refusals import Refused

STD = Standard(
    poverty_line=Decimal("2736"),
    local_average_income=Decimal("6845"),
    new_house_cutoff_year=2013,
    village_exit_incidence=Decimal("0.03"),
    village_exit_conditions=(("collective", "集体经济收入超过5万元"), ("industry", "有一村一品主导产业")),
)
# A household that meets no 四进 and no 七不进: everything known, nothing wrong.
PLAIN = Facts(
    member_count=4,
    per_capita_income=Decimal("4000"),
    previous_year_income=Decimal("3900"),
    child_out_of_school=False,
    housing_grade="A",
    no_house=False,
    serious_illness=False,
    medical_out_of_pocket=Decimal("0"),
    known_house=True,
    vehicle_or_machinery=False,
    enterprise=False,
    public_payroll=False,
    village_cadre=False,
    major_cause=False,
    family_away=False,
    assured=True,
    three_guarantees=True,
    water_and_power=True,
    medical_risk=False,
    stable_income_source=True,
    income_stable=True,
    policies_effective=True,
)


def outcome(advice, code: str) -> Outcome:
    return next(r.outcome for r in advice.reasons if r.code == code)


FOUR_IN = [
    pytest.param({"per_capita_income": Decimal("2500")}, "四进-1", id="四进-1 收入低于国家标准"),
    pytest.param({"child_out_of_school": True}, "四进-2", id="四进-2 因缺资金子女辍学"),
    pytest.param({"no_house": True}, "四进-3", id="四进-3 无房且无力修建"),
    pytest.param({"housing_grade": "D"}, "四进-3", id="四进-3 唯一住房D级危房"),
    pytest.param(
        {"serious_illness": True, "medical_out_of_pocket": Decimal("8000")}, "四进-4", id="四进-4 大病自付医疗费致贫"
    ),
]


class TestFourIn:
    @pytest.mark.parametrize(("change", "code"), FOUR_IN)
    def test_each_entry_condition_alone_qualifies(self, change, code):
        advice = entry_advice(replace(PLAIN, **change), STD)
        assert outcome(advice, code) is Outcome.met
        assert advice.verdict is Verdict.qualifies

    def test_none_met_does_not_qualify(self):
        assert entry_advice(PLAIN, STD).verdict is Verdict.excluded

    def test_a_house_they_can_repair_is_no_entry(self):
        advice = entry_advice(replace(PLAIN, housing_grade="D", can_afford_repair=True), STD)
        assert outcome(advice, "四进-3") is Outcome.not_met

    def test_illness_whose_costs_leave_income_above_the_line_is_no_entry(self):
        advice = entry_advice(replace(PLAIN, serious_illness=True, medical_out_of_pocket=Decimal("400")), STD)
        assert outcome(advice, "四进-4") is Outcome.not_met

    def test_national_standard_needs_low_income_and_unmet_guarantees(self):
        advice = entry_advice(replace(PLAIN, per_capita_income=Decimal("2000"), assured=False), STD)
        assert outcome(advice, "国家标准") is Outcome.met


POOR = replace(PLAIN, per_capita_income=Decimal("2500"))
SEVEN_OUT = [
    pytest.param(
        {"per_capita_income": Decimal("7000"), "housing_grade": "D"}, "七不进-1", id="七不进-1 收入高于当地平均"
    ),
    pytest.param({"new_house_year": 2015}, "七不进-2", id="七不进-2 截止年以来建新房"),
    pytest.param({"vehicle_or_machinery": True}, "七不进-3", id="七不进-3 享受型轿车或大型农机"),
    pytest.param({"enterprise": True}, "七不进-4", id="七不进-4 办企业长期雇工"),
    pytest.param({"public_payroll": True}, "七不进-5", id="七不进-5 财政供养人员"),
    pytest.param({"village_cadre": True}, "七不进-5", id="七不进-5 村五职干部"),
    pytest.param(
        {"family_away": True, "per_capita_income": Decimal("7000"), "housing_grade": "D"},
        "七不进-6",
        id="七不进-6 举家外出收入明显高于平均",
    ),
    pytest.param({"other_exclusion": "城里有门面房"}, "七不进-7", id="七不进-7 其他明显不符合"),
]
EXEMPTIONS = [
    pytest.param(
        {"new_house_year": 2015, "new_house_exemption": "disaster_rebuild"}, "七不进-2", id="七不进-2 因灾重建除外"
    ),
    pytest.param(
        {"new_house_year": 2015, "new_house_exemption": "ecological_relocation"},
        "七不进-2",
        id="七不进-2 高山生态扶贫搬迁除外",
    ),
    pytest.param(
        {"new_house_year": 2015, "new_house_exemption": "state_demolition"}, "七不进-2", id="七不进-2 国家统征拆迁除外"
    ),
    pytest.param({"village_cadre": True, "major_cause": True}, "七不进-5", id="七不进-5 有重大致贫原因的村干部除外"),
]


class TestSevenOut:
    @pytest.mark.parametrize(("change", "code"), SEVEN_OUT)
    def test_each_exclusion_alone_excludes_a_household_that_would_qualify(self, change, code):
        advice = entry_advice(replace(POOR, **change), STD)
        assert outcome(advice, code) is Outcome.met
        assert advice.verdict is Verdict.excluded

    @pytest.mark.parametrize(("change", "code"), EXEMPTIONS)
    def test_exemptions_lift_the_exclusion(self, change, code):
        advice = entry_advice(replace(POOR, **change), STD)
        assert outcome(advice, code) is Outcome.exempt
        assert advice.verdict is Verdict.qualifies

    def test_a_house_built_before_the_cutoff_does_not_exclude(self):
        assert outcome(entry_advice(replace(POOR, new_house_year=2010), STD), "七不进-2") is Outcome.not_met

    def test_a_payroll_member_is_not_exempt_by_a_major_cause(self):
        advice = entry_advice(replace(POOR, public_payroll=True, village_cadre=True, major_cause=True), STD)
        assert outcome(advice, "七不进-5") is Outcome.met

    def test_family_away_with_modest_income_does_not_exclude(self):
        assert outcome(entry_advice(replace(POOR, family_away=True), STD), "七不进-6") is Outcome.not_met

    def test_unknown_exclusions_leave_a_qualifying_household_undecided(self):
        advice = entry_advice(replace(POOR, enterprise=None), STD)
        assert (advice.verdict, outcome(advice, "七不进-4")) == (Verdict.undecided, Outcome.unknown)


EXIT_FAILS = [
    pytest.param({"per_capita_income": Decimal("2700")}, "一出-1", Outcome.not_met, id="一出-1 收入未超过国家标准"),
    pytest.param({"stable_income_source": False}, "一出-2", Outcome.not_met, id="一出-2 无稳定收入来源"),
    pytest.param({"three_guarantees": False}, "一出-3", Outcome.not_met, id="一出-3 三保障未实现"),
    pytest.param({"water_and_power": False}, "一出-4", Outcome.not_met, id="一出-4 饮水用电未解决"),
    pytest.param({"medical_risk": True}, "一出-5", Outcome.not_met, id="一出-5 大额医疗支出返贫风险"),
    pytest.param({"income_stable": False}, "三不出-1", Outcome.met, id="三不出-1 收入未稳定超过标准"),
    pytest.param({"policies_effective": False}, "三不出-2", Outcome.met, id="三不出-2 政策尚未明显见效"),
    pytest.param({"identified_year": 2025}, "三不出-3", Outcome.met, id="三不出-3 当年新识别不退出"),
    pytest.param({"returned_year": 2025}, "三不出-3", Outcome.met, id="三不出-3 当年返贫不退出"),
]


class TestExit:
    def test_all_of_one_out_and_none_of_three_not_out_exits(self):
        advice = exit_advice(replace(PLAIN, identified_year=2016), STD, year=2025)
        assert advice.verdict is Verdict.qualifies
        assert {r.code for r in advice.reasons} == {f"一出-{i}" for i in range(1, 6)} | {
            f"三不出-{i}" for i in (1, 2, 3)
        }

    @pytest.mark.parametrize(("change", "code", "expected"), EXIT_FAILS)
    def test_each_item_alone_stops_the_exit(self, change, code, expected):
        advice = exit_advice(replace(PLAIN, **change), STD, year=2025)
        assert outcome(advice, code) is expected
        assert advice.verdict is Verdict.excluded

    def test_stability_is_read_from_two_years_of_income(self):
        facts = replace(PLAIN, income_stable=None, previous_year_income=Decimal("2600"))
        assert stable_above(facts, STD.poverty_line).income_stable is False
        assert exit_advice(stable_above(facts, STD.poverty_line), STD, year=2025).verdict is Verdict.excluded

    def test_unknown_items_leave_it_undecided(self):
        advice = exit_advice(replace(PLAIN, policies_effective=None), STD, year=2025)
        assert advice.verdict is Verdict.undecided


class TestVillageExit:
    @pytest.mark.parametrize(
        ("poor", "population", "conditions", "verdict"),
        [
            pytest.param(
                20, 1000, {"collective": True, "industry": True}, Verdict.qualifies, id="出列 发生率2%且条件齐备"
            ),
            pytest.param(
                30, 1000, {"collective": True, "industry": True}, Verdict.excluded, id="出列 发生率3%不低于标准"
            ),
            pytest.param(20, 1000, {"collective": False, "industry": True}, Verdict.excluded, id="出列 集体经济未达标"),
            pytest.param(20, 1000, {"industry": True}, Verdict.undecided, id="出列 条件未填报"),
            pytest.param(0, 0, {"collective": True, "industry": True}, Verdict.undecided, id="出列 无农业人口数"),
        ],
    )
    def test_incidence_and_conditions(self, poor, population, conditions, verdict):
        advice = village_exit_advice(
            poor_population=poor, agricultural_population=population, conditions=conditions, std=STD
        )
        assert advice.verdict is verdict


class TestFacts:
    SNAPSHOT = {
        "status": "poor",
        "identified_year": 2024,
        "primary_cause": "ILL",
        "members": [
            {
                "active": True,
                "health": "major_illness",
                "dropout": False,
                "public_payroll": False,
                "village_cadre": True,
            },
            {"active": True, "health": "healthy", "dropout": True, "public_payroll": False, "village_cadre": False},
            {"active": False, "health": "healthy", "public_payroll": True},
        ],
        "housing": {"grade": "D", "relocation": "relocated"},
        "utilities": {"safe_water": True, "electricity": True},
        "assurances": {"food": True, "clothing": True, "education": False, "housing": False, "medical": True},
        "exclusions": {"vehicle": False, "machinery": True, "enterprise": False, "new_house_year": 2018},
    }
    INCOMES = [
        {"year": 2024, "per_capita_net_income": "2600.00", "wages": "3000.00", "production_gross": "0.00"},
        {"year": 2025, "per_capita_net_income": "2800.00", "wages": "3600.00", "production_gross": "0.00"},
    ]

    def test_a_registry_snapshot_becomes_facts(self):
        facts = from_snapshot(self.SNAPSHOT, self.INCOMES, year=2025)
        assert (facts.member_count, facts.per_capita_income, facts.previous_year_income) == (
            2,
            Decimal("2800.00"),
            Decimal("2600.00"),
        )
        assert facts.child_out_of_school and facts.serious_illness and facts.village_cadre
        assert facts.public_payroll is False  # the member who left does not count
        assert (facts.vehicle_or_machinery, facts.new_house_exemption, facts.major_cause) == (
            True,
            "ecological_relocation",
            True,
        )
        assert (facts.assured, facts.three_guarantees, facts.water_and_power) == (False, False, True)

    def test_survey_answers_win_and_bad_ones_name_the_answer(self):
        facts = with_answers(from_snapshot(self.SNAPSHOT, self.INCOMES, year=2025), {"vehicle_or_machinery": False})
        assert facts.vehicle_or_machinery is False
        with pytest.raises(Refused) as excinfo:
            with_answers(facts, {"medical_out_of_pocket": "lots"})
        assert excinfo.value.refusals[0].field == "evidence.survey.medical_out_of_pocket"


@given(
    income=st.decimals(min_value=0, max_value=20000, places=2),
    flags=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_an_exclusion_always_wins_over_entry(income, flags):
    """七不进 first: whatever qualifies, a met exclusion makes the advice excluded."""
    vehicle, enterprise, payroll, dropout, away, house = flags
    facts = replace(
        PLAIN,
        per_capita_income=income,
        vehicle_or_machinery=vehicle,
        enterprise=enterprise,
        public_payroll=payroll,
        child_out_of_school=dropout,
        family_away=away,
        new_house_year=2020 if house else None,
    )
    advice = entry_advice(facts, STD)
    excluded = any(r.outcome is Outcome.met for r in advice.reasons if r.code.startswith("七不进"))
    assert (advice.verdict is Verdict.excluded) or not excluded
    if not excluded and (income < STD.poverty_line or dropout):
        assert advice.verdict is Verdict.qualifies
