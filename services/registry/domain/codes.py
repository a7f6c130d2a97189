"""The registry's coded lists, each value with its Chinese label (the import template uses the labels)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

Code = TypeVar("Code", bound=StrEnum)


class Cause(StrEnum):
    """Cause of poverty (致贫原因), the national 建档立卡 list."""

    ILL = "ILL"
    DIS = "DIS"
    EDU = "EDU"
    DISASTER = "DISASTER"
    LAND_LOSS = "LAND_LOSS"
    WATER = "WATER"
    NO_SKILL = "NO_SKILL"
    NO_LABOUR = "NO_LABOUR"
    NO_CAPITAL = "NO_CAPITAL"
    TRANSPORT = "TRANSPORT"
    NO_INDUSTRY = "NO_INDUSTRY"
    SELF_MOTIVATION = "SELF_MOTIVATION"
    OTHER = "OTHER"


CAUSE_LABELS: dict[Cause, str] = {
    Cause.ILL: "因病",
    Cause.DIS: "因残",
    Cause.EDU: "因学",
    Cause.DISASTER: "因灾",
    Cause.LAND_LOSS: "缺土地",
    Cause.WATER: "缺水",
    Cause.NO_SKILL: "缺技术",
    Cause.NO_LABOUR: "缺劳力",
    Cause.NO_CAPITAL: "缺资金",
    Cause.TRANSPORT: "交通条件落后",
    Cause.NO_INDUSTRY: "缺产业",
    Cause.SELF_MOTIVATION: "自身发展动力不足",
    Cause.OTHER: "其他",
}


class Status(StrEnum):
    """Lifecycle status of a household (贫困户 / 预脱贫 / 已脱贫 / 返贫 / 清退 / 一般农户)."""

    poor = "poor"
    pre_exit = "pre_exit"
    exited = "exited"
    returned = "returned"
    removed = "removed"
    non_poor = "non_poor"


STATUS_LABELS: dict[Status, str] = {
    Status.poor: "贫困户",
    Status.pre_exit: "预脱贫",
    Status.exited: "已脱贫",
    Status.returned: "返贫",
    Status.removed: "清退",
    Status.non_poor: "一般农户",
}
NEEDS_HELPER = frozenset({Status.poor, Status.pre_exit, Status.returned})


class Category(StrEnum):
    """Programme category (扶贫对象, 低保, 五保, 特困; 红卡 / 蓝卡 tiers), held over a period."""

    poverty = "poverty"
    dibao = "dibao"
    poverty_dibao = "poverty_dibao"
    wubao = "wubao"
    tekun = "tekun"
    red_card = "red_card"
    blue_card = "blue_card"


CATEGORY_LABELS: dict[Category, str] = {
    Category.poverty: "扶贫对象",
    Category.dibao: "低保",
    Category.poverty_dibao: "扶贫低保",
    Category.wubao: "五保",
    Category.tekun: "特困",
    Category.red_card: "红卡",
    Category.blue_card: "蓝卡",
}


class HukouType(StrEnum):
    agricultural = "agricultural"
    converted_in_place = "converted_in_place"


HUKOU_TYPE_LABELS = {HukouType.agricultural: "农业", HukouType.converted_in_place: "就地农转非"}


class Relation(StrEnum):
    head = "head"
    spouse = "spouse"
    child = "child"
    parent = "parent"
    grandchild = "grandchild"
    grandparent = "grandparent"
    sibling = "sibling"
    other = "other"


RELATION_LABELS: dict[Relation, str] = {
    Relation.head: "户主",
    Relation.spouse: "配偶",
    Relation.child: "子女",
    Relation.parent: "父母",
    Relation.grandchild: "孙子女",
    Relation.grandparent: "祖父母",
    Relation.sibling: "兄弟姐妹",
    Relation.other: "其他",
}


class Labour(StrEnum):
    """Labour capacity (劳动能力)."""

    full = "full"
    weak = "weak"
    lost = "lost"
    none = "none"


LABOUR_LABELS = {Labour.full: "普通劳动力", Labour.weak: "弱劳动力", Labour.lost: "丧失劳动力", Labour.none: "无劳动力"}


class Health(StrEnum):
    healthy = "healthy"
    chronic = "chronic"
    major_illness = "major_illness"
    disabled = "disabled"


HEALTH_LABELS = {
    Health.healthy: "健康",
    Health.chronic: "长期慢性病",
    Health.major_illness: "大病",
    Health.disabled: "残疾",
}


class Education(StrEnum):
    none = "none"
    preschool = "preschool"
    compulsory = "compulsory"
    senior_high = "senior_high"
    secondary_vocational = "secondary_vocational"
    higher_vocational = "higher_vocational"
    undergraduate = "undergraduate"
    left_school = "left_school"


class Employment(StrEnum):
    none = "none"
    farming = "farming"
    migrant = "migrant"
    public_welfare_post = "public_welfare_post"
    forest_ranger = "forest_ranger"
    enterprise = "enterprise"
    self_employed = "self_employed"


class HousingGrade(StrEnum):
    """Dangerous-house appraisal grade; C and D count as dangerous (危房)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Structure(StrEnum):
    adobe = "adobe"
    brick_concrete = "brick_concrete"
    brick_wood = "brick_wood"
    wood = "wood"
    light_steel = "light_steel"
    other = "other"


class Relocation(StrEnum):
    """Poverty relocation (易地扶贫搬迁)."""

    none = "none"
    planned = "planned"
    relocated = "relocated"


# How the import template (and a county's own files) write these codes.
GRADE_LABELS = {g: f"{g.value}级" for g in HousingGrade}
STRUCTURE_LABELS = {
    Structure.adobe: "土坯房",
    Structure.brick_concrete: "砖混",
    Structure.brick_wood: "砖木",
    Structure.wood: "木结构",
    Structure.light_steel: "轻钢",
    Structure.other: "其他",
}
RELOCATION_LABELS = {Relocation.none: "否", Relocation.planned: "计划搬迁", Relocation.relocated: "已搬迁"}


class WaterIssue(StrEnum):
    """Why drinking water is not safe (饮水问题); the API's ``utilities.water_issue``."""

    insufficient = "insufficient"
    quality = "quality"
    inconvenient = "inconvenient"


WATER_ISSUE_LABELS = {
    WaterIssue.insufficient: "水量不足",
    WaterIssue.quality: "水质不达标",
    WaterIssue.inconvenient: "取水不便",
}


class IncomeSource(StrEnum):
    self_declared = "self_declared"
    surveyed = "surveyed"
    verified = "verified"


class Rank(StrEnum):
    """A helper's rank: 副县级 / 正科 / 副科 / 一般干部."""

    county_deputy = "county_deputy"
    section_chief = "section_chief"
    deputy_section_chief = "deputy_section_chief"
    staff = "staff"


class ContactKind(StrEnum):
    visit = "visit"
    call = "call"
    sms = "sms"


def parse_label(value: str, labels: Mapping[Code, str], *, what: str) -> Code:
    """A coded value from its Chinese label or its code; ValueError naming the allowed labels."""
    text = value.strip()
    for code, label in labels.items():
        if text in (label, code.value):
            return code
    allowed = "、".join(labels.values())
    raise ValueError(f"unknown {what} {text!r}; one of {allowed}")
