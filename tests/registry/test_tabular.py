"""The import files' reader: XLSX streamed from its XML (cells, strings, dates, row numbers), damage refused.

Most cases are built as raw XML in a zip, for shapes a writer library will not produce (inline strings, gaps,
prefixed or strict namespaces, odd attribute order); a few with xlsxwriter, as Excel-like files.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from services.registry.imports.template import FLAGS
from shared.files import tabular
from shared.files.tabular import UnreadableFile, open_table
from tests.registry.files import HEADERS, XLSX, household_rows
from tests.registry.files import run_import as post_import

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" t="inlineStr"><is><t>b</t></is></c></row>'
)


def excel_serial(day: date, *, date1904: bool = False) -> int:
    return (day - (date(1904, 1, 1) if date1904 else date(1899, 12, 30))).days


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def package(
    path: Path,
    sheet_data: str,
    *,
    strings: list[str] | None = None,
    styles: str = "",
    workbook_pr: str = "",
    head: str = "",
    prefix: str = "",
    main: str = MAIN,
    rel: str = REL,
    sheet_part: str = "xl/worksheets/sheet1.xml",
    target: str = "worksheets/sheet1.xml",
    sheets: str = '<sheet name="户籍成员" sheetId="1" r:id="rId1"/>',
    extra_rels: str = "",
    extra_parts: dict[str, str] | None = None,
    sheet_xml: str | None = None,
) -> Path:
    """A minimal XLSX package around the given <sheetData> content (and <si> elements, and styles)."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{main}"' if prefix else f'xmlns="{main}"'
    if sheet_xml is None:
        sheet_xml = (
            f'{DECL}<{p}worksheet {xmlns} xmlns:r="{rel}">{head}'
            f"<{p}sheetData>{sheet_data}</{p}sheetData><{p}pageMargins/></{p}worksheet>"
        )
    rels = [f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="{target}"/>', extra_rels]
    parts = {sheet_part: sheet_xml}
    if strings is not None:
        rels.append(f'<Relationship Id="rId8" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>')
        parts["xl/sharedStrings.xml"] = f'{DECL}<{p}sst {xmlns} count="{len(strings)}">{"".join(strings)}</{p}sst>'
    if styles:
        rels.append(f'<Relationship Id="rId9" Type="{rel}/styles" Target="styles.xml"/>')
        parts["xl/styles.xml"] = f'{DECL}<styleSheet xmlns="{main}">{styles}</styleSheet>'
    parts["xl/workbook.xml"] = (
        f'{DECL}<workbook xmlns="{main}" xmlns:r="{rel}">{workbook_pr}<sheets>{sheets}</sheets></workbook>'
    )
    parts["xl/_rels/workbook.xml.rels"] = f'{DECL}<Relationships xmlns="{PKG}">{"".join(rels)}</Relationships>'
    parts["_rels/.rels"] = (
        f'{DECL}<Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    parts["[Content_Types].xml"] = (
        f'{DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
    )
    parts |= extra_parts or {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text.encode())
    return path


def read(path: Path, *, strip: bool = True) -> tuple[list[str], list[tuple[int, list[str]]], int | None]:
    table = open_table(path, strip=strip)
    return table.headers, list(table.rows), table.total


# Date formats: cellXfs index → numFmtId; 164+ are the file's own formats.
DATE_STYLES = (
    '<numFmts count="6">'
    '<numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
    '<numFmt numFmtId="165" formatCode="0.00&quot;亩&quot;"/>'
    '<numFmt numFmtId="166" formatCode="[h]:mm"/>'
    '<numFmt numFmtId="167" formatCode="hh:mm:ss"/>'
    '<numFmt numFmtId="168" formatCode="[$-804]yyyy/m/d;@"/>'
    '<numFmt numFmtId="169" formatCode="#,##0.00_);[Red]\\(#,##0.00\\)"/>'
    "</numFmts>"
    '<cellXfs count="11">'
    '<xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="22"/><xf numFmtId="31"/><xf numFmtId="20"/>'
    '<xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="166"/><xf numFmtId="167"/><xf numFmtId="168"/>'
    '<xf numFmtId="169"/>'
    "</cellXfs>"
)
BORN = date(1965, 3, 8)
S = excel_serial(BORN)

CASES: list[tuple[str, str, dict[str, Any], list[tuple[int, list[str]]]]] = [
    (
        "shared strings and numbers",
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>3</v></c><c r="C2"><v>1.0</v></c>'
        '<c r="D2" t="n"><v>12.5</v></c><c r="E2"><v>1E-3</v></c><c r="F2"><v>-2</v></c>'
        '<c r="G2"><v>0</v></c><c r="H2"><v>0.30000000000000004</v></c></row>',
        {"strings": ["<si><t>户编号</t></si>", "<si><t>姓名</t></si>", "<si><t>HK-1</t></si>"]},
        [(2, ["HK-1", "3", "1", "12.5", "0.001", "-2", "0", "0.30000000000000004"])],
    ),
    (
        "inline strings, plain and rich",
        HEADER_ROW + '<row r="2">' + inline("A2", "王大山") + '<c r="B2" t="inlineStr"><is><r><t>王</t></r>'
        '<r><rPr><b/></rPr><t xml:space="preserve">小 二</t></r></is></c></row>',
        {},
        [(2, ["王大山", "王小 二"])],
    ),
    (
        "a formula's string result, an error, booleans",
        HEADER_ROW + '<row r="2"><c r="A2" t="str"><f>B1&amp;"x"</f><v>bx</v></c><c r="B2" t="e"><f>1/0</f>'
        '<v>#DIV/0!</v></c><c r="C2" t="b"><v>1</v></c><c r="D2" t="b"><v>0</v></c>'
        '<c r="E2"><f>1+1</f><v>2</v></c></row>',
        {},
        [(2, ["bx", "", "true", "false", "2"])],
    ),
    (
        "missing cells read as empty, in place",
        HEADER_ROW + '<row r="2">' + inline("A2", "a") + inline("C2", "c") + inline("AB2", "ab") + "</row>",
        {},
        [(2, ["a", "", "c", *[""] * 24, "ab"])],
    ),
    (
        "rows as Excel numbers them: missing rows skipped, blank rows skipped",
        HEADER_ROW
        + '<row r="4">'
        + inline("A4", "x")
        + '</row><row r="5"><c r="A5" s="0"/><c r="B5"/></row><row r="6"/>'
        + '<row r="7">'
        + inline("A7", "  ")
        + inline("B7", "")
        + '</row><row r="9" spans="1:2" ht="20" customHeight="1">'
        + inline("B9", "y")
        + "</row>",
        {},
        [(4, ["x"]), (9, ["", "y"])],
    ),
    (
        "without r attributes, rows and cells count on",
        "<row>" + inline("", "a").replace(' r=""', "") + "</row>"
        "<row>" + inline("", "x").replace(' r=""', "") + "<c><v>7</v></c></row>"
        "<row>" + inline("", "y").replace(' r=""', "") + "</row>",
        {},
        [(2, ["x", "7"]), (3, ["y"])],
    ),
    (
        "the header is the first non-blank row",
        '<row r="1"><c r="A1" s="0"/></row><row r="3">'
        + inline("B3", "名称")
        + '</row><row r="4">'
        + inline("B4", "v")
        + "</row>",
        {},
        [(4, ["", "v"])],
    ),
    (
        "dates under built-in and custom formats; numbers under number formats stay numbers",
        HEADER_ROW + f'<row r="2"><c r="A2" s="1"><v>{S}</v></c><c r="B2" s="2"><v>{S}.75</v></c>'
        f'<c r="C2" s="3"><v>{S}</v></c><c r="D2" s="5"><v>{S}</v></c><c r="E2" s="6"><v>{S}</v></c>'
        f'<c r="F2" s="9"><v>{S}</v></c><c r="G2" s="10"><v>{S}</v></c><c r="H2" s="0"><v>{S}</v></c></row>'
        '<row r="3"><c r="A3" s="4"><v>0.5</v></c><c r="B3" s="8"><v>0.75</v></c><c r="C3" s="7"><v>1.5</v></c>'
        '<c r="D3" s="1"><v>61</v></c><c r="E3" s="1"><v>59</v></c><c r="F3" s="1"><v>3000000</v></c>'
        '<c r="G3" s="6"><v>2.5</v></c></row>',
        {"styles": DATE_STYLES},
        [
            (2, ["1965-03-08", "1965-03-08", "1965-03-08", "1965-03-08", str(S), "1965-03-08", str(S), str(S)]),
            (3, ["12:00:00", "18:00:00", "1 day, 12:00:00", "1900-03-01", "1900-02-28", "3000000", "2.5"]),
        ],
    ),
    (
        "the 1904 date system",
        HEADER_ROW + f'<row r="2"><c r="A2" s="1"><v>{excel_serial(BORN, date1904=True)}</v></c></row>',
        {"styles": DATE_STYLES, "workbook_pr": '<workbookPr date1904="1"/>'},
        [(2, ["1965-03-08"])],
    ),
    (
        "an ISO date cell",
        HEADER_ROW + '<row r="2"><c r="A2" t="d"><v>2014-03-08T00:00:00</v></c></row>',
        {},
        [(2, ["2014-03-08"])],
    ),
    (
        "entities, character references, CDATA, comments and OOXML's _xHHHH_ escapes",
        HEADER_ROW + '<row r="2">' + inline("A2", "a &amp; b &lt;c&gt; &#x4E2D;&#25991;") + "<!-- a note -->"
        '<c r="B2" t="inlineStr"><is><t><![CDATA[x<y & z]]></t></is></c><c r="C2" t="s"><v>0</v></c>'
        '<c r="D2" t="s"><v>1</v></c></row>',
        {"strings": ["<si><t>a_x000D_b</t></si>", "<si><t>_x005F_x000D_</t></si>"]},
        [(2, ["a & b <c> 中文", "x<y & z", "a\rb", "_x000D_"])],
    ),
    (
        "rich shared strings join their runs; phonetic runs are left out",
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row>',
        {
            "strings": [
                "<si><t>a</t></si>",
                '<si><t xml:space="preserve">b</t></si>',
                '<si><r><t>王</t></r><r><rPr><b/><sz val="11"/></rPr><t xml:space="preserve"> 大山 </t></r></si>',
                '<si><t>漢字</t><rPh sb="0" eb="2"><t>カンジ</t></rPh><phoneticPr fontId="1"/></si>',
            ]
        },
        [(2, ["王 大山", "漢字"])],
    ),
    (
        "attributes in another order, other quotes, more attributes",
        HEADER_ROW + "<row r='2' spans='1:3'><c t='s' s='0' r='B2'><v>0</v></c>"
        '<c r="C2" s="0" t="s" cm="1"><v>0</v></c><c  r = "D2"  ><v >5</v ></c ></row>',
        {"strings": ["<si><t>x</t></si>"]},
        [(2, ["", "x", "x", "5"])],
    ),
    (
        "cells out of order: each lands in its column",
        HEADER_ROW + '<row r="2">' + inline("B2", "b") + inline("A2", "a") + "</row>",
        {},
        [(2, ["a", "b"])],
    ),
    (
        "a prefixed namespace",
        '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c></x:row>'
        '<x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>王</x:t></x:is></x:c><x:c r="B2"><x:v>2</x:v></x:c></x:row>',
        {"strings": ["<x:si><x:t>h</x:t></x:si>"], "prefix": "x"},
        [(2, ["王", "2"])],
    ),
    (
        "strict OOXML namespaces",
        HEADER_ROW + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>',
        {"strings": ["<si><t>s</t></si>"], "main": STRICT_MAIN, "rel": STRICT_REL},
        [(2, ["s"])],
    ),
    (
        "a sheet not named sheet1.xml, by an absolute target",
        HEADER_ROW + '<row r="2">' + inline("A2", "z") + "</row>",
        {"sheet_part": "xl/worksheets/户籍.xml", "target": "/xl/worksheets/户籍.xml"},
        [(2, ["z"])],
    ),
    (
        "the first sheet the workbook lists, whatever its relationship id; a chart sheet is passed over",
        "",
        {
            "sheets": '<sheet name="图" sheetId="3" r:id="rId3"/><sheet name="第二" sheetId="2" r:id="rId2"/>'
            '<sheet name="第一" sheetId="1" r:id="rId1"/>',
            "extra_rels": f'<Relationship Id="rId2" Type="{REL}/worksheet" Target="worksheets/sheet2.xml"/>'
            f'<Relationship Id="rId3" Type="{REL}/chartsheet" Target="chartsheets/sheet1.xml"/>',
            "extra_parts": {
                "xl/worksheets/sheet2.xml": f'{DECL}<worksheet xmlns="{MAIN}"><sheetData>{HEADER_ROW}'
                f'<row r="2">{inline("A2", "second")}</row></sheetData></worksheet>',
                "xl/chartsheets/sheet1.xml": f'{DECL}<chartsheet xmlns="{MAIN}"/>',
            },
        },
        [(2, ["second"])],
    ),
]


@pytest.mark.parametrize(("sheet_data", "options", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cells_and_rows(tmp_path: Path, sheet_data: str, options: dict[str, Any], expected: list[Any]):
    headers, rows, _ = read(package(tmp_path / "t.xlsx", sheet_data, **options))
    assert rows == expected
    assert headers and all(h == h.strip() for h in headers)


@pytest.mark.parametrize("chunk", [7, 97, 1 << 18])
def test_rows_come_whole_however_the_xml_is_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int):
    """Chunks of any size, cut anywhere (inside a tag, a multi-byte character, between <row/> elements)."""
    monkeypatch.setattr(tabular, "CHUNK", chunk)
    body = HEADER_ROW + "".join(
        f'<row r="{n}">{inline(f"A{n}", f"王{n}")}<c r="B{n}" t="s"><v>{n % 3}</v></c></row>'
        if n % 5
        else f'<row r="{n}"/>'
        for n in range(2, 400)
    )
    strings = ["<si><t>零</t></si>", "<si><r><t>一</t></r></si>", '<si><t xml:space="preserve"> 二 </t></si>']
    headers, rows, total = read(
        package(tmp_path / "t.xlsx", body, strings=strings, head='<dimension ref="A1:B399"/>'), strip=False
    )
    expected = [(n, [f"王{n}", ["零", "一", " 二 "][n % 3]]) for n in range(2, 400) if n % 5]
    assert (headers, rows, total) == (["a", "b"], expected, 398)


def test_strip_as_asked(tmp_path: Path):
    body = HEADER_ROW + '<row r="2">' + inline("A2", " 王 ") + '<c r="B2" t="s"><v>0</v></c></row>'
    path = package(tmp_path / "t.xlsx", body, strings=['<si><t xml:space="preserve">  是 </t></si>'])
    assert read(path)[1] == [(2, ["王", "是"])]
    assert read(path, strip=False)[1] == [(2, [" 王 ", "  是 "])]


@pytest.mark.parametrize(
    ("head", "total"),
    [
        ('<dimension ref="A1:BX330001"/>', 330_000),
        ("<dimension ref='B3:C9'/>", 8),
        ('<dimension ref="A1"/>', None),  # what some writers put whatever the size: unknown
        ("", None),
    ],
)
def test_total_from_the_dimension(tmp_path: Path, head: str, total: int | None):
    assert (
        read(package(tmp_path / "t.xlsx", HEADER_ROW + "<row r='2'><c r='A2'><v>1</v></c></row>", head=head))[2]
        == total
    )


def test_an_empty_sheet(tmp_path: Path):
    path = package(tmp_path / "t.xlsx", "", sheet_xml=f'{DECL}<worksheet xmlns="{MAIN}"><sheetData/></worksheet>')
    assert read(path) == ([], [], 0)


def test_the_flags_read_as_the_template_takes_them():
    assert (FLAGS["true"], FLAGS["false"]) == (True, False)


def test_an_excel_like_file_reads_as_calamine_read_it(tmp_path: Path):
    """xlsxwriter writes as Excel does (shared strings, styles, dates as numbers); the old reader agrees."""
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("户籍成员")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    zh = book.add_format({"num_format": 'yyyy"年"m"月"d"日"'})
    builtin = book.add_format({"num_format": 14})
    bold = book.add_format({"bold": True})
    for i, header in enumerate(["户编号", "村民小组", "出生日期", "登记日期", "耕地面积(亩)", "备注", "入户"]):
        sheet.write_string(0, i, header)
    for r in range(1, 60):
        sheet.write_string(r, 0, f"HK-{r:04d}")
        sheet.write_number(r, 1, r % 9 + 1)
        sheet.write_datetime(r, 2, datetime(1950 + r, 1 + r % 12, 1 + r % 28), day if r % 2 else zh)
        sheet.write_datetime(r, 3, datetime(2014, 10, 1 + r % 28, 9, 30), builtin)
        sheet.write_number(r, 4, r / 4)
        if r % 3:
            sheet.write_rich_string(r, 5, "王", bold, "大山", f" {r}")
        sheet.write_string(r, 6, "是" if r % 2 else "否")
    book.close()

    old = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    expected = [[tabular._cell(v) for v in row] for row in old[1:]]
    headers, rows, total = read(path)
    assert headers == [tabular._cell(h) for h in old[0]]
    assert [n for n, _ in rows] == list(range(2, 61)) and total == 59
    assert [cells + [""] * (len(expected[0]) - len(cells)) for _, cells in rows] == expected
    assert rows[0][1][:5] == ["HK-0001", "2", "1951-02-02", "2014-10-02", "0.25"]


# --- damage -----------------------------------------------------------------------------------------------


def read_all(path: Path) -> None:
    for _ in open_table(path).rows:
        pass


def zip_of(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def test_not_a_zip(tmp_path: Path):
    path = tmp_path / "t.xlsx"
    path.write_text("户编号,姓名\nHK-1,王\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="not an XLSX file") as caught:
        open_table(path)
    assert caught.value.field == "file" and caught.value.status == 422


def test_a_zip_without_a_workbook(tmp_path: Path):
    with pytest.raises(UnreadableFile, match=r"lacks its part xl/workbook\.xml"):
        open_table(zip_of(tmp_path / "t.xlsx", {"a.txt": b"x"}))


def worksheet(data: str, before: str = "") -> str:
    return f'{before}<worksheet xmlns="{MAIN}">{data}</worksheet>'


DAMAGED = {
    "mismatched tag": (worksheet('<sheetData><row r="1"><c r="A1"><v>1</v></row></sheetData>'), "mismatched"),
    "truncated": (f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1"><v>1</v></c></row>', "damaged"),
    "no such string": (worksheet('<sheetData><row><c r="A1" t="s"><v>9</v></c></row></sheetData>'), "shared string"),
    "bad index": (worksheet('<sheetData><row r="1"><c r="A1" t="s"><v>x</v></c></row></sheetData>'), "damaged"),
    "column": (worksheet('<sheetData><row r="1"><c r="ZZZZ1"><v>1</v></c></row></sheetData>'), "past column XFD"),
    "bad character": (worksheet("<sheetPr>&#1;</sheetPr><sheetData/>"), "damaged"),
    "doctype": (worksheet("<sheetData/>", '<!DOCTYPE worksheet [<!ENTITY a "aaaa">]>'), "DOCTYPE"),
    "utf-16": (worksheet("<sheetData/>", '<?xml version="1.0" encoding="UTF-16"?>'), "UTF-8"),
    "no sheetData": (worksheet(""), "no <sheetData>"),
}


@pytest.mark.parametrize(("sheet_xml", "message"), DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_sheet_is_refused_with_a_reason(tmp_path: Path, sheet_xml: str, message: str):
    path = package(tmp_path / "t.xlsx", "", sheet_xml=sheet_xml)
    with pytest.raises(UnreadableFile, match=message):
        read_all(path)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path):
    with zipfile.ZipFile(package(tmp_path / "t.xlsx", HEADER_ROW, strings=[])) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    parts["xl/sharedStrings.xml"] = b"<sst>" + b"<si><t>a</t></si>" * (1 << 20) + b"</sst>"  # 17 MB, packs ~1000:1
    with pytest.raises(UnreadableFile, match=r"sharedStrings\.xml unpacks to 17 MB: refused"):
        open_table(zip_of(tmp_path / "bomb.xlsx", parts))


def test_an_xls_named_xlsx_goes_to_calamine_and_garbage_is_refused(tmp_path: Path):
    ole = tmp_path / "old.xlsx"
    ole.write_bytes(tabular.OLE_MAGIC + b"\0" * 600)
    with pytest.raises(UnreadableFile, match="cannot be read"):
        open_table(ole)
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"not a spreadsheet")
    with pytest.raises(UnreadableFile, match="cannot be read"):
        open_table(xls)


# --- through the API --------------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("dimension", [True, False], ids=["with a dimension", "without: no total"])
def test_an_import_with_excel_dates_lands(api, county, tmp_path: Path, dimension: bool):
    """出生日期 and 登记日期 as Excel date cells (numbers under a date format) read as YYYY-MM-DD; a sheet
    that does not state its size imports all the same, without a total for progress."""
    path = tmp_path / "dates.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    day = book.add_format({"num_format": 14})
    rows = household_rows("HK-DATES", 3)
    rows[0]["登记日期"] = "2015-04-01"
    for i, header in enumerate(HEADERS):
        sheet.write_string(0, i, header)
        for r, row in enumerate(rows, start=1):
            value = row.get(header, "")
            if header in ("出生日期", "登记日期") and value:
                sheet.write_datetime(r, i, datetime.fromisoformat(value), day)
            elif header == "村民小组":
                sheet.write_number(r, i, float(value))
            elif value:
                sheet.write_string(r, i, value)
    book.close()
    if not dimension:
        with zipfile.ZipFile(path) as zf:
            parts = {name: zf.read(name) for name in zf.namelist()}
        sheet = parts["xl/worksheets/sheet1.xml"]
        parts["xl/worksheets/sheet1.xml"] = re.sub(rb"<dimension [^>]*/>", b"", sheet)
        zip_of(path, parts)
    job = post_import(api, county, path)
    expected = ("done", 0, 3, 3 if dimension else None)
    assert (job["status"], job["error_count"], job["members_created"], job["rows_total"]) == expected, job
    listed = api.get("/api/v1/households", params={"q": "王大山"}, headers=county).json()["items"]
    [found] = [h for h in listed if h["hukou_number"] == "HK-DATES"]
    household = api.get(f"/api/v1/households/{found['id']}", headers=county).json()
    assert household["registered_on"] == "2015-04-01"
    assert {m["birth_date"] for m in household["members"]} >= {"1965-03-08", "1967-09-01"}


@pytest.mark.integration
def test_a_damaged_xlsx_fails_the_import_job_with_a_message(api, county, tmp_path: Path):
    path = package(
        tmp_path / "damaged.xlsx",
        "",
        sheet_xml=f'<worksheet xmlns="{MAIN}"><sheetData>{HEADER_ROW}<row r="2"><c r="A2"><v>1</v></row>',
    )
    job = post_import(api, county, path)
    assert job["status"] == "failed" and "damaged" in job["message"], job
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04 not really")
    job = post_import(api, county, garbage)
    assert job["status"] == "failed" and "not an XLSX file" in job["message"], job


@pytest.mark.integration
def test_a_damaged_region_file_is_a_422_not_a_500(api, system, tmp_path: Path):
    buffer = io.BytesIO(b"PK\x03\x04 not really")
    refused = api.post("/api/v1/regions/import", files={"file": ("regions.xlsx", buffer, XLSX)}, headers=system)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "file"
