"""Rare characters of names (生僻字) print as written: a character WenQuanYi lacks (CJK Extension B, e.g. 𠀀) is
set in the fallback font, embedded too; common text is left to the main font."""

from __future__ import annotations

import io
import logging

import pytest
from pypdf import PdfReader

from shared.files import pdf

RARE = "\U00020000"  # 𠀀, CJK Extension B
needs_fallback = pytest.mark.skipif(
    not pdf.fallback_glyphs(), reason="no fallback font (fonts-hanazono); `fupin test` installs it when root"
)


def font(chars: str) -> str:
    return f'<font name="{pdf.FALLBACK}">{chars}</font>'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("王小明", "王小明"),
        ("a < b & c", "a &lt; b &amp; c"),  # escaped, as Paragraph markup must be
        ("", ""),
        (f"{RARE}明", f"{font(RARE)}明"),
        (f"张{RARE}{RARE} 李{RARE}", f"张{font(RARE + RARE)} 李{font(RARE)}"),  # a run set once
        (f"<{RARE}>", f"&lt;{font(RARE)}&gt;"),
    ],
)
@needs_fallback
def test_markup_sets_only_what_the_main_font_lacks_in_the_fallback(text: str, expected: str) -> None:
    assert pdf.markup(text) == expected


@needs_fallback
def test_a_rare_name_prints_with_both_fonts_embedded() -> None:
    document = pdf.document(
        f"一户一卡：{RARE}明",
        [pdf.Facts([("户主", f"{RARE}明")]), pdf.Grid(["姓名"], [[f"王{RARE}"]]), pdf.Text(f"备注 {RARE}")],
    )
    reader = PdfReader(io.BytesIO(document))
    page = reader.pages[0]
    names = {str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()}
    assert len(names) == 2 and any("WenQuanYi" in n for n in names), names
    for f in page["/Resources"]["/Font"].values():
        target = f.get_object()
        descendants = target.get("/DescendantFonts")
        descriptor = (descendants[0].get_object() if descendants else target)["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor  # embedded (a subset), so it prints on a machine without the font
    text = page.extract_text()
    assert f"{RARE}明" in text and f"王{RARE}" in text


def test_a_character_no_font_has_is_left_as_it_is_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    private = "\U000f0000"  # a private-use character: no font has it
    with caplog.at_level(logging.WARNING, logger="shared.files.pdf"):
        assert pdf.markup(f"王{private}") == f"王{private}"
    assert "U+F0000" in caplog.text
