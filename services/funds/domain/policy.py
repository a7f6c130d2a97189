"""Policy checks (政策规则) as data per jurisdiction and year: share rules, caps, one payment per period."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.refusals import Refusal

ZERO = Decimal("0.00")


class SourceKind(StrEnum):
    """Kinds of fund source (资金来源)."""

    fiscal_poverty = "fiscal_poverty"  # 财政专项扶贫资金
    integrated_agriculture = "integrated_agriculture"  # 整合涉农资金
    paired_assistance = "paired_assistance"  # 对口帮扶资金
    social_donation = "social_donation"  # 社会帮扶 (enterprise donations)
    risk_pool = "risk_pool"  # 风险补偿金
    interest_subsidy = "interest_subsidy"  # 贴息资金
    other = "other"


class SourceLevel(StrEnum):
    central = "central"
    provincial = "provincial"
    city = "city"
    county = "county"
    social = "social"


class ProjectKind(StrEnum):
    """Project kinds (项目类型)."""

    industry = "industry"  # 产业发展
    infrastructure = "infrastructure"  # 基础设施
    dangerous_house = "dangerous_house"  # 危房改造
    relocation = "relocation"  # 易地扶贫搬迁
    education = "education"  # 教育 (雨露计划)
    employment = "employment"  # 就业培训
    tourism = "tourism"  # 乡村旅游
    collective_economy = "collective_economy"  # 村集体经济
    health = "health"
    ecology = "ecology"
    other = "other"


class Selector(BaseModel):
    """Which allocations a share rule counts: empty lists mean any."""

    source_kinds: list[SourceKind] = Field(default_factory=list)
    project_kinds: list[ProjectKind] = Field(default_factory=list)
    direct_to_households: bool | None = None


class ShareRule(BaseModel):
    """A share of money that must reach a use, e.g. 财政扶贫资金70%用于产业开发."""

    code: str = Field(min_length=1, max_length=60)
    of: Selector
    part: Selector
    min_ratio: Decimal = Field(ge=0, le=1)
    label: str = Field(default="", max_length=200)


class CapRule(BaseModel):
    """A per-household cap on what one project kind pays, from the source levels named (all if empty)."""

    code: str = Field(min_length=1, max_length=60)
    project_kind: ProjectKind
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    levels: list[SourceLevel] = Field(default_factory=list)
    not_above_cost: bool = False
    label: str = Field(default="", max_length=200)


# The national defaults: what a jurisdiction's rule set holds where it says nothing else.
DEFAULT_SHARES = [
    ShareRule(
        code="industry_share",
        of=Selector(source_kinds=[SourceKind.fiscal_poverty]),
        part=Selector(source_kinds=[SourceKind.fiscal_poverty], project_kinds=[ProjectKind.industry]),
        min_ratio=Decimal("0.70"),
        label="财政扶贫资金70%用于产业开发",
    ),
    ShareRule(
        code="industry_to_households",
        of=Selector(source_kinds=[SourceKind.fiscal_poverty], project_kinds=[ProjectKind.industry]),
        part=Selector(
            source_kinds=[SourceKind.fiscal_poverty],
            project_kinds=[ProjectKind.industry],
            direct_to_households=True,
        ),
        min_ratio=Decimal("0.70"),
        label="产业开发资金70%直接扶持到农户",
    ),
]
DEFAULT_CAPS = [
    CapRule(
        code="dangerous_house_d",
        project_kind=ProjectKind.dangerous_house,
        amount=Decimal("40000.00"),
        levels=[SourceLevel.central, SourceLevel.provincial, SourceLevel.county],
        not_above_cost=True,
        label="D级危房改造 中央、省、县补助每户4万元，不超过建房成本",
    )
]
DEFAULT_THRESHOLD = Decimal("10000.00")


class RuleSetBody(BaseModel):
    """The rules of one jurisdiction (a region prefix) and year; a part left out is the national default's
    (``"shares": []`` says the jurisdiction has none)."""

    shares: list[ShareRule] = Field(default_factory=lambda: list(DEFAULT_SHARES), max_length=50)
    caps: list[CapRule] = Field(default_factory=lambda: list(DEFAULT_CAPS), max_length=50)
    approval_threshold: Decimal | None = Field(default=DEFAULT_THRESHOLD, gt=0, max_digits=14, decimal_places=2)
    idle_days: int = Field(default=180, ge=1, le=3650)
    duplicate_window_days: int = Field(default=30, ge=1, le=3650)


DEFAULT_RULES = RuleSetBody()


@dataclass(frozen=True)
class AllocationFact:
    """Money on one project line, as a share rule sees it."""

    amount: Decimal
    source_kind: SourceKind
    project_kind: ProjectKind
    direct_to_households: bool


@dataclass(frozen=True)
class ShareStatus:
    code: str
    label: str
    part: Decimal
    total: Decimal
    ratio: Decimal | None
    min_ratio: Decimal
    breached: bool


def _selects(selector: Selector, fact: AllocationFact) -> bool:
    if selector.source_kinds and fact.source_kind not in selector.source_kinds:
        return False
    if selector.project_kinds and fact.project_kind not in selector.project_kinds:
        return False
    return selector.direct_to_households is None or selector.direct_to_households == fact.direct_to_households


def share_status(rule: ShareRule, facts: Iterable[AllocationFact]) -> ShareStatus:
    """The share a rule asks for, measured over allocations; nothing to measure is not a breach."""
    facts = list(facts)
    total = sum((f.amount for f in facts if _selects(rule.of, f)), ZERO)
    part = sum((f.amount for f in facts if _selects(rule.of, f) and _selects(rule.part, f)), ZERO)
    ratio = (part / total).quantize(Decimal("0.0001")) if total else None
    breached = ratio is not None and ratio < rule.min_ratio
    return ShareStatus(rule.code, rule.label, part, total, ratio, rule.min_ratio, breached)


@dataclass(frozen=True)
class PaidLine:
    """A payment already made (or under way) to a household on a project, by the level of its source."""

    amount: Decimal
    level: SourceLevel


def check_cap(
    rule: CapRule,
    *,
    project_kind: ProjectKind,
    earlier: Sequence[PaidLine],
    amount: Decimal,
    level: SourceLevel,
    cost: Decimal | None,
    field: str = "amount",
) -> list[Refusal]:
    """A new payment to a household must keep it within the cap (and the building cost, where the rule asks)."""
    if rule.project_kind != project_kind or (rule.levels and level not in rule.levels):
        return []
    counted = sum((p.amount for p in earlier if not rule.levels or p.level in rule.levels), ZERO) + amount
    refusals: list[Refusal] = []
    if counted > rule.amount:
        refusals.append(
            Refusal(code=f"over_cap:{rule.code}", field=field, message=f"{counted} exceeds the cap {rule.amount}")
        )
    if rule.not_above_cost:
        if cost is None:
            refusals.append(Refusal(code=f"cost_missing:{rule.code}", field="cost", message="building cost required"))
        elif sum((p.amount for p in earlier), ZERO) + amount > cost:
            refusals.append(
                Refusal(code=f"over_cost:{rule.code}", field=field, message=f"subsidy above the building cost {cost}")
            )
    return refusals


def check_caps(
    rules: Iterable[CapRule],
    *,
    project_kind: ProjectKind,
    earlier: Sequence[PaidLine],
    amount: Decimal,
    level: SourceLevel,
    cost: Decimal | None,
    field: str = "amount",
) -> list[Refusal]:
    out: list[Refusal] = []
    for rule in rules:
        out += check_cap(
            rule, project_kind=project_kind, earlier=earlier, amount=amount, level=level, cost=cost, field=field
        )
    return out


def check_once_per_period(
    *, subsidy_code: str | None, period: str | None, earlier: Iterable[tuple[str, str]], field: str = "subsidy_code"
) -> list[Refusal]:
    """One payment of a given subsidy per payee and period (e.g. 雨露计划 once a year)."""
    if not subsidy_code:
        return []
    if not period:
        return [Refusal(code="period_missing", field="period", message="a subsidy payment names its period")]
    if (subsidy_code, period) in set(earlier):
        return [
            Refusal(code="already_paid_in_period", field=field, message=f"{subsidy_code} already paid for {period}")
        ]
    return []


@dataclass(frozen=True)
class RuleSetScope:
    region_prefix: str
    year: int
    body: RuleSetBody = field(default_factory=RuleSetBody)


def pick_rule_set(candidates: Iterable[RuleSetScope], *, region_code: str, year: int) -> RuleSetBody:
    """The rules of the narrowest jurisdiction covering ``region_code`` for ``year``; the defaults otherwise."""
    covering = [c for c in candidates if c.year == year and region_code.startswith(c.region_prefix)]
    if not covering:
        return DEFAULT_RULES
    return max(covering, key=lambda c: len(c.region_prefix)).body
