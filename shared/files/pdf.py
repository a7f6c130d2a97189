"""A4 PDFs with Chinese text (a card, a notice for the board, a brochure), from a few building blocks.

``document(title, blocks)`` lays out a heading, then each block in order: ``Heading``, ``Text``, ``Facts``
(label and value pairs) and ``Grid`` (a table with a header row repeated on every page).
"""

from __future__ import annotations

import contextlib
import io
import os
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
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

DEBIAN_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei (the Docker image has it)
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei
)


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


def _cell(value: object, style: ParagraphStyle = SMALL) -> Paragraph:
    return Paragraph(escape("" if value is None else str(value)), style)


def _flowable(block: Block) -> Flowable:
    if isinstance(block, Heading):
        return Paragraph(escape(block.text), HEADING)
    if isinstance(block, Text):
        return Paragraph(escape(block.text), SMALL if block.small else BODY)
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
    story: list[Flowable] = [Paragraph(escape(title), TITLE), Spacer(1, 5 * mm)]
    for block in blocks:
        story.extend([_flowable(block), Spacer(1, 4 * mm)])
    doc.build(story)
    return out.getvalue()
