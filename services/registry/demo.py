"""Demo data (演示数据): a synthetic but plausible 普安县 as an import file in the registry's template columns.

``generate`` writes one CSV row per member as it makes it (the benchmark writes 330,000 rows), the same bytes
for the same seed; household n is the same whatever the number asked for, so a larger file starts with a
smaller one. Families hang together: a 户主 born 1945–1990, a spouse of the other sex a few years apart,
children 22–35 years younger than the head, parents 22–35 years older, grandchildren younger than every child,
everyone born before 建档立卡 began (the registration dates run from October 2014). Resident IDs are valid and
unique in the file: the person's area, birth date and sex, an order code counted per (area, birth date, sex),
odd for men and even for women, and the GB 11643 check digit.
"""

from __future__ import annotations

import csv
import itertools
import random
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Generic, TypeVar

from stdnum.cn import ric

from services.registry.domain.codes import (
    CAUSE_LABELS,
    HEALTH_LABELS,
    LABOUR_LABELS,
    STATUS_LABELS,
    Cause,
    Health,
    Labour,
    Status,
)
from services.registry.imports.template import COLUMNS
from services.registry.regions.service import DEMO_COUNTY

T = TypeVar("T", bound=Hashable)
SEED = 3
HEADERS = [c.header for c in COLUMNS]
AT = {h: i for i, h in enumerate(HEADERS)}
COUNTY = "522323"  # 普安县
MARRIED_IN_FROM = ("522324", "522325", "522328")  # 晴隆县, 贞丰县, 安龙县: where some wives come from
FIRST_DAY = date(2014, 10, 1)  # 建档立卡 began in 2014: registrations run from here
LAST_BIRTH = FIRST_DAY - timedelta(days=1)
HEAD_BORN = (date(1945, 1, 1), date(1990, 12, 31))
PARENTS_ALIVE = date(1960, 1, 1)  # a head born before this lives without parents
GRANDPARENT = date(1968, 12, 31)  # a head born after this has no grandchild born before LAST_BIRTH
GENERATION = (22, 35)  # years between a parent and a child
YEAR_DAYS = 365.25
ORDERS = 499  # order codes per (area, birth date, sex): men 001–997, women 002–998


class Spread(Generic[T]):
    """Values with weights, picked by the caller's random generator."""

    def __init__(self, weights: dict[T, int]) -> None:
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))

    def pick(self, rng: random.Random) -> T:
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


# A realistic spread of primary causes: illness and disability dominate the 建档立卡 archive.
CAUSE_SPREAD = {
    Cause.ILL: 42,
    Cause.DIS: 14,
    Cause.NO_CAPITAL: 10,
    Cause.NO_SKILL: 9,
    Cause.NO_LABOUR: 8,
    Cause.EDU: 7,
    Cause.DISASTER: 3,
    Cause.TRANSPORT: 2,
    Cause.SELF_MOTIVATION: 2,
    Cause.LAND_LOSS: 1,
    Cause.WATER: 1,
    Cause.OTHER: 1,
}
SIZES = {1: 12, 2: 20, 3: 24, 4: 22, 5: 14, 6: 8}  # mean ≈ 3.3 members
STATUS_SPREAD = {Status.poor: 78, Status.exited: 17, Status.non_poor: 5}
LABOUR_SPREAD = {Labour.full: 60, Labour.weak: 25, Labour.lost: 10, Labour.none: 5}  # aged 16–59
ELDER_LABOUR_SPREAD = {Labour.weak: 45, Labour.lost: 25, Labour.none: 30}  # aged 60 and over
HEALTH_SPREAD = {Health.healthy: 60, Health.chronic: 22, Health.major_illness: 8, Health.disabled: 10}
PATIENT = {Cause.ILL: (Health.major_illness, Health.chronic), Cause.DIS: (Health.disabled,)}  # one member's health
GRADE_SPREAD = {"A级": 30, "B级": 40, "C级": 20, "D级": 10}
SAFE_GRADES = {"A级": 45, "B级": 55}  # an exited household lives in a safe house
PHONE_SHARE = 0.25  # heads with a mobile in the file
MOBILE_PREFIXES = "130 131 132 133 135 136 137 138 139 150 151 152 155 157 158 159 166 177 180 182 185 187 188 189"
# Common surnames, most common first (王李张刘陈 nationally; 罗杨吴龙韦 are frequent in 黔西南 too).
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢龙韦"
MALE_GIVEN = "伟刚勇军强杰磊涛斌明超辉华平建国志文波林海峰龙云飞鹏宇浩俊成德福贵荣昌发顺兴"
FEMALE_GIVEN = "芳英秀娟敏静丽艳霞燕玲梅桂兰琴红玉珍凤萍洁娜婷雪慧倩月春花菊"
GROUP_NUMERALS = "一二三四五六七八九"

CAUSES = Spread(CAUSE_SPREAD)
HOUSEHOLD_SIZES = Spread(SIZES)
STATUSES = Spread({STATUS_LABELS[s]: w for s, w in STATUS_SPREAD.items()})
LABOURS = Spread({LABOUR_LABELS[k]: w for k, w in LABOUR_SPREAD.items()})
ELDER_LABOURS = Spread({LABOUR_LABELS[k]: w for k, w in ELDER_LABOUR_SPREAD.items()})
HEALTHS = Spread({HEALTH_LABELS[k]: w for k, w in HEALTH_SPREAD.items()})
GRADES, SAFE = Spread(GRADE_SPREAD), Spread(SAFE_GRADES)
FAMILY_NAMES = Spread({s: len(SURNAMES) + 10 - i for i, s in enumerate(SURNAMES)})


@dataclass(frozen=True)
class Village:
    code: str
    place: str  # the start of an address: township and village, 青山镇下街社区


@dataclass(frozen=True)
class Person:
    relation: str  # 与户主关系
    name: str
    born: date
    male: bool
    area: str = COUNTY  # where the resident ID was issued


def villages() -> list[Village]:
    """The demo county's 96 villages (村/社区) with their township, from the regions the registry ships."""
    with DEMO_COUNTY.open(encoding="utf-8") as fh:
        names = {row["code"]: row["name"] for row in csv.DictReader(fh)}
    return [
        Village(code, names[code[:9]] + name.removesuffix("村民委员会").removesuffix("居民委员会"))
        for code, name in names.items()
        if len(code) == 12
    ]


def resident_id(area: str, born: date, order: int) -> str:
    """An 18-digit resident ID (居民身份证号): area, birth date, order code and check digit."""
    first17 = f"{area}{born:%Y%m%d}{order:03d}"
    return first17 + ric.calc_check_digit(first17 + "?")  # python-stdnum ignores the place of the check digit


class ResidentIds:
    """Resident IDs unique in one file: people are counted per (area, birth date, sex)."""

    def __init__(self) -> None:
        self.counted: dict[tuple[str, int, bool], int] = {}

    def take(self, person: Person) -> str:
        key = (person.area, person.born.toordinal(), person.male)
        n = self.counted.get(key, 0)
        if n == ORDERS:
            raise ValueError(f"more than {ORDERS} people of one sex born in {person.area} on {person.born}")
        self.counted[key] = n + 1
        return resident_id(person.area, person.born, 2 * n + (1 if person.male else 2))


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _years(day: date, years: float) -> date:
    return day + timedelta(days=round(years * YEAR_DAYS))


def _born(rng: random.Random, anchor: date, low: float, high: float, latest: date = LAST_BIRTH) -> date:
    """A birth date ``low``–``high`` years after ``anchor`` (before it when negative), not after ``latest``."""
    return _day(rng, _years(anchor, low), min(_years(anchor, high), latest))


def _name(rng: random.Random, male: bool, surname: str = "") -> str:
    chars = MALE_GIVEN if male else FEMALE_GIVEN
    given = "".join(rng.choice(chars) for _ in range(1 if rng.random() < 0.3 else 2))
    return (surname or FAMILY_NAMES.pick(rng)) + given


def _spouse(rng: random.Random, head: Person) -> Person:
    """The other sex, the wife 2 years older to 4 years younger than the husband; some wives married in."""
    gap = rng.randint(round(-2 * YEAR_DAYS), round(4 * YEAR_DAYS))
    born = min(head.born + timedelta(days=gap if head.male else -gap), LAST_BIRTH)
    area = rng.choice(MARRIED_IN_FROM) if head.male and rng.random() < 0.2 else COUNTY
    return Person("配偶", _name(rng, not head.male), born, not head.male, area)


def _parents(rng: random.Random, head: Person, count: int) -> list[Person]:
    """The head's father (the head's surname) and mother, 22–35 years older than the head, the mother 2 years
    older to 4 years younger than the father; a lone parent is more often the mother."""
    father = _born(rng, head.born, -GENERATION[1], -GENERATION[0])
    oldest, youngest = _years(head.born, -GENERATION[1]), _years(head.born, -GENERATION[0])
    mother = _day(rng, max(_years(father, -2), oldest), min(_years(father, 4), youngest))
    both = [
        Person("父母", _name(rng, True, head.name[0]), father, True),
        Person("父母", _name(rng, False), mother, False),
    ]
    return both if count == 2 else [both[1] if rng.random() < 0.7 else both[0]]


def _descendants(rng: random.Random, head: Person, surname: str, children: int, grandchildren: int) -> list[Person]:
    """Children 22–35 years younger than the head; grandchildren of the eldest, younger than every child."""
    eldest_by = _years(LAST_BIRTH, -GENERATION[0]) if grandchildren else LAST_BIRTH
    births = sorted(_born(rng, head.born, *GENERATION, eldest_by if i == 0 else LAST_BIRTH) for i in range(children))
    births += sorted(_born(rng, births[0], *GENERATION) for _ in range(grandchildren))
    people = []
    for i, born in enumerate(births):
        male = rng.random() < 0.5
        people.append(Person("子女" if i < children else "孙子女", _name(rng, male, surname), born, male))
    return people


def family(rng: random.Random, size: int) -> list[Person]:
    """One household of ``size`` people, the 户主 first, then spouse, parents, children, grandchildren."""
    male = rng.random() < 0.85
    head = Person("户主", _name(rng, male), _day(rng, *HEAD_BORN), male)
    people = [head]
    if size > 1 and rng.random() < 0.8:
        people.append(_spouse(rng, head))
    left = size - len(people)
    parents = min(left, rng.choice((0, 1, 1, 2))) if head.born >= PARENTS_ALIVE else 0
    left -= parents
    grandchildren = rng.randint(1, left - 1) if left >= 2 and head.born <= GRANDPARENT and rng.random() < 0.5 else 0
    if parents:
        people += _parents(rng, head, parents)
    father = head if male or len(people) == 1 or people[1].relation != "配偶" else people[1]  # gives the surname
    return people + _descendants(rng, head, father.name[0], left - grandchildren, grandchildren)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _labour(rng: random.Random, age: int) -> str:
    if age < 16:
        return LABOUR_LABELS[Labour.none]
    return (ELDER_LABOURS if age >= 60 else LABOURS).pick(rng)


def _household(rng: random.Random, n: int, village: Village, group: int, cause: Cause) -> dict[str, str]:
    """The 户主 row's household columns: status, cause, registration, housing, water and 两不愁三保障."""
    status = STATUSES.pick(rng)
    exited = status == STATUS_LABELS[Status.exited]  # an exited household met 两不愁三保障
    grade = (SAFE if exited else GRADES).pick(rng)
    return {
        "家庭住址": f"{village.place}{GROUP_NUMERALS[group - 1]}组",
        "户状态": status,
        "主要致贫原因": CAUSE_LABELS[cause],
        "登记日期": (registered := FIRST_DAY + timedelta(days=n % 700)).isoformat(),
        "识别年度": str(registered.year),  # identified the year it was registered (建档立卡 that year)
        "住房安全等级": grade,
        "饮水安全": "是" if exited or rng.random() < 0.9 else "否",
        "不愁吃": "是",
        "不愁穿": "是",
        "义务教育有保障": "是" if exited or rng.random() < 0.95 else "否",
        "住房安全有保障": "是" if grade in SAFE_GRADES else "否",
        "基本医疗有保障": "是" if exited or rng.random() < 0.97 else "否",
    }


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES.split()) + f"{rng.randrange(10**8):08d}"


def household_rows(rng: random.Random, n: int, places: list[Village], ids: ResidentIds) -> list[dict[str, str]]:
    """Household ``n``'s rows, one per member, the 户主 first with the household's columns. Households go
    round the villages in turn, and round each village's groups (村民小组 1–9)."""
    village, group = places[n % len(places)], 1 + (n // len(places)) % 9
    cause = CAUSES.pick(rng)
    head = _household(rng, n, village, group, cause)
    registered = date.fromisoformat(head["登记日期"])
    people = family(rng, HOUSEHOLD_SIZES.pick(rng))
    healths = [HEALTHS.pick(rng) for _ in people]
    if cause in PATIENT:  # 因病 / 因残: someone in the family is ill or disabled
        healths[rng.randrange(len(people))] = HEALTH_LABELS[rng.choice(PATIENT[cause])]
    rows = []
    for person, health in zip(people, healths, strict=True):
        rows.append(
            {
                "户编号": f"{village.code}-{n:06d}",
                "区划代码": village.code,
                "村民小组": str(group),
                "姓名": person.name,
                "身份证号": ids.take(person),
                "与户主关系": person.relation,
                "性别": "男" if person.male else "女",
                "劳动能力": _labour(rng, _age(person.born, registered)),
                "健康状况": health,
            }
        )
    rows[0] |= head
    if rng.random() < PHONE_SHARE:
        rows[0]["联系电话"] = _mobile(rng)
    return rows


def generate(path: Path, households: int, seed: int = SEED) -> int:
    """Write a demo county of ``households`` households to ``path`` (CSV, UTF-8); returns the member rows.

    Every row has the member's labour and health; the 户主 row carries the status, the registration date, the
    housing grade, safe water and the 两不愁三保障 indicators, as the county's own archive does, and for some
    households a mobile number.
    """
    rng = random.Random(seed)
    places = villages()
    ids = ResidentIds()
    members = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for n in range(households):
            rows = household_rows(rng, n, places, ids)
            writer.writerows(_cells(row) for row in rows)
            members += len(rows)
    return members


def _cells(row: dict[str, str]) -> list[str]:
    """A row in the template's column order, the columns it leaves out empty."""
    cells = [""] * len(HEADERS)
    for header, value in row.items():
        cells[AT[header]] = value
    return cells
