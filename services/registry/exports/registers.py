"""一村一册 and the township / county rolls: every household of a region and its members, streamed to XLSX."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import xlsxwriter
from sqlmodel import Session, col, select

from services.registry.domain.codes import (
    CAUSE_LABELS,
    RELATION_LABELS,
    STATUS_LABELS,
    Cause,
    Code,
    Relation,
    Status,
)
from services.registry.models import Household, Member, Region
from shared.disclosure import Disclosure
from shared.files.xlsx import write_row
from shared.pagination import PageParams, paginate
from shared.scope import prefix_condition

PAGE = 1000
REGISTER_HEADERS = [
    "户编号",
    "区划代码",
    "村名",
    "村民小组",
    "家庭住址",
    "户状态",
    "主要致贫原因",
    "姓名",
    "与户主关系",
    "性别",
    "出生日期",
    "身份证号",
    "联系电话",
]
ROLL_HEADERS = ["户编号", "区划代码", "村名", "户主", "户主身份证号", "家庭人口", "户状态", "主要致贫原因", "识别年度"]
SEX = {"male": "男", "female": "女"}


def _households(session: Session, prefix: str) -> Iterator[list[Household]]:
    """Households of a region in village and hukou order, a page at a time (memory stays flat)."""
    page = PageParams(limit=PAGE)
    while True:
        query = select(Household).where(prefix_condition(col(Household.region_code), prefix))
        query = query.where(col(Household.dissolved_on).is_(None))
        order = [col(Household.region_code), col(Household.hukou_number)]
        rows, cursor = paginate(session, query, order=order, page=page)
        if rows:
            yield rows
        if cursor is None:
            return
        page = PageParams(cursor=cursor, limit=PAGE)


def _village_names(session: Session, prefix: str) -> dict[str, str]:
    query = select(Region.code, Region.name).where(
        prefix_condition(col(Region.code), prefix), Region.level == "village"
    )
    return dict(session.exec(query).all())


def _label(labels: Mapping[Code, str], enum: type[Code], value: str | None) -> str:
    return labels[enum(value)] if value else ""


def village_register(session: Session, prefix: str, show: Disclosure, title: str) -> Path:
    """One row per active member with the household's facts; IDs masked unless revealed."""
    names = _village_names(session, prefix[:12])
    path = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet(title[:31])
    bold = book.add_format({"bold": True})
    for i, header in enumerate(REGISTER_HEADERS):
        sheet.write_string(0, i, header, bold)
    row = 0
    for page in _households(session, prefix):
        members = session.exec(
            select(Member)
            .where(col(Member.household_id).in_([h.id for h in page]), col(Member.active))
            .order_by(col(Member.household_id), col(Member.joined_on))
        ).all()
        by_household: dict[str, list[Member]] = {}
        for m in members:
            by_household.setdefault(m.household_id, []).append(m)
        for h in page:
            people = sorted(by_household.get(h.id, []), key=lambda m: m.id != h.head_member_id)
            for m in people:
                row += 1
                cells = [
                    h.hukou_number,
                    h.region_code,
                    names.get(h.region_code, ""),
                    h.group_no,
                    h.address,
                    _label(STATUS_LABELS, Status, h.status),
                    _label(CAUSE_LABELS, Cause, h.primary_cause),
                    m.name,
                    _label(RELATION_LABELS, Relation, m.relation),
                    SEX.get(m.sex, m.sex),
                    m.birth_date.isoformat(),
                    show.id_number(m.id_number),
                    show.phone(m.phone) or "",
                ]
                write_row(sheet, row, cells)  # numbers as numbers (村民小组), text as text, never a formula
    book.close()
    return path


def roll(session: Session, prefix: str, show: Disclosure, title: str) -> Path:
    """One row per household (一乡一簿 / 一县一库): head, size, status, cause."""
    names = _village_names(session, prefix)
    path = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet(title[:31])
    bold = book.add_format({"bold": True})
    for i, header in enumerate(ROLL_HEADERS):
        sheet.write_string(0, i, header, bold)
    row = 0
    for page in _households(session, prefix):
        ids = [h.id for h in page]
        members = session.exec(select(Member).where(col(Member.household_id).in_(ids), col(Member.active))).all()
        size: dict[str, int] = {}
        heads: dict[str, Member] = {}
        for m in members:
            size[m.household_id] = size.get(m.household_id, 0) + 1
            heads[m.id] = m
        for h in page:
            head = heads.get(h.head_member_id)
            row += 1
            cells = [
                h.hukou_number,
                h.region_code,
                names.get(h.region_code, ""),
                head.name if head else "",
                show.id_number(head.id_number) if head else "",
                size.get(h.id, 0),
                _label(STATUS_LABELS, Status, h.status),
                _label(CAUSE_LABELS, Cause, h.primary_cause),
                h.identified_year,
            ]
            write_row(sheet, row, cells)
    book.close()
    return path
