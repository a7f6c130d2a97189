"""The standards as pure rules (识别标准): 四进七不进 for entry and return, 一出三不出 for exit, village exit.

Each rule gives a ``Reason``: its code (``七不进-3``), the Chinese label, whether it holds, the facts it used
and the threshold. A verdict is advice: a human decides, and deciding against it needs a justification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from services.identification.domain.facts import Facts


class Verdict(StrEnum):
    qualifies = "qualifies"
    excluded = "excluded"
    undecided = "undecided"


class Outcome(StrEnum):
    met = "met"
    not_met = "not_met"
    unknown = "unknown"
    exempt = "exempt"


@dataclass(frozen=True)
class Standard:
    """A rule set's figures, for one jurisdiction and year (see ``RuleSet``)."""

    poverty_line: Decimal
    local_average_income: Decimal
    new_house_cutoff_year: int
    village_exit_incidence: Decimal = Decimal("0.03")
    village_exit_conditions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    outcome: Outcome
    facts: dict[str, Any] = field(default_factory=dict)
    threshold: str | None = None


@dataclass(frozen=True)
class Advice:
    verdict: Verdict
    reasons: list[Reason]


def _tri(value: bool | None) -> Outcome:
    return Outcome.unknown if value is None else Outcome.met if value else Outcome.not_met


def _below(income: Decimal | None, line: Decimal) -> bool | None:
    return None if income is None else income < line


def _above(income: Decimal | None, line: Decimal) -> bool | None:
    return None if income is None else income > line


HOUSE_EXEMPTIONS = {
    "disaster_rebuild": "因灾重建",
    "ecological_relocation": "高山生态扶贫搬迁",
    "state_demolition": "国家统征拆迁",
}


def four_in(facts: Facts, std: Standard) -> list[Reason]:
    """四进: any one qualifies a household."""
    income = {"per_capita_income": facts.per_capita_income}
    line = f"< {std.poverty_line}"
    medical = facts.income_after_medical
    return [
        Reason(
            "四进-1",
            "家庭人均纯收入未达到国家现行扶贫标准",
            _tri(_below(facts.per_capita_income, std.poverty_line)),
            income,
            line,
        ),
        Reason(
            "四进-2",
            "因缺资金有子女无法完成九年制义务教育",
            _tri(facts.child_out_of_school),
            {"child_out_of_school": facts.child_out_of_school},
        ),
        Reason(
            "四进-3",
            "无房且无力修建，或唯一住房存在安全隐患且无力修建",
            _tri(facts.housing_unsafe_unaffordable),
            {"housing_grade": facts.housing_grade, "no_house": facts.no_house},
        ),
        Reason(
            "四进-4",
            "因重大疾病或长期慢性病，扣除政策补助后自付医疗费致收入低于扶贫标准",
            _tri(None if medical is None else facts.serious_illness and medical < std.poverty_line),
            {"serious_illness": facts.serious_illness, "income_after_medical": medical},
            line,
        ),
    ]


def seven_out(facts: Facts, std: Standard) -> list[Reason]:
    """七不进: any one excludes a household (with the exemptions the rule names)."""
    avg = f"> {std.local_average_income}"
    house = facts.new_house_year is not None and facts.new_house_year >= std.new_house_cutoff_year
    house_outcome = _tri(house if facts.new_house_year is not None or facts.known_house else None)
    if house and facts.new_house_exemption in HOUSE_EXEMPTIONS:
        house_outcome = Outcome.exempt
    cadre = facts.payroll_or_cadre
    cadre_outcome = _tri(cadre)
    if facts.cadre_only and facts.major_cause:
        cadre_outcome = Outcome.exempt
    return [
        Reason(
            "七不进-1",
            "当年家庭年人均纯收入高于当地平均水平",
            _tri(_above(facts.per_capita_income, std.local_average_income)),
            {"per_capita_income": facts.per_capita_income},
            avg,
        ),
        Reason(
            "七不进-2",
            f"{std.new_house_cutoff_year}年以来购房、建新房或高标准装修（因灾重建、高山生态扶贫搬迁、国家统征拆迁除外）",
            house_outcome,
            {"new_house_year": facts.new_house_year, "exemption": facts.new_house_exemption},
            f">= {std.new_house_cutoff_year}",
        ),
        Reason(
            "七不进-3",
            "拥有或使用享受型轿车、船舶、工程机械及大型农机具",
            _tri(facts.vehicle_or_machinery),
            {"vehicle_or_machinery": facts.vehicle_or_machinery},
        ),
        Reason(
            "七不进-4",
            "办有或投资企业，长期雇用他人，正常经营纳税",
            _tri(facts.enterprise),
            {"enterprise": facts.enterprise},
        ),
        Reason(
            "七不进-5",
            "家庭成员有财政供养人员或村五职干部（有重大致贫原因的村干部除外）",
            cadre_outcome,
            {
                "public_payroll": facts.public_payroll,
                "village_cadre": facts.village_cadre,
                "major_cause": facts.major_cause,
            },
        ),
        Reason(
            "七不进-6",
            "举家外出一年及以上，收入明显高于当地平均水平",
            _tri(
                None
                if facts.family_away is None
                else facts.family_away and bool(_above(facts.per_capita_income, std.local_average_income))
            ),
            {"family_away": facts.family_away, "per_capita_income": facts.per_capita_income},
            avg,
        ),
        Reason(
            "七不进-7",
            "其他明显不符合扶贫开发对象标准的情形",
            _tri(bool(facts.other_exclusion)),
            {"other_exclusion": facts.other_exclusion},
        ),
    ]


def entry_advice(facts: Facts, std: Standard) -> Advice:
    """Recognition and return (识别 / 返贫): 七不进 excludes first; any 四进 (or the national standard) qualifies."""
    national = Reason(
        "国家标准",
        "收入低于国家现行扶贫标准且两不愁三保障未实现",
        _tri(
            None
            if facts.per_capita_income is None or facts.assured is None
            else facts.per_capita_income < std.poverty_line and not facts.assured
        ),
        {"per_capita_income": facts.per_capita_income, "two_assurances_three_guarantees": facts.assured},
        f"< {std.poverty_line}",
    )
    exclusions = seven_out(facts, std)
    entries = [national, *four_in(facts, std)]
    reasons = [*entries, *exclusions]
    if any(r.outcome is Outcome.met for r in exclusions):
        return Advice(Verdict.excluded, reasons)
    if any(r.outcome is Outcome.met for r in entries):
        unknown_exclusion = any(r.outcome is Outcome.unknown for r in exclusions)
        return Advice(Verdict.undecided if unknown_exclusion else Verdict.qualifies, reasons)
    if any(r.outcome is Outcome.unknown for r in entries):
        return Advice(Verdict.undecided, reasons)
    return Advice(Verdict.excluded, reasons)


def exit_advice(facts: Facts, std: Standard, *, year: int) -> Advice:
    """Exit (脱贫): 一出 must all hold and no 三不出 may."""
    line = f"> {std.poverty_line}"
    ones = [
        Reason(
            "一出-1",
            "当年家庭人均纯收入超过国家扶贫标准",
            _tri(_above(facts.per_capita_income, std.poverty_line)),
            {"per_capita_income": facts.per_capita_income},
            line,
        ),
        Reason(
            "一出-2",
            "有稳定的收入来源",
            _tri(facts.stable_income_source),
            {"stable_income_source": facts.stable_income_source},
        ),
        Reason(
            "一出-3",
            "义务教育、基本医疗、安全住房有保障",
            _tri(facts.three_guarantees),
            {"three_guarantees": facts.three_guarantees},
        ),
        Reason(
            "一出-4", "饮水和生活用电已经解决", _tri(facts.water_and_power), {"water_and_power": facts.water_and_power}
        ),
        Reason(
            "一出-5",
            "不因大额医疗费用支出而返贫",
            _tri(None if facts.medical_risk is None else not facts.medical_risk),
            {"medical_risk": facts.medical_risk},
        ),
    ]
    recognised = [y for y in (facts.identified_year, facts.returned_year) if y is not None]
    nots = [
        Reason(
            "三不出-1",
            "人均纯收入没有稳定超过国家扶贫标准，或没有稳定实现两不愁三保障",
            _tri(None if facts.income_stable is None else not facts.income_stable),
            {"income_stable": facts.income_stable, "previous_year_income": facts.previous_year_income},
            line,
        ),
        Reason(
            "三不出-2",
            "虽然享受了扶贫政策，但尚未明显见效",
            _tri(None if facts.policies_effective is None else not facts.policies_effective),
            {"policies_effective": facts.policies_effective},
        ),
        Reason(
            "三不出-3",
            "当年新识别或返贫的贫困户原则上不能退出",
            _tri(year in recognised),
            {"identified_year": facts.identified_year, "returned_year": facts.returned_year},
            f"!= {year}",
        ),
    ]
    reasons = [*ones, *nots]
    if any(r.outcome is Outcome.met for r in nots) or any(r.outcome is Outcome.not_met for r in ones):
        return Advice(Verdict.excluded, reasons)
    if all(r.outcome is Outcome.met for r in ones) and all(r.outcome is Outcome.not_met for r in nots):
        return Advice(Verdict.qualifies, reasons)
    return Advice(Verdict.undecided, reasons)


def village_exit_advice(
    *, poor_population: int, agricultural_population: int, conditions: dict[str, bool], std: Standard
) -> Advice:
    """Village exit (贫困村出列): incidence below the threshold and every configured condition met."""
    incidence = Decimal(poor_population) / Decimal(agricultural_population) if agricultural_population else None
    reasons = [
        Reason(
            "出列-1",
            "贫困发生率低于标准",
            _tri(None if incidence is None else incidence < std.village_exit_incidence),
            {
                "poor_population": poor_population,
                "agricultural_population": agricultural_population,
                "incidence": None if incidence is None else f"{incidence:.4f}",
            },
            f"< {std.village_exit_incidence}",
        ),
    ]
    for code, label in std.village_exit_conditions:
        reasons.append(Reason(f"出列-{code}", label, _tri(conditions.get(code)), {code: conditions.get(code)}))
    if any(r.outcome is Outcome.not_met for r in reasons):
        return Advice(Verdict.excluded, reasons)
    if all(r.outcome is Outcome.met for r in reasons):
        return Advice(Verdict.qualifies, reasons)
    return Advice(Verdict.undecided, reasons)
