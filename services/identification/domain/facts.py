"""The facts a rule reads, from the registry's snapshot of a household plus the survey's answers (入户调查)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.refusals import Refusal, Refused

MAJOR_CAUSES = frozenset({"ILL", "DIS", "DISASTER"})
SERIOUS_HEALTH = frozenset({"major_illness", "chronic"})
DANGEROUS_GRADES = frozenset({"C", "D"})


@dataclass(frozen=True)
class Facts:
    """What is known of a household on the day it is evaluated; None where nobody knows."""

    member_count: int = 1
    per_capita_income: Decimal | None = None
    previous_year_income: Decimal | None = None
    child_out_of_school: bool | None = None
    housing_grade: str | None = None
    no_house: bool | None = None
    can_afford_repair: bool | None = None
    serious_illness: bool | None = None
    medical_out_of_pocket: Decimal | None = None
    new_house_year: int | None = None
    known_house: bool = False
    new_house_exemption: str | None = None
    vehicle_or_machinery: bool | None = None
    enterprise: bool | None = None
    public_payroll: bool | None = None
    village_cadre: bool | None = None
    major_cause: bool | None = None
    family_away: bool | None = None
    other_exclusion: str | None = None
    assured: bool | None = None
    three_guarantees: bool | None = None
    water_and_power: bool | None = None
    medical_risk: bool | None = None
    stable_income_source: bool | None = None
    income_stable: bool | None = None
    policies_effective: bool | None = None
    identified_year: int | None = None
    returned_year: int | None = None

    @property
    def housing_unsafe_unaffordable(self) -> bool | None:
        unsafe = self.no_house or (self.housing_grade in DANGEROUS_GRADES if self.housing_grade else None)
        if unsafe is None:
            return None
        return bool(unsafe) and self.can_afford_repair is not True

    @property
    def income_after_medical(self) -> Decimal | None:
        if self.per_capita_income is None or self.medical_out_of_pocket is None:
            return None
        return self.per_capita_income - self.medical_out_of_pocket / max(self.member_count, 1)

    @property
    def payroll_or_cadre(self) -> bool | None:
        if self.public_payroll is None and self.village_cadre is None:
            return None
        return bool(self.public_payroll or self.village_cadre)

    @property
    def cadre_only(self) -> bool:
        return bool(self.village_cadre) and not self.public_payroll


ANSWERABLE = {f.name: f.type for f in fields(Facts)}


def _all(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return True if values and all(v is True for v in values) else None


def _income(incomes: list[dict[str, Any]], year: int) -> Decimal | None:
    found = [i for i in incomes if i.get("year") == year]
    return Decimal(str(found[-1]["per_capita_net_income"])) if found else None


def from_snapshot(household: dict[str, Any], incomes: list[dict[str, Any]], *, year: int) -> Facts:
    """Facts from the registry's household (as of the evaluation day) and its income declarations."""
    members = [m for m in household.get("members", []) if m.get("active", True)]
    housing = household.get("housing") or {}
    utilities = household.get("utilities") or {}
    assurances = household.get("assurances") or {}
    exclusions = household.get("exclusions") or {}
    wages = [i for i in incomes if i.get("year") == year]
    income = _income(incomes, year)
    previous = _income(incomes, year - 1)
    has_source = None
    if wages:
        last = wages[-1]
        has_source = Decimal(str(last.get("wages", 0))) > 0 or Decimal(str(last.get("production_gross", 0))) > 0
    relocated = housing.get("relocation") == "relocated"
    return Facts(
        member_count=max(len(members), 1),
        per_capita_income=income,
        previous_year_income=previous,
        child_out_of_school=any(m.get("dropout") for m in members),
        housing_grade=housing.get("grade"),
        serious_illness=any(m.get("health") in SERIOUS_HEALTH for m in members),
        new_house_year=exclusions.get("new_house_year"),
        known_house=True,
        new_house_exemption="ecological_relocation" if relocated else None,
        vehicle_or_machinery=bool(exclusions.get("vehicle") or exclusions.get("machinery")),
        enterprise=bool(exclusions.get("enterprise")),
        public_payroll=any(m.get("public_payroll") for m in members),
        village_cadre=any(m.get("village_cadre") for m in members),
        major_cause=household.get("primary_cause") in MAJOR_CAUSES,
        family_away=bool(exclusions.get("family_away")),
        assured=_all([assurances.get(k) for k in ("food", "clothing", "education", "housing", "medical")]),
        three_guarantees=_all([assurances.get(k) for k in ("education", "medical", "housing")]),
        water_and_power=_all([utilities.get("safe_water"), utilities.get("electricity")]),
        medical_risk=any(m.get("health") == "major_illness" for m in members),
        stable_income_source=has_source,
        identified_year=household.get("identified_year"),
        returned_year=_returned_year(household),
    )


def _returned_year(household: dict[str, Any]) -> int | None:
    decided = household.get("status_decided_at")
    if household.get("status") == "returned" and decided:
        return int(str(decided)[:4])
    return None


def with_answers(facts: Facts, answers: dict[str, Any]) -> Facts:
    """The survey's answers win over the registry for the facts they name; other answers are kept aside."""
    changes: dict[str, Any] = {}
    for name, value in answers.items():
        kind = ANSWERABLE.get(name)
        if kind is None or value is None:
            continue
        changes[name] = _answer(name, str(kind), value)
    return replace(facts, **changes)


def _answer(name: str, kind: str, value: Any) -> Any:
    wrong = Refused(Refusal("answer_invalid", f"answer {name} must be {kind}", f"evidence.survey.{name}"))
    if kind.startswith("Decimal"):
        if isinstance(value, bool | dict | list):
            raise wrong
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise wrong from exc
        if not number.is_finite():
            raise wrong
        return number
    if kind.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong
        return value
    if kind.startswith("bool"):
        if not isinstance(value, bool):
            raise wrong
        return value
    if not isinstance(value, str):
        raise wrong
    return value[:500]


def stable_above(facts: Facts, line: Decimal) -> Facts:
    """Income counts as stably above the line when this year's and last year's both are (三不出-1)."""
    if facts.income_stable is not None or facts.per_capita_income is None or facts.previous_year_income is None:
        return facts
    return replace(facts, income_stable=facts.per_capita_income > line and facts.previous_year_income > line)
