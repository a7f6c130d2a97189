"""一户一卡: one household's card as PDF (CJK font built into reportlab) and as XLSX."""

from __future__ import annotations

import io

import xlsxwriter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from services.registry.domain.codes import CAUSE_LABELS, RELATION_LABELS, STATUS_LABELS, Cause, Relation, Status
from services.registry.schemas import HouseholdPublic

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
MEMBER_HEADERS = ["姓名", "与户主关系", "性别", "出生日期", "身份证号", "联系电话", "劳动能力", "健康状况", "在册"]
SEX = {"male": "男", "female": "女"}


def summary_lines(card: HouseholdPublic, place: str) -> list[tuple[str, str]]:
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
            m.labour or "",
            m.health or "",
            "是" if m.active else f"否（{m.left_reason}）",
        ]
        for m in card.members
    ]


def card_pdf(card: HouseholdPublic, place: str) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, title="扶贫户一户一卡")
    title = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, alignment=1)
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    facts = Table(
        [[Paragraph(k, body), Paragraph(v, body)] for k, v in summary_lines(card, place)], colWidths=[30 * mm, 150 * mm]
    )
    people = Table([MEMBER_HEADERS, *member_rows(card)], repeatRows=1)
    grid = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ]
    )
    facts.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey)]))
    people.setStyle(grid)
    doc.build([Paragraph("建档立卡贫困户 一户一卡", title), Spacer(1, 6 * mm), facts, Spacer(1, 6 * mm), people])
    return out.getvalue()


def card_xlsx(card: HouseholdPublic, place: str) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("一户一卡")
    bold = book.add_format({"bold": True})
    sheet.write_string(0, 0, "建档立卡贫困户 一户一卡", bold)
    row = 2
    for key, value in summary_lines(card, place):
        sheet.write_string(row, 0, key, bold)
        sheet.write_string(row, 1, value)
        row += 1
    row += 1
    for i, header in enumerate(MEMBER_HEADERS):
        sheet.write_string(row, i, header, bold)
    for cells in member_rows(card):
        row += 1
        for i, value in enumerate(cells):
            sheet.write_string(row, i, value)
    sheet.set_column(0, 0, 14)
    sheet.set_column(4, 4, 22)
    book.close()
    return out.getvalue()
