"""The import template as a file the county office can fill in: the headers, one sample household, and how
each column is filled (an XLSX comment on each header, drop-down lists for coded columns, a 填写说明 sheet)."""

from __future__ import annotations

import csv
import io
from typing import Any

import xlsxwriter

from services.registry.imports.template import COLUMNS, FLAGS, YES

SAMPLE = {
    "户编号": "522323109001-0001",
    "区划代码": "522323109001",
    "村民小组": "1",
    "家庭住址": "青山镇下街社区一组",
    "户状态": "贫困户",
    "识别年度": "2014",
    "主要致贫原因": "因病",
    "次要致贫原因": "缺技术、缺资金",
    "姓名": "张三",
    "身份证号": "522323196001010035",
    "与户主关系": "户主",
    "性别": "男",
    "出生日期": "1960-01-01",
    "劳动能力": "弱劳动力",
    "健康状况": "长期慢性病",
    "财政供养": "否",
    "村干部": "否",
    "登记日期": "2014-10-15",
    "耕地面积(亩)": "3.5",
    "林地面积(亩)": "6",
    "主要种植": "玉米、茶叶",
    "主要养殖": "生猪",
    "住房安全等级": "C级",
    "住房结构": "砖木",
    "易地扶贫搬迁": "否",
    "饮水安全": "是",
    "通生活用电": "是",
    "不愁吃": "是",
    "不愁穿": "是",
    "义务教育有保障": "是",
    "住房安全有保障": "否",
    "基本医疗有保障": "是",
    "通硬化路": "是",
    "通电话": "是",
    "通宽带": "否",
    "有小汽车": "否",
    "有大型农机具": "否",
    "经营企业": "否",
    "全家外出": "否",
}
FLAG_CHOICES = ["是", "否"]


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in COLUMNS])
    writer.writerow([SAMPLE.get(c.header, "") for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def _choices(kind: str, labels: dict[Any, str] | None) -> list[str] | None:
    if kind == "flag":
        return FLAG_CHOICES
    if kind == "code" and labels:
        return list(labels.values())
    return None


def template_xlsx() -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("户籍成员")
    bold = book.add_format({"bold": True})
    required = book.add_format({"bold": True, "font_color": "#C00000"})
    text = book.add_format({"num_format": "@"})  # IDs and codes stay text, not 5.22323E+17
    for i, column in enumerate(COLUMNS):
        sheet.write_string(0, i, column.header, required if column.required else bold)
        sheet.write_string(1, i, SAMPLE.get(column.header, ""), text)
        sheet.set_column(i, i, 22 if column.key == "id_number" else max(10, 2 * len(column.header) + 2), text)
        if column.note:
            sheet.write_comment(0, i, column.note)
        choices = _choices(column.kind, column.labels)
        if choices:  # a drop-down; other spellings (A, 是/否 as Y/N, codes) are accepted on import too
            sheet.data_validation(1, i, 100_000, i, {"validate": "list", "source": choices, "error_type": "warning"})
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("填写说明")
    for i, title in enumerate(("列 (header)", "必填", "填写说明")):
        notes.write_string(0, i, title, bold)
    for r, column in enumerate(COLUMNS, start=1):
        notes.write_string(r, 0, column.header)
        notes.write_string(r, 1, "是" if column.required else "")
        notes.write_string(r, 2, column.note)
    notes.write_string(len(COLUMNS) + 2, 0, "一行一人；同一户的各行户编号相同且相邻；户的信息以户主行为准。")
    notes.write_string(
        len(COLUMNS) + 3, 0, f"是/否 also accepts {'、'.join(k for k in FLAGS if k not in YES)} / {'、'.join(YES)}"
    )
    notes.set_column(0, 0, 18)
    notes.set_column(2, 2, 80)
    book.close()
    return out.getvalue()


def template_markdown() -> str:
    """The column table of docs/registry.md, so the guide always says what the importer reads."""
    lines = ["| 列 (header) | required | content |", "|---|---|---|"]
    lines += [f"| {c.header} | {'yes' if c.required else ''} | {c.note} |".replace("|  |", "| |") for c in COLUMNS]
    return "\n".join(lines)


if __name__ == "__main__":
    print(template_markdown())
