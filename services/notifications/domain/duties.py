"""The helper duty calendar (帮扶责任人工作日历): duty rules as data, their periods and reminder days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from shared.refusals import Refusal


class Frequency(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    half_yearly = "half_yearly"
    yearly = "yearly"


MONTHS = {Frequency.monthly: 1, Frequency.quarterly: 3, Frequency.half_yearly: 6, Frequency.yearly: 12}
# The shortest period of each frequency (February; Q1 and H1 of a common year): a reminder day past it would
# not fall in every period.
SHORTEST_DAYS = {Frequency.monthly: 28, Frequency.quarterly: 90, Frequency.half_yearly: 181, Frequency.yearly: 365}
JURISDICTION_DIGITS = (2, 6, 9, 12)  # province, county, township, village


@dataclass(frozen=True)
class Period:
    """One period of a duty: ``key`` names it in causes and reports (2025-06, 2025-Q2, 2025-H1, 2025)."""

    key: str
    start: date
    end: date  # the last day


def period_of(day: date, frequency: Frequency) -> Period:
    months = MONTHS[frequency]
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    end = _add_months(start, months) - timedelta(days=1)
    index = (first_month - 1) // months + 1
    key = {
        Frequency.monthly: f"{day.year}-{first_month:02d}",
        Frequency.quarterly: f"{day.year}-Q{index}",
        Frequency.half_yearly: f"{day.year}-H{index}",
        Frequency.yearly: f"{day.year}",
    }[frequency]
    return Period(key=key, start=start, end=end)


def previous_period(day: date, frequency: Frequency) -> Period:
    return period_of(period_of(day, frequency).start - timedelta(days=1), frequency)


def _add_months(day: date, months: int) -> date:
    total = day.month - 1 + months
    return date(day.year + total // 12, total % 12 + 1, 1)


@dataclass(frozen=True)
class DutyRule:
    """A duty: who (actor role), how often, on which day of the period to remind, and whom to tell when missed.

    ``remind_day`` counts from the period's first day (1 = the first day); a reminder is skipped when the duty
    is already done. ``escalate_day`` is the day of the *next* period on which the township gets the list of
    helpers who missed it (0: never).
    """

    code: str
    title: str
    frequency: Frequency
    remind_day: int
    escalate_day: int = 0
    actor_role: str = "helper"
    contact_kinds: tuple[str, ...] = ("phone", "sms", "visit")
    template_code: str = "duty_reminder"


DEFAULT_RULES: tuple[DutyRule, ...] = (
    DutyRule("monthly_contact", "每月电话或短信联系帮扶户", Frequency.monthly, remind_day=20, escalate_day=1),
    DutyRule(
        "quarterly_visit",
        "每季度走访帮扶户",
        Frequency.quarterly,
        remind_day=60,
        escalate_day=1,
        contact_kinds=("visit",),
    ),
    DutyRule("yearly_microloan", "了解小额信贷需求，提醒按时还款付息", Frequency.yearly, remind_day=60),
    DutyRule("yearly_medical_insurance", "了解医保缴费和报销情况", Frequency.yearly, remind_day=60),
    DutyRule("yearly_schooling", "了解子女上学和资助情况", Frequency.yearly, remind_day=245),
)


def reminder_due(rule: DutyRule, day: date) -> Period | None:
    """The period whose reminder goes out on ``day``, if any."""
    period = period_of(day, rule.frequency)
    return period if (day - period.start).days + 1 == rule.remind_day else None


def escalation_due(rule: DutyRule, day: date) -> Period | None:
    """The finished period whose missed duties go to the township on ``day``, if any."""
    if rule.escalate_day <= 0:
        return None
    current = period_of(day, rule.frequency)
    if (day - current.start).days + 1 != rule.escalate_day:
        return None
    return previous_period(day, rule.frequency)


@dataclass(frozen=True)
class RuleVersion:
    """A duty rule as a jurisdiction set it from a day on; ``region_code`` "" is the built-in default."""

    region_code: str
    effective_from: date
    rule: DutyRule
    enabled: bool = True


def effective_rules(versions: list[RuleVersion], *, region_code: str, day: date) -> dict[str, RuleVersion]:
    """Per duty code, the version in force for ``region_code`` on ``day``: of the versions whose jurisdiction
    holds the region and that have started, the most specific jurisdiction wins, then the latest start. A
    disabled winner switches the duty off there (it is left out)."""
    best: dict[str, RuleVersion] = {}
    for version in versions:
        if not region_code.startswith(version.region_code) or version.effective_from > day:
            continue
        held = best.get(version.rule.code)
        if held is None or _rank(version) > _rank(held):
            best[version.rule.code] = version
    return {code: v for code, v in best.items() if v.enabled}


def _rank(version: RuleVersion) -> tuple[int, date]:
    return len(version.region_code), version.effective_from


def rule_refusals(*, region_code: str, frequency: Frequency, remind_day: int, escalate_day: int) -> list[Refusal]:
    """A rule's days must fall inside every period of its frequency; its jurisdiction is a whole region level."""
    refusals = []
    if len(region_code) not in JURISDICTION_DIGITS:
        refusals.append(Refusal("not_a_jurisdiction", "a province, county, township or village code", "region_code"))
    longest = SHORTEST_DAYS[frequency]
    if not 1 <= remind_day <= longest:
        refusals.append(Refusal("day_outside_period", f"between 1 and {longest} for {frequency}", "remind_day"))
    if not 0 <= escalate_day <= longest:
        refusals.append(Refusal("day_outside_period", f"between 0 and {longest} for {frequency}", "escalate_day"))
    return refusals
