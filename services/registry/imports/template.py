"""The import template: its Chinese column headers and the reading of one row (one member per row).

A row is read on its own into the values the household and member tables take. Household columns are taken
from the 户主 row, but every row's cells are checked. Reading rows is the hot loop of an import (a county file
has hundreds of thousands of them), so a file's columns are compiled once into a ``RowReader`` and a row costs
a few dictionary look-ups: no pydantic, no ORM objects, no exception unless the row is bad.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any, Final

from services.registry.domain.codes import (
    CAUSE_LABELS,
    GRADE_LABELS,
    HEALTH_LABELS,
    HUKOU_TYPE_LABELS,
    LABOUR_LABELS,
    RELATION_LABELS,
    RELOCATION_LABELS,
    STATUS_LABELS,
    STRUCTURE_LABELS,
    WATER_ISSUE_LABELS,
    HousingGrade,
    parse_label,
)
from shared.identity import (
    InvalidIdentifier,
    ResidentId,
    Sex,
    area_warning,
    check_consistent,
    resident_id_facts,
    validate_mobile,
)
from shared.text import clean_name

YES = ("是", "有", "Y", "y", "yes", "true", "1", "√")
NO = ("否", "无", "没有", "N", "n", "no", "false", "0", "×")
FLAGS = dict.fromkeys(YES, True) | dict.fromkeys(NO, False)
SEXES: dict[str, Sex] = {"男": "male", "女": "female", "male": "male", "female": "female"}


@dataclass(frozen=True)
class Column:
    """One template column: its header, the table column it fills, and how a cell is read."""

    header: str
    key: str
    required: bool = False
    note: str = ""
    kind: str = "text"  # text, int, code, codes, flag, area, date, or the special cells of the identity
    size: int = 0  # text: longest; int: (low, high) in ``bounds``
    bounds: tuple[int, int] = (0, 0)
    labels: dict[Any, str] | None = None
    member: bool = False  # a member's column (else the household's, read from the 户主 row)
    sample: str = ""


def _allowed(labels: dict[Any, str]) -> str:
    return " / ".join(labels.values())


# The order of the template the county office fills in; headers are matched by name, not position.
COLUMNS: tuple[Column, ...] = (
    Column(
        "户编号",
        "hukou_number",
        True,
        "户口簿编号, up to 40 characters; a household's rows share it, together",
        size=40,
    ),
    Column("区划代码", "region_code", True, "12-digit village code", kind="region"),
    Column("村民小组", "group_no", note="1–99", kind="int", bounds=(1, 99)),
    Column("自然村", "natural_village", note="natural village name, up to 60 characters", size=60),
    Column("家庭住址", "address", note="required on the 户主 row, up to 200 characters", size=200),
    Column(
        "户籍类型",
        "hukou_type",
        note=f"{_allowed(HUKOU_TYPE_LABELS)} (default 农业)",
        kind="code",
        labels=HUKOU_TYPE_LABELS,
    ),
    Column("户状态", "status", note=f"{_allowed(STATUS_LABELS)} (default 贫困户)", kind="code", labels=STATUS_LABELS),
    Column("识别年度", "identified_year", note="2000–2100", kind="int", bounds=(2000, 2100)),
    Column("主要致贫原因", "primary_cause", note=_allowed(CAUSE_LABELS), kind="code", labels=CAUSE_LABELS),
    Column("次要致贫原因", "secondary_causes", note="up to 5, separated by 、 or ;", kind="codes", labels=CAUSE_LABELS),
    Column("姓名", "name", True, "as in the 户口簿, up to 60 characters", size=60, member=True),
    Column("身份证号", "id_number", True, "18 digits; checksum and birth date are checked", kind="id", member=True),
    Column("与户主关系", "relation", True, _allowed(RELATION_LABELS), kind="code", labels=RELATION_LABELS, member=True),
    Column("性别", "sex", note="男 / 女; must agree with the ID", kind="sex", member=True),
    Column(
        "出生日期",
        "birth_date",
        note="YYYY-MM-DD (2014/3/8, 2014年3月8日 read too); must agree with the ID",
        kind="birth",
        member=True,
    ),
    Column("联系电话", "phone", note="mainland mobile", kind="phone", member=True),
    Column("劳动能力", "labour", note=_allowed(LABOUR_LABELS), kind="code", labels=LABOUR_LABELS, member=True),
    Column("健康状况", "health", note=_allowed(HEALTH_LABELS), kind="code", labels=HEALTH_LABELS, member=True),
    # 七不进: the members' flags.
    Column("财政供养", "public_payroll", note="是 / 否 (default 否): paid from public funds", kind="flag", member=True),
    Column("村干部", "village_cadre", note="是 / 否 (default 否)", kind="flag", member=True),
    Column(
        "登记日期",
        "registered_on",
        note="建档 date, YYYY-MM-DD (or 2014/3/8), not in the future (default: the import day)",
        kind="date",
    ),
    # Land and production.
    Column("耕地面积(亩)", "land_cultivated_mu", note="mu, up to 2 decimals", kind="area"),
    Column("林地面积(亩)", "land_forest_mu", note="mu, up to 2 decimals", kind="area"),
    Column("草地面积(亩)", "land_grassland_mu", note="mu, up to 2 decimals", kind="area"),
    Column("主要种植", "land_crops", note="crops grown, free text up to 200 characters", size=200),
    Column("主要养殖", "land_livestock", note="livestock raised, free text up to 200 characters", size=200),
    # Housing.
    Column("住房安全等级", "housing_grade", note="A / B / C / D (C and D are 危房)", kind="code", labels=GRADE_LABELS),
    Column("住房结构", "housing_structure", note=_allowed(STRUCTURE_LABELS), kind="code", labels=STRUCTURE_LABELS),
    Column(
        "易地扶贫搬迁",
        "housing_relocation",
        note=f"{_allowed(RELOCATION_LABELS)} (default 否)",
        kind="code",
        labels=RELOCATION_LABELS,
    ),
    Column("危房改造年度", "housing_renovated_year", note="1950–2100", kind="int", bounds=(1950, 2100)),
    # Drinking water and electricity.
    Column("饮水安全", "utilities_safe_water", note="是 / 否", kind="flag"),
    Column(
        "饮水问题", "utilities_water_issue", note=_allowed(WATER_ISSUE_LABELS), kind="code", labels=WATER_ISSUE_LABELS
    ),
    Column("通生活用电", "utilities_electricity", note="是 / 否", kind="flag"),
    # 两不愁三保障.
    Column("不愁吃", "assurance_food", note="是 / 否", kind="flag"),
    Column("不愁穿", "assurance_clothing", note="是 / 否", kind="flag"),
    Column("义务教育有保障", "assurance_education", note="是 / 否", kind="flag"),
    Column("住房安全有保障", "assurance_housing", note="是 / 否", kind="flag"),
    Column("基本医疗有保障", "assurance_medical", note="是 / 否", kind="flag"),
    # Access.
    Column("通硬化路", "access_road", note="是 / 否", kind="flag"),
    Column("通电话", "access_phone", note="是 / 否", kind="flag"),
    Column("通宽带", "access_broadband", note="是 / 否", kind="flag"),
    # 七不进: the household's facts.
    Column("有小汽车", "exclusion_vehicle", note="是 / 否 (default 否)", kind="flag"),
    Column("有大型农机具", "exclusion_machinery", note="是 / 否 (default 否)", kind="flag"),
    Column(
        "经营企业",
        "exclusion_enterprise",
        note="是 / 否 (default 否): a member runs a registered business",
        kind="flag",
    ),
    Column(
        "新建购房年度",
        "exclusion_new_house_year",
        note="year a house was built or bought in town, 1950–2100",
        kind="int",
        bounds=(1950, 2100),
    ),
    Column("全家外出", "exclusion_family_away", note="是 / 否 (default 否): the whole family lives away", kind="flag"),
)
HEADER = {c.key: c.header for c in COLUMNS}
BY_KEY = {c.key: c for c in COLUMNS}
# The values a row yields, in this order. A household's: the few columns read on every row, then the rest,
# which are read only when one of their cells is filled. A member's likewise.
H_CORE = ("region_code", "group_no", "address", "primary_cause")
H_REST = tuple(c.key for c in COLUMNS if not c.member and c.key not in H_CORE and c.key != "hukou_number")
HOUSEHOLD_KEYS = H_CORE + H_REST
M_CORE = ("name", "id_number", "relation", "sex", "birth_date", "labour", "health")
M_REST = tuple(c.key for c in COLUMNS if c.member and c.key not in M_CORE)
M_NOTED = ("id_warning",)  # what the import notes of a member from its cells (no column of its own)
MEMBER_KEYS = M_CORE + M_REST + M_NOTED
RELATION_AT = MEMBER_KEYS.index("relation")
ID_AT = MEMBER_KEYS.index("id_number")
ADDRESS_AT = HOUSEHOLD_KEYS.index("address")
REGION_AT = HOUSEHOLD_KEYS.index("region_code")
REGISTERED_AT = HOUSEHOLD_KEYS.index("registered_on")
PHONE_AT = M_REST.index("phone")
_SPLIT = re.compile(r"[、;；,，]")
_LOOSE_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+[\d:]+)?")


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str


# One member row, read: (row number, hukou number, household values, member values, errors). A plain tuple
# of plain values, so that the garbage collector stops tracking it at once: a chunk holds tens of thousands.
# The household values are all of HOUSEHOLD_KEYS on a 户主 row, and only the region code on the others.
ParsedRow = tuple[int, str, tuple[Any, ...], tuple[Any, ...], tuple[RowError, ...]]
# The positions as literals, so that the type checker knows each item's type.
ROW: Final = 0
HUKOU_NUMBER: Final = 1
HOUSEHOLD: Final = 2
MEMBER: Final = 3
ERRORS: Final = 4


class MissingColumns(ValueError):
    pass


class Bad(ValueError):
    """A cell that breaks its column's rule; the message is the reason the row error gives."""


def _header_key(header: str) -> str:
    return re.sub(r"\s+", "", header).replace("（", "(").replace("）", ")")


def column_positions(headers: list[str]) -> dict[str, int]:
    """Where each template column is in this file; MissingColumns names required headers that are absent."""
    found: dict[str, int] = {}
    for i, h in enumerate(headers):
        found.setdefault(_header_key(h), i)
    missing = [c.header for c in COLUMNS if c.required and _header_key(c.header) not in found]
    if missing:
        raise MissingColumns(f"the file lacks the column(s) {'、'.join(missing)}; see the import template")
    return {c.key: found[_header_key(c.header)] for c in COLUMNS if _header_key(c.header) in found}


# --- reading one cell: each converter takes the stripped, non-empty text and returns the stored value -------


def _text(column: Column) -> Callable[[str], Any]:
    size = column.size

    def read(value: str) -> str:
        if len(value) > size:
            raise Bad(f"longer than {size} characters")
        return value

    return read


def _int(column: Column) -> Callable[[str], Any]:
    low, high = column.bounds

    def read(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            try:
                as_float = float(value)  # Excel's 2014.0
            except ValueError:
                raise Bad(f"{value!r} is not a number") from None
            if not as_float.is_integer():
                raise Bad(f"{value!r} is not a whole number") from None
            number = int(as_float)
        if not low <= number <= high:
            raise Bad(f"{number} is outside {low}–{high}")
        return number

    return read


def _code(column: Column) -> Callable[[str], Any]:
    labels = column.labels or {}
    accepted = {label: code.value for code, label in labels.items()} | {code.value: code.value for code in labels}
    if column.key == "housing_grade":
        accepted |= {g.value.lower(): g.value for g in HousingGrade} | {f"{g.value}类": g.value for g in HousingGrade}

    def read(value: str) -> str:
        code = accepted.get(value)
        if code is None:
            try:
                return parse_label(value, labels, what=column.header).value
            except ValueError as exc:
                raise Bad(str(exc)) from None
        return code

    return read


def _codes(column: Column) -> Callable[[str], Any]:
    one = _code(column)

    def read(value: str) -> str:
        parts = [s.strip() for s in _SPLIT.split(value) if s.strip()]
        codes, reasons = [], []
        for part in parts:
            try:
                codes.append(one(part))
            except Bad as exc:
                reasons.append(str(exc))
        if reasons:
            raise Bad("; ".join(reasons))
        if len(codes) > 5:
            raise Bad(f"at most 5 {column.header}, not {len(codes)}")
        return json.dumps(codes)

    return read


def _flag(column: Column) -> Callable[[str], Any]:
    def read(value: str) -> bool:
        flag = FLAGS.get(value)
        if flag is None:
            flag = FLAGS.get(value.lower())
            if flag is None:
                raise Bad(f"{value!r} is not 是 or 否")
        return flag

    return read


def _area(column: Column) -> Callable[[str], Any]:
    def read(value: str) -> str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise Bad(f"{value!r} is not a number") from None
        if not number.is_finite() or number < 0:
            raise Bad(f"{value!r} is not an area (a number of mu, 0 or more)")
        if number != number.quantize(Decimal("0.01")):
            raise Bad(f"{value!r} has more than 2 decimals")
        if number >= 10**8:
            raise Bad(f"{value!r} is too large")
        return str(number.quantize(Decimal("0.01")))

    return read


def read_date(value: str) -> date:
    """A date as Excel users write it: 2014-03-08, 2014/3/8, 2014.3.8 or 2014年3月8日; Bad otherwise."""
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        pass
    match = _LOOSE_DATE.fullmatch(value)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise Bad(f"{value!r} is not a date (YYYY-MM-DD)")


def _region(column: Column) -> Callable[[str], Any]:
    def read(value: str) -> str:
        if len(value) != 12 or not value.isdigit() or not value.isascii():
            raise Bad(f"{value!r} is not a 12-digit village code")
        return value

    return read


CONVERTERS: dict[str, Callable[[Column], Callable[[str], Any]]] = {
    "text": _text,
    "int": _int,
    "code": _code,
    "codes": _codes,
    "flag": _flag,
    "area": _area,
    "region": _region,
}


def defaults(model_defaults: dict[str, Any], keys: tuple[str, ...]) -> tuple[Any, ...]:
    """What an empty cell stands for: the table's default for that column (None for most)."""
    return tuple(json.dumps(v) if isinstance(v := model_defaults.get(k), list) else v for k in keys)


class Memo(dict[str, tuple[bool, Any]]):
    """A column's reading of each distinct cell text, remembered: (True, value) or (False, reason).

    Most columns repeat a handful of values (村民小组 1–9, 与户主关系, 劳动能力, a village's code, 是/否), so
    a row mostly costs dictionary look-ups; texts that do not repeat (names, IDs) are never put through one.
    """

    __slots__ = ("convert",)
    LIMIT = 4096  # distinct texts remembered per column; past that, read each time

    def __init__(self, convert: Callable[[str], Any]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, text: str) -> tuple[bool, Any]:
        try:
            got: tuple[bool, Any] = (True, self.convert(text))
        except Bad as exc:
            got = (False, str(exc))
        if len(self) < self.LIMIT:
            self[text] = got
        return got


class RowReader:
    """A file's columns compiled once: ``read(number, cells)`` checks one row and returns a ParsedRow.

    ``household_defaults`` and ``member_defaults`` are the tables' column defaults (what an empty cell means);
    ``today`` bounds the registration date.
    """

    def __init__(
        self,
        headers: list[str],
        *,
        today: date,
        household_defaults: dict[str, Any],
        member_defaults: dict[str, Any],
    ) -> None:
        self.positions = column_positions(headers)  # MissingColumns first
        self.today = today
        # Rows shorter than the header are padded; an absent column reads the empty cell appended at -1.
        self.width = max(self.positions.values()) + 1
        self.absent = any(c.key not in self.positions for c in COLUMNS)
        at = {c.key: self.positions.get(c.key, -1) for c in COLUMNS}  # -1: the empty cell appended to each row
        convert = {c.key: CONVERTERS[c.kind](c) for c in COLUMNS if c.kind in CONVERTERS}
        convert["registered_on"] = self._registration(today)
        memo = {key: Memo(read) for key, read in convert.items()}
        self.core = itemgetter(*(at[k] for k in ("hukou_number", *H_CORE, *M_CORE)))
        self.h_rest_cells = itemgetter(*(at[k] for k in H_REST))
        self.m_rest_cells = itemgetter(*(at[k] for k in M_REST))
        self.h_rest = tuple((HEADER[k], memo[k]) for k in H_REST)
        self.m_rest = tuple((HEADER[k], memo.get(k)) for k in M_REST)  # no memo: the phone, read with the ID
        self.h_rest_default = defaults(household_defaults, H_REST)
        self.filled: set[int] = set()  # the H_REST columns some row has filled so far (indexes into H_REST)
        self.m_rest_default = defaults(member_defaults, M_REST)
        self.group_default, self.address_default, self.cause_default = defaults(household_defaults, H_CORE[1:])
        self.labour_default, self.health_default = defaults(member_defaults, ("labour", "health"))
        self.region, self.group_no, self.cause = memo["region_code"], memo["group_no"], memo["primary_cause"]
        self.relation, self.labour, self.health = memo["relation"], memo["labour"], memo["health"]
        self.birth = Memo(read_date)
        self.hukou_size, self.name_size, self.address_size = (
            BY_KEY[k].size for k in ("hukou_number", "name", "address")
        )

    @staticmethod
    def _registration(today: date) -> Callable[[str], Any]:
        def read(value: str) -> str:
            day = read_date(value)
            if day > today:
                raise Bad(f"registration date {day} is in the future")
            return day.isoformat()

        return read

    def read(self, number: int, cells: list[str]) -> ParsedRow:
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        if self.absent:
            cells.append("")
        hukou, region, group, address, cause, name, id_number, relation, sex, birth, labour, health = self.core(cells)
        errors: list[RowError] = []
        if not (hukou := hukou.strip()):
            errors.append(RowError(number, HEADER["hukou_number"], "required"))
        elif len(hukou) > self.hukou_size:
            errors.append(RowError(number, HEADER["hukou_number"], f"longer than {self.hukou_size} characters"))
        if not (region := region.strip()):
            errors.append(RowError(number, HEADER["region_code"], "required"))
        elif not (got := self.region[region])[0]:
            errors.append(RowError(number, HEADER["region_code"], got[1]))
        if not (name := name.strip()):
            errors.append(RowError(number, HEADER["name"], "required"))
        elif len(name) > self.name_size:
            errors.append(RowError(number, HEADER["name"], f"longer than {self.name_size} characters"))
        elif not name.isprintable() or not unicodedata.is_normalized("NFC", name):
            try:  # the rare name that needs it: the common one is printable NFC already
                name = clean_name(name)
            except ValueError as exc:
                errors.append(RowError(number, HEADER["name"], str(exc)))
        if not (id_number := id_number.strip()):
            errors.append(RowError(number, HEADER["id_number"], "required"))
        code = None
        if not (relation := relation.strip()):
            errors.append(RowError(number, HEADER["relation"], "required"))
        elif (got := self.relation[relation])[0]:
            code = got[1]
        else:
            errors.append(RowError(number, HEADER["relation"], got[1]))

        # The household's cells.
        group_no = self.group_default
        if group := group.strip():
            ok, group_no = self.group_no[group]
            if not ok:
                errors.append(RowError(number, HEADER["group_no"], group_no))
        if not (address := address.strip()):
            address = self.address_default
        elif len(address) > self.address_size:
            errors.append(RowError(number, HEADER["address"], f"longer than {self.address_size} characters"))
        primary_cause = self.cause_default
        if cause := cause.strip():
            ok, primary_cause = self.cause[cause]
            if not ok:
                errors.append(RowError(number, HEADER["primary_cause"], primary_cause))
        h_rest = self.h_rest_default
        cells_rest = self.h_rest_cells(cells)
        if any(cells_rest):
            values = list(h_rest)
            for i, value in enumerate(cells_rest):
                if value and (value := value.strip()):
                    header, memo = self.h_rest[i]
                    ok, got = memo[value]
                    if ok:
                        values[i] = got
                        self.filled.add(i)
                    else:
                        errors.append(RowError(number, header, got))
            h_rest = tuple(values)

        # The member's cells.
        labour_code = self.labour_default
        if labour := labour.strip():
            ok, labour_code = self.labour[labour]
            if not ok:
                errors.append(RowError(number, HEADER["labour"], labour_code))
        health_code = self.health_default
        if health := health.strip():
            ok, health_code = self.health[health]
            if not ok:
                errors.append(RowError(number, HEADER["health"], health_code))
        m_rest = self.m_rest_default
        phone = None
        cells_rest = self.m_rest_cells(cells)
        if any(cells_rest):
            values = list(m_rest)
            for i, value in enumerate(cells_rest):
                if value and (value := value.strip()):
                    header, m_memo = self.m_rest[i]
                    if m_memo is None:
                        phone = value
                        continue
                    ok, got = m_memo[value]
                    if ok:
                        values[i] = got
                    else:
                        errors.append(RowError(number, header, got))
            m_rest = tuple(values)
        stated_sex = None
        if sex := sex.strip():
            stated_sex = SEXES.get(sex)
            if stated_sex is None:
                errors.append(RowError(number, HEADER["sex"], f"{sex!r} is not 男 or 女"))
        stated_birth = None
        if birth := birth.strip():
            ok, stated_birth = self.birth[birth]
            if not ok:
                errors.append(RowError(number, HEADER["birth_date"], stated_birth))
                stated_birth = None
        member: tuple[Any, ...] = (name, None, code, None, None, labour_code, health_code, *m_rest, None)
        if id_number:
            id_number = id_number.upper()
            try:
                born, id_sex = resident_id_facts(id_number, today=self.today)
                if (stated_birth is not None and stated_birth != born) or (
                    stated_sex is not None and stated_sex != id_sex
                ):
                    rid = ResidentId(number=id_number, birth_date=born, sex=id_sex, region_code=id_number[:6])
                    check_consistent(rid, birth_date=stated_birth, sex=stated_sex)
            except InvalidIdentifier as exc:
                errors.append(RowError(number, HEADER["id_number"], str(exc)))
            else:
                if phone:
                    try:
                        phone = validate_mobile(phone)
                    except InvalidIdentifier as exc:
                        errors.append(RowError(number, HEADER["phone"], str(exc)))
                    else:
                        m_rest = (*m_rest[:PHONE_AT], phone, *m_rest[PHONE_AT + 1 :])
                warning = area_warning(id_number)  # kept with the member to verify, as a registration keeps it
                member = (name, id_number, code, id_sex, born.isoformat(), labour_code, health_code, *m_rest, warning)
        # Household values count on the 户主 row only (the others' cells were checked above): keep just the code.
        household = (region, group_no, address, primary_cause, *h_rest) if code == "head" else (region,)
        return (number, hukou, household, member, tuple(errors) if errors else ())


def household_errors(rows: Sequence[ParsedRow]) -> list[RowError]:
    """Rules over all rows of one household: one 户主 carrying the address, no resident ID twice."""
    errors: list[RowError] = []
    heads = [r for r in rows if r[MEMBER][RELATION_AT] == "head"]
    if len(heads) != 1:
        for r in rows:
            errors.append(
                RowError(r[ROW], HEADER["relation"], f"household {r[HUKOU_NUMBER]} has {len(heads)} 户主 rows")
            )
    elif not heads[0][HOUSEHOLD][ADDRESS_AT]:
        errors.append(RowError(heads[0][ROW], HEADER["address"], "required on the 户主 row"))
    if len(rows) > 1:
        seen: dict[str, int] = {}
        for r in rows:
            number = r[MEMBER][ID_AT]
            if number is not None:
                if number in seen:
                    errors.append(RowError(r[ROW], HEADER["id_number"], f"the same ID is on row {seen[number]}"))
                seen.setdefault(number, r[ROW])
    return errors
