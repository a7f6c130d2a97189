"""The import template: its Chinese column headers and the pure reading of one row (one member per row)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from services.registry.domain.codes import (
    CAUSE_LABELS,
    HEALTH_LABELS,
    HUKOU_TYPE_LABELS,
    LABOUR_LABELS,
    RELATION_LABELS,
    STATUS_LABELS,
    parse_label,
)
from services.registry.domain.members import MemberFacts, check_identity
from shared.errors import ValidationFailed


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False
    note: str = ""


# The order of the template the county office fills in; headers are matched by name, not position.
COLUMNS: tuple[Column, ...] = (
    Column("户编号", "hukou_number", True, "户口簿编号; rows of one household share it and sit together"),
    Column("区划代码", "region_code", True, "12-digit village code"),
    Column("村民小组", "group_no", note="1–99"),
    Column("自然村", "natural_village"),
    Column("家庭住址", "address", note="required on the 户主 row"),
    Column("户籍类型", "hukou_type", note="农业 / 就地农转非 (default 农业)"),
    Column("户状态", "status", note="贫困户 / 预脱贫 / 已脱贫 / 返贫 / 清退 / 一般农户 (default 贫困户)"),
    Column("识别年度", "identified_year"),
    Column("主要致贫原因", "primary_cause", note="因病, 因残, 因学, …"),
    Column("次要致贫原因", "secondary_causes", note="several, separated by 、 or ;"),
    Column("姓名", "name", True),
    Column("身份证号", "id_number", True, "18 digits; checksum and birth date are checked"),
    Column("与户主关系", "relation", True, "户主 / 配偶 / 子女 / 父母 / 孙子女 / 祖父母 / 兄弟姐妹 / 其他"),
    Column("性别", "sex", note="男 / 女; must agree with the ID"),
    Column("出生日期", "birth_date", note="YYYY-MM-DD; must agree with the ID"),
    Column("联系电话", "phone"),
    Column("劳动能力", "labour", note="普通劳动力 / 弱劳动力 / 丧失劳动力 / 无劳动力"),
    Column("健康状况", "health", note="健康 / 长期慢性病 / 大病 / 残疾"),
)
HEADER = {c.key: c.header for c in COLUMNS}
SEXES = {"男": "male", "女": "female", "male": "male", "female": "female"}
HOUSEHOLD_KEYS = (
    "region_code",
    "group_no",
    "natural_village",
    "address",
    "hukou_type",
    "status",
    "identified_year",
    "primary_cause",
    "secondary_causes",
)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class ParsedRow:
    """One member row, checked on its own; household columns are kept for the 户主 row."""

    row: int
    hukou_number: str
    household: dict[str, object]
    member: dict[str, object]
    errors: list[RowError] = field(default_factory=list)


class MissingColumns(ValueError):
    pass


def column_positions(headers: list[str]) -> dict[str, int]:
    """Where each template column is in this file; MissingColumns names required headers that are absent."""
    found = {h.strip(): i for i, h in enumerate(headers)}
    missing = [c.header for c in COLUMNS if c.required and c.header not in found]
    if missing:
        raise MissingColumns(f"the file lacks the column(s) {'、'.join(missing)}; see the import template")
    return {c.key: found[c.header] for c in COLUMNS if c.header in found}


def parse_row(*, row: int, cells: list[str], positions: dict[str, int]) -> ParsedRow:
    """Read one row: every cell that breaks a rule becomes a RowError naming its column."""
    raw = {key: (cells[i].strip() if i < len(cells) else "") for key, i in positions.items()}
    parsed = ParsedRow(row=row, hukou_number=raw.get("hukou_number", ""), household={}, member={})

    def fail(key: str, reason: str) -> None:
        parsed.errors.append(RowError(row, HEADER[key], reason))

    for column in COLUMNS:
        if column.required and not raw.get(column.key):
            fail(column.key, "required")
    _household_cells(raw, parsed, fail)
    _member_cells(raw, parsed, fail)
    return parsed


def _household_cells(raw: dict[str, str], parsed: ParsedRow, fail) -> None:  # type: ignore[no-untyped-def]
    h = parsed.household
    code = raw.get("region_code", "")
    if code and not re.fullmatch(r"\d{12}", code):
        fail("region_code", f"{code!r} is not a 12-digit village code")
    h["region_code"] = code
    h["group_no"] = _int(raw.get("group_no"), "group_no", 1, 99, fail)
    h["natural_village"] = raw.get("natural_village") or None
    h["address"] = raw.get("address") or None
    h["identified_year"] = _int(raw.get("identified_year"), "identified_year", 2000, 2100, fail)
    labelled = (("hukou_type", HUKOU_TYPE_LABELS, "agricultural"), ("status", STATUS_LABELS, "poor"))
    for key, labels, default in labelled:
        h[key] = _label(raw.get(key), labels, key, fail) or default
    h["primary_cause"] = _label(raw.get("primary_cause"), CAUSE_LABELS, "primary_cause", fail)
    secondary = [s for s in re.split(r"[、;；,，]", raw.get("secondary_causes", "")) if s.strip()]
    h["secondary_causes"] = [c for c in (_label(s, CAUSE_LABELS, "secondary_causes", fail) for s in secondary) if c]


def _member_cells(raw: dict[str, str], parsed: ParsedRow, fail) -> None:  # type: ignore[no-untyped-def]
    m = parsed.member
    m["name"] = raw.get("name", "")[:60]
    m["relation"] = _label(raw.get("relation"), RELATION_LABELS, "relation", fail)
    m["labour"] = _label(raw.get("labour"), LABOUR_LABELS, "labour", fail)
    m["health"] = _label(raw.get("health"), HEALTH_LABELS, "health", fail)
    sex = raw.get("sex") or None
    if sex and sex not in SEXES:
        fail("sex", f"{sex!r} is not 男 or 女")
        sex = None
    birth = None
    if raw.get("birth_date"):
        try:
            birth = date.fromisoformat(raw["birth_date"].replace("/", "-")[:10])
        except ValueError:
            fail("birth_date", f"{raw['birth_date']!r} is not a date (YYYY-MM-DD)")
    if not raw.get("id_number"):
        return
    facts = MemberFacts(raw["id_number"], m["relation"] or "", SEXES.get(sex or ""), birth, raw.get("phone") or None)
    try:
        checked = check_identity(facts=facts, field="row")
    except ValidationFailed as exc:
        fail("phone" if exc.field == "row.phone" else "id_number", exc.detail)
        return
    m.update(id_number=checked.id_number, sex=checked.sex, birth_date=checked.birth_date, phone=checked.phone)


def _int(value: str | None, key: str, low: int, high: int, fail) -> int | None:  # type: ignore[no-untyped-def]
    if not value:
        return None
    try:
        number = int(float(value))
    except ValueError:
        fail(key, f"{value!r} is not a number")
        return None
    if not low <= number <= high:
        fail(key, f"{number} is outside {low}–{high}")
        return None
    return number


def _label(value: str | None, labels: dict, key: str, fail) -> str | None:  # type: ignore[no-untyped-def,type-arg]
    if not value:
        return None
    try:
        return parse_label(value, labels, what=HEADER[key]).value
    except ValueError as exc:
        fail(key, str(exc))
        return None


def household_errors(rows: list[ParsedRow]) -> list[RowError]:
    """Rules over all rows of one household: one 户主 carrying the address, no resident ID twice."""
    errors: list[RowError] = []
    heads = [r for r in rows if r.member.get("relation") == "head"]
    if len(heads) != 1:
        for r in rows:
            errors.append(RowError(r.row, HEADER["relation"], f"household {r.hukou_number} has {len(heads)} 户主 rows"))
    elif not heads[0].household.get("address"):
        errors.append(RowError(heads[0].row, HEADER["address"], "required on the 户主 row"))
    seen: dict[str, int] = {}
    for r in rows:
        number = r.member.get("id_number")
        if isinstance(number, str):
            if number in seen:
                errors.append(RowError(r.row, HEADER["id_number"], f"the same ID is on row {seen[number]}"))
            seen.setdefault(number, r.row)
    return errors
