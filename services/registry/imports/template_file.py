"""The import template as a file the county office can fill in."""

from __future__ import annotations

import csv
import io

import xlsxwriter

from services.registry.imports.template import COLUMNS

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
}


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in COLUMNS])
    writer.writerow([SAMPLE.get(c.header, "") for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("户籍成员")
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})  # IDs and codes stay text, not 5.22323E+17
    for i, column in enumerate(COLUMNS):
        sheet.write_string(0, i, column.header, bold)
        sheet.write_string(1, i, SAMPLE.get(column.header, ""), text)
        sheet.set_column(i, i, 14 if column.key != "id_number" else 22, text)
        if column.note:
            sheet.write_comment(0, i, column.note)
    book.close()
    return out.getvalue()
