"""A notice for the board (张榜公示) as PDF (A4, Chinese) and XLSX: only what DOMAIN §2.3 lets a board show.

The board shows the minimum (the privacy note of §2.3): village and group, the head's name, the head's ID masked
(first four and last four characters), the household's size and the kind of list. No income, no causes, no phones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.identification.models import Notice, NoticeEntry
from shared.clock import SHANGHAI
from shared.files import pdf
from shared.files.xlsx import Sheet, workbook

KIND_LABELS = {"recognition": "新识别贫困户", "return": "返贫户", "exit": "拟脱贫户"}
LEVEL_LABELS = {"group": "村民小组", "village": "村级", "township": "乡镇", "county": "县级"}
HEADERS = ("序号", "区划代码", "村民小组", "户主姓名", "身份证号（脱敏）", "家庭人口", "类别")
OBJECTIONS = (
    "公示期内，任何单位和个人对公示名单有异议的，可向村民委员会、乡镇人民政府或县扶贫开发办公室实名反映，"
    "并写明所反映的户主姓名和具体事实。有异议的对象将退回重新评议。"
)
PRIVACY = "为保护个人隐私，本名单仅公示户主姓名、所在村组和家庭人口，身份证号已作脱敏处理。"


@dataclass(frozen=True)
class Board:
    """What the board shows of one notice."""

    title: str
    facts: list[tuple[str, str]]
    rows: list[tuple[int, str, str, str, str, int, str]]


def _day(at: datetime) -> str:
    local = at.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日"


def board(notice: Notice, entries: Sequence[NoticeEntry], step_label: str) -> Board:
    kind = KIND_LABELS.get(notice.kind, notice.kind)
    title = f"{notice.place or notice.region_code}{kind}公示名单（第{notice.list_version}榜）"
    facts = [
        ("公示环节", step_label),
        ("公示层级", LEVEL_LABELS.get(notice.level, notice.level)),
        ("公示期", f"{_day(notice.starts_at)}至{_day(notice.ends_at)}（{notice.days}天）"),
        ("公示方式", notice.channel),
        ("公示地点", notice.location or ""),
        ("名单户数", f"{len(entries)}户，{sum(e.member_count for e in entries)}人"),
    ]
    ordered = sorted(entries, key=lambda e: (e.region_code, e.group_no or 0, e.head_name, e.case_id))
    rows = [
        (
            n,
            e.region_code,
            f"{e.group_no}组" if e.group_no else "",
            e.head_name,
            e.head_id_masked,
            e.member_count,
            kind,
        )
        for n, e in enumerate(ordered, start=1)
    ]
    return Board(title=title, facts=facts, rows=rows)


def notice_pdf(shown: Board) -> bytes:
    grid = pdf.Grid(
        headers=HEADERS,
        rows=[[str(v) for v in row] for row in shown.rows],
        widths_mm=[12, 28, 20, 30, 44, 18, 34],
    )
    blocks: list[pdf.Block] = [pdf.Facts(shown.facts), grid, pdf.Text(OBJECTIONS), pdf.Text(PRIVACY, small=True)]
    return pdf.document(shown.title, blocks, subject="公示名单")


def notice_xlsx(shown: Board) -> bytes:
    sheet = Sheet(
        name="公示名单", headers=HEADERS, rows=shown.rows, title=shown.title, widths=[6, 16, 10, 12, 22, 10, 14]
    )
    facts = Sheet(
        name="公示信息", headers=("项目", "内容"), rows=[*shown.facts, ("异议", OBJECTIONS), ("说明", PRIVACY)]
    )
    return workbook([sheet, facts])
