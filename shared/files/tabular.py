"""Reading spreadsheets the county office produces: CSV (UTF-8 or GB18030) and XLSX, row by row.

CSV and XLSX stream: memory stays flat in the number of rows. An XLSX file is a zip of XML parts; the first
worksheet's XML is unpacked and read a chunk at a time, each row dropped once handed out (see "XLSX: the
streaming reader" below). What cannot stream is the shared-strings table (cells refer to it by index, in any
order): it is kept as one ``bytearray`` of UTF-8 text and an ``array`` of where each string ends, about the
size of its text (~15 MB for 100k households), not a Python string each. ``.xls`` and ``.ods`` still go
through calamine, which loads the whole sheet: only XLSX is streamed.
"""

from __future__ import annotations

import csv
import posixpath
import re
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, ParseError, fromstring
from xml.parsers.expat import ExpatError, ParserCreate

from python_calamine import CalamineError, CalamineWorkbook

from shared.errors import ValidationFailed

XLSX_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")  # the spreadsheets an upload may be
OOXML_SUFFIXES = (".xlsx", ".xlsm")  # read by the streaming reader here; .xls and .ods by calamine, whole
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an .xls renamed .xlsx, or a password-protected workbook

# What a forged or broken file may cost. Parts are checked by their unpacked size as the zip's directory
# states it; zipfile stops a member's output at that size (a member that inflates further fails its CRC).
MAX_PART = 64 << 20  # the small parts read whole: relationships, workbook, styles
MAX_SHEET = 4 << 30  # the sheet's XML: streamed, so this bounds time, not memory (Excel's 1 M rows of 50 cells: ~2 GB)
MAX_STRINGS = 256 << 20  # sharedStrings.xml, whose text is kept: a 330k-row county file has ~25 MB
MAX_RATIO = 200  # unpacked ÷ packed, for a part over RATIO_FROM: XML packs 5–30 : 1, a zip bomb ~1000 : 1
RATIO_FROM = 16 << 20
MAX_COLUMNS = 16_384  # XFD, Excel's last column


class UnreadableFile(ValidationFailed):
    """The file is not the spreadsheet its name says, is damaged, or unpacks too large (422, field ``file``).

    Raised by ``open_table`` or, for damage further into the file, while its rows are read: the import job
    then fails with this message, and the region upload answers 422.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="file")


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells as text)
    total: int | None = None  # data rows, for progress (blank rows included); None when unknown


def open_table(path: Path, *, strip: bool = True) -> Table:
    """The header row and a stream of the rows below it; XLSX takes the first worksheet.

    Blank rows are skipped. Cells are stripped of surrounding space unless ``strip`` is false (a caller that
    strips only the cells it reads, in its own hot loop). A damaged spreadsheet raises UnreadableFile.
    """
    suffix = path.suffix.lower()
    if suffix in OOXML_SUFFIXES:
        with path.open("rb") as fh:
            ole = fh.read(len(OLE_MAGIC)) == OLE_MAGIC
        return _calamine(path, by_content=True) if ole else _xlsx(path, strip=strip)
    if suffix in XLSX_SUFFIXES:
        return _calamine(path)
    return _csv(path, strip=strip)


# --- CSV ------------------------------------------------------------------------------------------------


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return max(lines - 1, 0)


def _encoding(path: Path) -> str:
    # Excel on a Chinese Windows saves CSV in GBK; anything that is not valid UTF-8 is read as GB18030.
    with path.open("rb") as fh:
        sample = fh.read(1 << 16)
    try:
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # a cut multi-byte character at the end is not evidence
            return "gb18030"
    return "utf-8-sig"


MAX_LINE = 1 << 20  # characters in one CSV line (a household row is ~1,000): a longer one is refused, not held
csv.field_size_limit(MAX_LINE)


def _bounded_lines(fh: IO[str]) -> Iterator[str]:
    """The file's lines, each read with a bound: memory stays flat whatever one line's length."""
    while line := fh.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE:
            raise UnreadableFile(f"a line of the file is longer than {MAX_LINE:,} characters: not a table")
        yield line


def _csv(path: Path, *, strip: bool) -> Table:
    fh = open(path, encoding=_encoding(path), newline="", buffering=1 << 20)  # noqa: SIM115 - closed at the end
    reader = csv.reader(_bounded_lines(fh))
    try:
        headers = [h.strip() for h in next(reader, [])]
    except (csv.Error, UnicodeDecodeError, UnreadableFile) as exc:
        fh.close()
        raise exc if isinstance(exc, UnreadableFile) else UnreadableFile(f"not a readable CSV file: {exc}") from exc

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            yield  # type: ignore[misc]  # primed below: closing the stream closes the file, even before a row
            for number, row in enumerate(reader, start=2):
                if (row and row[0].strip()) or any(cell.strip() for cell in row):  # blank rows are skipped
                    yield number, [cell.strip() for cell in row] if strip else row
        except csv.Error as exc:
            raise UnreadableFile(f"not a readable CSV file: {exc}") from exc
        finally:
            fh.close()

    stream = rows()
    next(stream)
    return Table(headers=headers, rows=stream, total=_count_lines(path))


# --- .xls and .ods: calamine ------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"  # as the XLSX reader writes them (template.YES / NO)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps numbers as floats: 1.0 is the group number 1
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _calamine(path: Path, *, by_content: bool = False) -> Table:
    """The first sheet through calamine, which loads it whole (``.xls``, ``.ods``, an ``.xls`` named ``.xlsx``)."""
    try:
        if by_content:  # calamine goes by the suffix; from a file object it tries each format
            with path.open("rb") as fh:
                book = CalamineWorkbook.from_filelike(fh)
        else:
            book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
    except (CalamineError, OSError, ValueError) as exc:
        raise UnreadableFile(f"the spreadsheet cannot be read (damaged, or password-protected?): {exc}") from exc
    stream = iter(sheet.iter_rows())
    headers = [_cell(h) for h in next(stream, [])]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, row in enumerate(stream, start=2):
                cells = [_cell(v) for v in row]
                if any(cells):
                    yield number, cells
        finally:
            book.close()

    return Table(headers=headers, rows=rows(), total=max(sheet.height - 1, 0))


# --- XLSX: the streaming reader ---------------------------------------------------------------------------
#
# The sheet's XML is read from the zip a chunk at a time. expat checks each chunk (with no handlers: C speed),
# so a damaged part fails with its line and column; the cells are picked out of the chunk, cut at a row's end,
# by one regular expression whose first branch is the shape Excel, WPS and xlsxwriter write every plain cell
# in (<c r="B7" s="3" t="s"><v>12</v></c>); any other shape (a formula, an inline string, attributes in
# another order or quoting) takes the general branch. An element tree per cell is 3-4 times slower.

REL_WORKSHEET = "/worksheet"  # relationship types end so, in transitional and strict OOXML alike
REL_STYLES = "/styles"
REL_STRINGS = "/sharedStrings"
REL_DOCUMENT = "/officeDocument"
CHUNK = 1 << 18  # bytes of XML read at a time
MAX_HEAD = 16 << 20  # the sheet's XML before <sheetData> (views, column widths)
MAX_ROW = 16 << 20  # the XML of one row, or of one shared string
RECENT = 4096  # shared strings kept decoded: the first ones, which recur (a county's choices and codes)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_COLUMNS = {a: i for i, a in enumerate(_LETTERS)} | {
    a + b: 26 * (i + 1) + j for i, a in enumerate(_LETTERS) for j, b in enumerate(_LETTERS)
}  # A..ZZ; three letters are worked out as they come
_SHEET_DATA = re.compile(rb"<([\w.-]+:)?sheetData\b[^>]*?(/?)>")
_SST = re.compile(rb"<([\w.-]+:)?sst\b[^>]*?(/?)>")
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*?\sref\s*=\s*[\"'][A-Z]+\d+:[A-Z]+(\d+)[\"']")
_ENCODING = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([\w.-]+)[\"']")
_ROW_NUMBER = re.compile(r"(?:^|\s)r\s*=\s*[\"'](\d+)[\"']")
_ATTRIBUTE = re.compile(r"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_MARKUP = re.compile(r"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[(.*?)\]\]>", re.S)  # comments, PIs, CDATA
_ENTITY = re.compile(r"&(?:#(\d+)|#x([0-9A-Fa-f]+)|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")  # OOXML's escape of a character XML cannot carry (_x000D_)

# Number formats that show a number as a date or time. Built in (ECMA-376 18.8.30), and the East Asian
# locales' built-ins (27–36, 50–58: 年月日 and 时分秒 formats) that WPS and Chinese Excel write by id alone.
DATE, DURATION = 1, 2
BUILTIN_FORMATS = dict.fromkeys((*range(14, 23), 45, 47, *range(27, 37), *range(50, 59)), DATE) | {46: DURATION}
_LITERALS = re.compile(r'"[^"]*"|\\.|_.|\*.')  # quoted text, an escaped character, a width skip, a fill
_BRACKETS = re.compile(r"\[([^\]]*)\]")
_ELAPSED = re.compile(r"(?i)h+|m+|s+")

# What reading a damaged package or part raises, besides UnreadableFile (zipfile: RuntimeError for an
# encrypted member, NotImplementedError for an unknown compression; UnicodeDecodeError is a ValueError).
DAMAGE = (
    ExpatError,
    ParseError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    IndexError,
    KeyError,
    OverflowError,
    NotImplementedError,
    RuntimeError,
)


def _format_kind(code: str) -> int:
    """DATE when a number format shows a date or a time of day, DURATION for elapsed time ([h]:mm), else 0."""
    section = _LITERALS.sub("", code).split(";", 1)[0]  # the format of positive numbers
    if any(_ELAPSED.fullmatch(b) for b in _BRACKETS.findall(section)):
        return DURATION
    section = _BRACKETS.sub("", section)  # [Red], [$-804], [>=100], [DBNum1]
    return DATE if any(ch in "dmyhsDMYHS" for ch in section) else 0


def _time_text(value: float, kind: int, date1904: bool) -> str | None:
    """A number under a date or time format as text: a day as YYYY-MM-DD (its time dropped), a time of day
    (under 1) as HH:MM:SS, elapsed time as "1 day, 2:30:00"; None when out of Excel's range."""
    if kind == DURATION:
        return str(timedelta(seconds=round(value * 86_400)))
    if not 0 <= value < 2_958_466:  # 9999-12-31 (OverflowError past it in the 1904 system)
        return None
    days, ms = divmod(round(value * 86_400_000), 86_400_000)  # Excel keeps times to the millisecond
    if days == 0:
        return time(ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60).isoformat()
    if date1904:
        return (date(1904, 1, 1) + timedelta(days=days)).isoformat()
    if days <= 60:  # Excel counts a 1900-02-29 (day 60) that never was, after Lotus 1-2-3
        return (date(1899, 12, 31) + timedelta(days=min(days, 59))).isoformat()
    return (date(1899, 12, 30) + timedelta(days=days)).isoformat()


def _number(text: str) -> str:
    """A number as the old reader gave it: integral ones without ``.0``, others as Python's shortest repr."""
    if text.isascii() and text.isdigit() and (text[0] != "0" or len(text) == 1):
        return text
    try:
        value = float(text)
    except ValueError:
        return text.strip()
    return str(int(value)) if value.is_integer() else repr(value)


def _entity(match: re.Match[str]) -> str:
    if match[1]:
        return chr(int(match[1]))
    return chr(int(match[2], 16)) if match[2] else _NAMED[match[3]]


def _xml_text(text: str) -> str:
    """Character data as XML means it: line ends, entities and character references, then OOXML's _xHHHH_."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _ENTITY.sub(_entity, text)
    if "_x" in text:
        text = _ESCAPED.sub(lambda m: chr(int(m[1], 16)), text)
    return text


def _plain(xml: str) -> str:
    """XML with its comments and processing instructions dropped and its CDATA sections as escaped text."""
    if "<!" not in xml and "<?" not in xml:
        return xml
    return _MARKUP.sub(lambda m: "" if m[1] is None else m[1].replace("&", "&amp;").replace("<", "&lt;"), xml)


def _attributes(text: str) -> dict[str, str]:
    return {name: double or single for name, double, single in _ATTRIBUTE.findall(text)}


def _column(letters: str) -> int:
    """0 for A, 25 for Z, 26 for AA; ValueError past Excel's last column."""
    at = _COLUMNS.get(letters)
    if at is None:
        if not (letters.isascii() and letters.isalpha()):
            raise ValueError(f"cell reference {letters!r}")
        at = -1
        for ch in letters.upper():
            at = (at + 1) * 26 + ord(ch) - 65
        if at >= MAX_COLUMNS:
            raise ValueError(f"cell reference {letters!r} is past column XFD")
        _COLUMNS[letters] = at
    return at


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _no_doctype(*args: object) -> None:
    raise UnreadableFile("the XLSX file is damaged: a part declares a DOCTYPE, which OOXML forbids")


class _Grammar:
    """The patterns for a part's namespace prefix ("" for the default namespace, or "x:")."""

    def __init__(self, prefix: str) -> None:
        p = re.escape(prefix)
        # Groups: 1 column letters, 2 style, 3 type, 4 value (the usual cell) | 5 "row", 6 its attributes |
        # 7 any other cell, whole (its content holds no other <c: each try stops at the next cell).
        self.token = re.compile(
            rf'<{p}c r="([A-Z]+)\d+"(?: s="(\d+)")?(?: t="(\w+)")?(?:/>|>(?:<{p}v>([^<]*)</{p}v>)?</{p}c>)'
            rf"|<{p}(row)\b([^>]*)>"
            rf"|(<{p}c\b[^>]*?/>|<{p}c\b[^>]*>(?:[^<]|<(?!{p}c\b))*?</{p}c\s*>)",
            re.S,
        )
        self.cell = re.compile(rf"<{p}c\b([^>]*?)(/?)>", re.S)
        self.value = re.compile(rf"<{p}v\b[^>]*?(?:/>|>([^<]*)</{p}v\s*>)")
        self.inline = re.compile(rf"<{p}is\b[^>]*?(?:/>|>(.*?)</{p}is\s*>)", re.S)
        self.text = re.compile(rf"<{p}t\b[^>]*?(?:/>|>([^<]*)</{p}t\s*>)")
        self.phonetic = re.compile(rf"<{p}rPh\b.*?</{p}rPh\s*>", re.S)
        # Groups: 1 the text of the usual <si><t>text</t></si> | 2 any other <si>'s content.
        self.string = re.compile(
            rf'<{p}si><{p}t(?: xml:space="preserve")?>([^<]*)</{p}t></{p}si>|<{p}si\b[^>]*?(?:/>|>(.*?)</{p}si\s*>)',
            re.S,
        )
        self.row_open, self.row_close = f"<{prefix}row".encode(), f"</{prefix}row".encode()
        self.data_close = f"</{prefix}sheetData".encode()
        self.string_close, self.sst_close = f"</{prefix}si".encode(), f"</{prefix}sst".encode()

    def rich(self, xml: str) -> str:
        """The text of an <si> or <is>: its <t>, or the <t> of each rich-text run, not of the phonetic runs."""
        xml = _plain(xml)
        if "rPh" in xml:
            xml = self.phonetic.sub("", xml)
        return _xml_text("".join(self.text.findall(xml)))


class _XmlPart:
    """One XML part of the zip, read a chunk at a time; expat checks each chunk as it comes."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.expat = ParserCreate()
        self.expat.StartDoctypeDeclHandler = _no_doctype  # no entity declarations, so no billion laughs
        self.buffer = b""
        self.started = False

    def read(self) -> bool:
        """One more chunk into the buffer; False at the end of the part."""
        chunk = self.stream.read(CHUNK)
        if not self.started:
            self.started = True
            encoding = _ENCODING.match(chunk)
            if chunk[:2] in (b"\xff\xfe", b"\xfe\xff") or (
                encoding and encoding[1].lower().replace(b"-", b"") != b"utf8"
            ):
                raise UnreadableFile("the XLSX file is not in UTF-8, as Excel writes it")
        self.expat.Parse(chunk, not chunk)
        self.buffer += chunk
        return bool(chunk)

    def start(self, pattern: re.Pattern[bytes], what: str) -> tuple[str, bool, bytes]:
        """Read up to the element ``pattern`` finds: its namespace prefix, whether it is empty (<x/>), and the
        XML before it; the buffer then holds what follows it."""
        while (found := pattern.search(self.buffer)) is None:
            if len(self.buffer) > MAX_HEAD or not self.read():
                raise UnreadableFile(f"the XLSX file is damaged: no <{what}>")
        head, self.buffer = self.buffer[: found.start()], self.buffer[found.end() :]
        return (found[1] or b"").decode(), found[2] == b"/", head

    def pieces(self, close: bytes, end: bytes, also: bytes = b"") -> Iterator[str]:
        """The XML up to the tag ``end``, as text in pieces that each end at the end of a ``close`` tag (or
        of an empty ``<also .../>`` element) so that no element is cut.

        A piece is handed out only once expat has read all of it, up to a whole closing tag: what the
        patterns then scan is well-formed, every element in it closed.
        """
        while True:
            stop = self.buffer.find(end)
            if stop >= 0 and self.buffer.find(b">", stop) > 0:
                piece, self.buffer = self.buffer[:stop], b""
                yield piece.decode()
                return
            at = self.buffer.rfind(close)
            cut = self.buffer.find(b">", at) + 1 if at >= 0 else 0
            if also and (at := self.buffer.rfind(also, cut)) >= 0:
                gt = self.buffer.find(b">", at)
                if gt > 0 and self.buffer[gt - 1] == 0x2F:  # an empty <row .../> after the last </row>
                    cut = gt + 1
            if cut:
                piece, self.buffer = self.buffer[:cut], self.buffer[cut:]
                yield piece.decode()
            elif len(self.buffer) > MAX_ROW:
                raise UnreadableFile(f"the XLSX file has a row or string of more than {MAX_ROW >> 20} MB of XML")
            if not self.read():
                raise UnreadableFile("the XLSX file is damaged: a part ends early")


class _Package:
    """The zip, and the parts of it that lead to the first worksheet (``locate``)."""

    def __init__(self, path: Path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise UnreadableFile(f"not an XLSX file (not a zip archive): {exc}") from exc
        # Names as the package means them: case-insensitive, and some writers add a "/" or use "\".
        self.names = {n.replace("\\", "/").lstrip("/").lower(): n for n in self.zip.namelist()}
        self.date1904 = False
        self.sheet = ""
        self.styles: str | None = None
        self.strings: str | None = None

    def locate(self) -> None:
        """The workbook (``_rels/.rels``), its first worksheet (``<sheets>`` → ``workbook.xml.rels``), the
        date system, and the styles and shared-strings parts."""
        document = next(iter(self._relations("", REL_DOCUMENT).values()), "xl/workbook.xml")
        sheets = self._relations(document, REL_WORKSHEET)
        for element in self._xml(document).iter():
            tag = _local(element.tag)
            if tag == "workbookPr":
                self.date1904 = element.get("date1904", "").lower() in ("1", "true")
            elif tag == "sheet" and not self.sheet:
                rid = next((v for k, v in element.attrib.items() if k.startswith("{") and k.endswith("}id")), "")
                self.sheet = sheets.get(rid, "")  # a chart sheet is not among the worksheets: the next one
        if not self.sheet:
            raise UnreadableFile("the XLSX file has no worksheet")
        self.styles = next(iter(self._relations(document, REL_STYLES).values()), None)
        self.strings = next(iter(self._relations(document, REL_STRINGS).values()), None)

    def info(self, name: str, limit: int) -> zipfile.ZipInfo:
        real = self.names.get(name.lower())
        if real is None:
            raise UnreadableFile(f"the XLSX file lacks its part {name}")
        info = self.zip.getinfo(real)
        if info.file_size > limit or (
            info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        ):
            raise UnreadableFile(f"the XLSX part {name} unpacks to {info.file_size >> 20} MB: refused")
        return info

    def has(self, name: str | None) -> bool:
        return name is not None and name.lower() in self.names

    def open(self, name: str, limit: int) -> _XmlPart:
        return _XmlPart(self.zip.open(self.info(name, limit)))

    def _xml(self, name: str) -> Element:
        """A small part, whole (ElementTree on expat: entity expansion is bounded by expat itself)."""
        return fromstring(self.zip.read(self.info(name, MAX_PART)))

    def _relations(self, part: str, kind: str) -> dict[str, str]:
        """The targets of ``part``'s relationships of one type, by id, as names in the zip; in file order."""
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", f"{name}.rels")
        if not self.has(rels):
            return {}
        found = {}
        for rel in self._xml(rels):
            target = rel.get("Target", "")
            if rel.get("Type", "").endswith(kind) and rel.get("TargetMode") != "External" and target:
                target = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
                found[rel.get("Id", "")] = posixpath.normpath(target)
        return found

    def date_styles(self) -> dict[str, int]:
        """Cell style index (the ``s`` attribute, as text) → DATE or DURATION, for the styles that are."""
        if not self.has(self.styles):
            return {}
        assert self.styles is not None
        custom: dict[int, int] = {}
        kinds: dict[str, int] = {}
        for element in self._xml(self.styles):
            tag = _local(element.tag)
            if tag == "numFmts":
                for fmt in element:
                    custom[int(fmt.get("numFmtId", "0"))] = _format_kind(fmt.get("formatCode", ""))
            elif tag == "cellXfs":
                for i, xf in enumerate(element):
                    fmt_id = int(xf.get("numFmtId", "0"))
                    kind = custom[fmt_id] if fmt_id in custom else BUILTIN_FORMATS.get(fmt_id, 0)
                    if kind:
                        kinds[str(i)] = kind
        return kinds

    def shared_strings(self) -> SharedStrings:
        """The shared-strings table: one UTF-8 buffer of all the texts and where each ends."""
        table = SharedStrings(bytearray(), array("I", [0]))  # MAX_STRINGS keeps the text under 4 GiB
        if not self.has(self.strings):
            return table
        assert self.strings is not None
        part = self.open(self.strings, MAX_STRINGS)
        try:
            prefix, empty, _ = part.start(_SST, "sst")
            if empty:
                return table
            grammar = _Grammar(prefix)
            text, ends = table.text, table.ends
            for piece in part.pieces(grammar.string_close, grammar.sst_close):
                for plain, other in grammar.string.findall(piece):
                    if plain:
                        text += (_xml_text(plain) if "&" in plain or "_x" in plain or "\r" in plain else plain).encode()
                    elif other:
                        text += grammar.rich(other).encode()
                    ends.append(len(text))
        finally:
            part.stream.close()
        return table


@dataclass(frozen=True)
class SharedStrings:
    text: bytearray  # every string's UTF-8, one after the other
    ends: array[int]  # where each ends in ``text``; string i is text[ends[i]:ends[i + 1]]

    def __getitem__(self, index: int) -> str:
        if index < 0:
            raise IndexError(f"shared string {index}")
        return self.text[self.ends[index] : self.ends[index + 1]].decode()


def _xlsx(path: Path, *, strip: bool) -> Table:
    """The first worksheet, streamed: the first non-blank row is the header; rows numbered as Excel shows."""
    package = _Package(path)
    sheet: _XmlPart | None = None
    try:
        package.locate()
        strings = package.shared_strings()
        styles = package.date_styles()
        sheet = package.open(package.sheet, MAX_SHEET)
        prefix, empty, head = sheet.start(_SHEET_DATA, "sheetData")
    except BaseException as exc:
        if sheet is not None:
            sheet.stream.close()
        package.zip.close()
        if isinstance(exc, DAMAGE):
            raise UnreadableFile(f"the XLSX file is damaged: {exc}") from exc
        raise
    stream = _sheet_rows(package, sheet, _Grammar(prefix), empty, strings, styles, strip=strip)
    first = next(stream, None)  # the generator closes the zip when the sheet has no row
    if first is None:
        return Table(headers=[], rows=iter(()), total=0)
    header_row, headers = first
    dimension = _DIMENSION.search(head)  # ref="A1:BX330001": the sheet's last row, as its writer says
    total = max(int(dimension[1]) - header_row, 0) if dimension else None
    return Table(headers=[h.strip() for h in headers], rows=stream, total=total)


def _sheet_rows(
    package: _Package,
    sheet: _XmlPart,
    grammar: _Grammar,
    empty: bool,
    strings: SharedStrings,
    styles: dict[str, int],
    *,
    strip: bool,
) -> Iterator[tuple[int, list[str]]]:
    """Every non-blank row in <sheetData> as (row number, cells); cells missing from a row read as empty.
    Closes the zip at the end."""
    date1904 = package.date1904
    columns = _COLUMNS
    text, ends = strings.text, strings.ends
    recent: list[str | None] = [None] * min(RECENT, len(ends))

    def dated(value: str, kind: int) -> str:
        try:
            shown = _time_text(float(value), kind, date1904)
        except (ValueError, OverflowError):  # not a number, or past 9999-12-31
            shown = None
        return shown if shown is not None else _number(value)

    def convert(kind: str | None, style: str | None, value: str) -> str:
        """A cell's text by its type (``t``) and style (``s``) from its <v>: what the fast path leaves."""
        if kind == "s":
            value = strings[int(value)] if value else ""
        elif kind is None or kind == "n" or kind == "":
            if not value:
                return ""
            shown = styles.get(style or "") if styles else None
            return dated(value, shown) if shown else _number(value)
        elif kind == "str":
            value = _xml_text(value)
        elif kind == "b":
            return "" if not value else "false" if value.strip() == "0" else "true"
        elif kind == "d":  # ISO 8601 in the cell itself: its date
            value = value.strip()
            if len(value) >= 10 and value[4] == "-" and value[7] == "-":
                value = value[:10]
        else:  # "e", an error (#DIV/0!, #N/A), reads as empty; "inlineStr" with no <is> too
            return ""
        return value.strip() if strip else value

    def general(cell: str) -> tuple[str | None, str]:
        """Any other shape of cell: (its column letters if it says, its text)."""
        start = grammar.cell.match(cell)
        assert start is not None
        attributes = _attributes(start[1])
        content = "" if start[2] else _plain(cell[start.end() : cell.rindex("<")])
        kind = attributes.get("t")
        if kind == "inlineStr" and (inline := grammar.inline.search(content)):
            value = grammar.rich(inline[1] or "")
            value = value.strip() if strip else value
        else:
            found = grammar.value.search(content)
            value = convert(kind, attributes.get("s"), (found[1] or "") if found else "")
        ref = attributes.get("r")
        return (ref.rstrip("0123456789") if ref else None), value

    try:
        if empty:
            return
        number = 0
        cells: list[str] | None = None
        for piece in sheet.pieces(grammar.row_close, grammar.data_close, grammar.row_open):
            for letters, style, kind, value, row, row_attributes, other in grammar.token.findall(piece):
                if row:
                    if cells is not None and ((cells and cells[0].strip()) or any(c.strip() for c in cells)):
                        yield number, cells
                    found = _ROW_NUMBER.search(row_attributes)
                    number = int(found[1]) if found else number + 1
                    cells = []
                    continue
                if cells is None:
                    raise ValueError("a cell outside a row")
                if not letters:
                    letters, value = general(other)
                elif kind == "s" and value:  # the usual cell, inline: a shared string, a plain number
                    at = int(value)
                    if 0 <= at < RECENT:  # the first strings are the ones that recur: 户主, 男, 是, a village code
                        value = recent[at]
                        if value is None:
                            value = recent[at] = strings[at].strip() if strip else strings[at]
                    else:
                        value = text[ends[at] : ends[at + 1]].decode() if at >= 0 else strings[at]
                        if strip:
                            value = value.strip()
                elif not kind and not style and value:
                    if not (value.isascii() and value.isdigit() and (value[0] != "0" or len(value) == 1)):
                        value = _number(value)
                else:
                    value = convert(kind, style, value)
                if letters is None:
                    cells.append(value)
                    continue
                column = columns.get(letters)
                if column is None:
                    column = _column(letters)
                if column != len(cells):
                    if column < len(cells):  # out of order: the later cell wins
                        cells[column] = value
                        continue
                    cells += [""] * (column - len(cells))
                cells.append(value)
            if cells is not None and ((cells and cells[0].strip()) or any(c.strip() for c in cells)):
                yield number, cells  # a piece ends at a row's end
            cells = None
    except IndexError as exc:  # the look-ups above
        raise UnreadableFile("the XLSX file is damaged: a cell refers to a shared string it does not have") from exc
    except DAMAGE as exc:
        raise UnreadableFile(f"the XLSX file is damaged: {exc}") from exc
    finally:
        sheet.stream.close()
        package.zip.close()
