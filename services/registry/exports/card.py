"""一户一卡: one household's card as PDF and as XLSX."""

from __future__ import annotations

import io

import xlsxwriter

from services.registry.domain.codes import (
    CAUSE_LABELS,
    HEALTH_LABELS,
    LABOUR_LABELS,
    RELATION_LABELS,
    STATUS_LABELS,
    Cause,
    Health,
    Labour,
    Relation,
    Status,
)
from services.registry.households.schemas import HouseholdPublic
from shared.files import pdf
from shared.files.xlsx import write_row

MEMBER_HEADERS = ["姓名", "与户主关系", "性别", "出生日期", "身份证号", "联系电话", "劳动能力", "健康状况", "在册"]
SEX = {"male": "男", "female": "女"}


def summary_lines(card: HouseholdPublic, place: str, facts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    causes = "、".join(CAUSE_LABELS[Cause(c)] for c in card.secondary_causes)
    return [
        ("户编号", card.hukou_number),
        ("所在地", place),
        ("村民小组", str(card.group_no or "")),
        ("家庭住址", card.address),
        ("户状态", STATUS_LABELS[Status(card.status)]),
        ("主要致贫原因", CAUSE_LABELS[Cause(card.primary_cause)] if card.primary_cause else ""),
        ("次要致贫原因", causes),
        ("家庭人口", str(card.member_count)),
        *facts,
        ("版本", f"{card.version}（自 {card.valid_from}）"),
    ]


def member_rows(card: HouseholdPublic) -> list[list[str]]:
    return [
        [
            m.name,
            RELATION_LABELS[Relation(m.relation)],
            SEX.get(m.sex, m.sex),
            m.birth_date.isoformat(),
            m.id_number,
            m.phone or "",
            LABOUR_LABELS[Labour(m.labour)] if m.labour else "",
            HEALTH_LABELS[Health(m.health)] if m.health else "",
            "是" if m.active else f"否（{m.left_reason}）",
        ]
        for m in card.members
    ]


def card_pdf(card: HouseholdPublic, place: str, facts: list[tuple[str, str]]) -> bytes:
    return pdf.document(
        "建档立卡贫困户 一户一卡",
        [pdf.Facts(summary_lines(card, place, facts)), pdf.Grid(MEMBER_HEADERS, member_rows(card))],
        subject=f"household {card.hukou_number}",
    )


def card_xlsx(card: HouseholdPublic, place: str, facts: list[tuple[str, str]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("一户一卡")
    bold = book.add_format({"bold": True})
    sheet.write_string(0, 0, "建档立卡贫困户 一户一卡", bold)
    row = 2
    for key, value in summary_lines(card, place, facts):
        sheet.write_string(row, 0, key, bold)
        sheet.write_string(row, 1, value)
        row += 1
    write_row(sheet, row + 1, MEMBER_HEADERS, bold)
    for offset, cells in enumerate(member_rows(card), start=row + 2):
        write_row(sheet, offset, cells)
    sheet.set_column(0, 0, 14)
    sheet.set_column(4, 4, 22)
    book.close()
    return out.getvalue()
