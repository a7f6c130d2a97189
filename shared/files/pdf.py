"""A4 PDFs with Chinese text (a card, a notice for the board, a brochure), from a few building blocks.

``document(title, blocks)`` lays out a heading, then each block in order: ``Heading``, ``Text``, ``Facts``
(label and value pairs) and ``Grid`` (a table with a header row repeated on every page).

Names carry rare characters (生僻字) beyond the common CJK block, e.g. 𠀀 in CJK Extension B, which WenQuanYi
lacks: each character the main font has no glyph for is set in a fallback font that has one (HanaMin B or
BabelStone Han from Debian, or ``FUPIN_PDF_FALLBACK_FONT``), embedded as a subset too, so the name prints as it
is written instead of as an empty box. Without such a font the character is left as it is and a warning logged.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from shared.files.fonts import DEBIAN_FALLBACK_FONTS, DEBIAN_FONTS

log = logging.getLogger(__name__)


def font_file() -> Path:
    """The CJK TrueType font every PDF embeds (a subset of): ``FUPIN_PDF_FONT`` if set, else the WenQuanYi Micro
    Hei that the ``paperang-p2-fonts-cjk`` package installs beside us (no root needed), else Debian's."""
    configured = os.environ.get("FUPIN_PDF_FONT")
    candidates = [Path(configured)] if configured else []
    with contextlib.suppress(ModuleNotFoundError):
        candidates.append(Path(str(resources.files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc")))
    for path in [*candidates, *DEBIAN_FONTS]:
        if path.is_file():
            return path
    raise FileNotFoundError("no CJK TrueType font: install paperang-p2-fonts-cjk or fonts-wqy-microhei")


FONT = "WenQuanYiMicroHei"
pdfmetrics.registerFont(TTFont(FONT, str(font_file()), subfontIndex=0))  # embedded as a subset of what is used
# Every canvas starts in our font: reportlab's default, Helvetica, would be a font the PDF does not embed.
rl_config.canvas_basefontname = FONT
TITLE = ParagraphStyle("fupin-title", fontName=FONT, fontSize=16, leading=22, alignment=1)
HEADING = ParagraphStyle("fupin-heading", fontName=FONT, fontSize=12, leading=16, spaceBefore=4)
BODY = ParagraphStyle("fupin-body", fontName=FONT, fontSize=9, leading=12)
SMALL = ParagraphStyle("fupin-small", fontName=FONT, fontSize=8, leading=10)
GRID_STYLE = [
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("FONTSIZE", (0, 0), (-1, -1), 8),
    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
    ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
]


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Text:
    text: str
    small: bool = False


@dataclass(frozen=True)
class Facts:
    pairs: Sequence[tuple[str, str]]
    label_width_mm: float = 30


@dataclass(frozen=True)
class Grid:
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths_mm: Sequence[float] | None = None
    style: list[tuple[object, ...]] = field(default_factory=list)


Block = Heading | Text | Facts | Grid
WIDTH_MM = 186  # A4 less 12 mm margins


_ASTRAL = re.compile(r"<([0-9A-F]{2})> <([0-9A-F]{5,6})>")
_reportlab_cmap = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname: str, subset: Sequence[int]) -> str:
    """reportlab's ToUnicode map, with characters beyond U+FFFF (CJK Extension B…) written as the UTF-16 pair the
    PDF format asks for: reportlab writes their code point as it is (``<20000>``), which no reader understands, so
    a rare name printed but could not be searched, copied or checked."""

    def pair(m: re.Match[str]) -> str:
        return f"<{m[1]}> <{chr(int(m[2], 16)).encode('utf-16-be').hex().upper()}>"

    return _ASTRAL.sub(pair, _reportlab_cmap(fontname, subset))


ttfonts.makeToUnicodeCMap = _to_unicode_cmap
FALLBACK = "FupinFallbackHan"
_MAIN_GLYPHS: frozenset[int] = frozenset(pdfmetrics.getFont(FONT).face.charToGlyph)


@functools.cache
def fallback_glyphs() -> frozenset[int]:
    """The characters of the fallback font, registered on first need (it is large: read only when a document
    holds a character the main font lacks); empty when no fallback font is installed."""
    configured = os.environ.get("FUPIN_PDF_FALLBACK_FONT")
    for path in [*([Path(configured)] if configured else []), *DEBIAN_FALLBACK_FONTS]:
        if path.is_file():
            font = TTFont(FALLBACK, str(path))
            pdfmetrics.registerFont(font)
            return frozenset(font.face.charToGlyph)
    return frozenset()


def _in_main(c: str) -> bool:
    return ord(c) in _MAIN_GLYPHS or c.isspace()


def markup(text: str) -> str:
    """``text`` as Paragraph markup: escaped, each run of characters the main font lacks set in the fallback font."""
    if all(_in_main(c) for c in text):
        return escape(text)
    spare = fallback_glyphs()
    parts = []
    for spared, run in itertools.groupby(text, key=lambda c: not _in_main(c) and ord(c) in spare):
        chars = "".join(run)
        parts.append(f'<font name="{FALLBACK}">{escape(chars)}</font>' if spared else escape(chars))
    if missing := {c for c in text if not _in_main(c) and ord(c) not in spare}:
        log.warning("no font has a glyph for %s: left as it is", ", ".join(f"U+{ord(c):04X}" for c in sorted(missing)))
    return "".join(parts)


def _cell(value: object, style: ParagraphStyle = SMALL) -> Paragraph:
    return Paragraph(markup("" if value is None else str(value)), style)


def _flowable(block: Block) -> Flowable:
    if isinstance(block, Heading):
        return Paragraph(markup(block.text), HEADING)
    if isinstance(block, Text):
        return Paragraph(markup(block.text), SMALL if block.small else BODY)
    if isinstance(block, Facts):
        table = Table(
            [[_cell(k, BODY), _cell(v, BODY)] for k, v in block.pairs],
            colWidths=[block.label_width_mm * mm, (WIDTH_MM - block.label_width_mm) * mm],
        )
        table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey)]))
        return table
    widths = [w * mm for w in block.widths_mm] if block.widths_mm else None
    rows = [[_cell(h) for h in block.headers], *[[_cell(v) for v in row] for row in block.rows]]
    table = Table(rows, repeatRows=1, colWidths=widths)
    table.setStyle(TableStyle([*GRID_STYLE, *block.style]))
    return table


def document(title: str, blocks: Sequence[Block], *, subject: str = "") -> bytes:
    """The PDF bytes of an A4 document titled ``title``."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=title,
        subject=subject,
        author="Fupin",
    )
    story: list[Flowable] = [Paragraph(markup(title), TITLE), Spacer(1, 5 * mm)]
    for block in blocks:
        story.extend([_flowable(block), Spacer(1, 4 * mm)])
    doc.build(story)
    return out.getvalue()
