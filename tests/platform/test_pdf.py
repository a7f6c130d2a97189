"""Every PDF embeds (a subset of) its CJK font, so Chinese renders on a machine with no Chinese font, and its
text extracts for search and for the tests."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from shared.files import pdf

SAMPLE = pdf.document(
    "扶贫项目资金公示",
    [
        pdf.Heading("青山镇下街社区"),
        pdf.Text("公示期：2026年12月2日至12月8日。对公示内容有异议的，请向镇人民政府反映。"),
        pdf.Facts([("项目名称", "𠀀村产业扶贫 肉牛养殖"), ("资金规模", "400,000.00 元")]),
        pdf.Grid(["户主", "身份证号", "金额"], [["张三", "5223**********0016", "2,000.00"]]),
    ],
)


def fonts(document: bytes) -> list[dict[str, object]]:
    reader = PdfReader(io.BytesIO(document))
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            found.append(
                {
                    "name": str(font["/BaseFont"]),
                    "embedded": any(k in descriptor for k in ("/FontFile2", "/FontFile3", "/FontFile")),
                }
            )
    return found


def test_the_cjk_font_is_embedded() -> None:
    used = fonts(SAMPLE)
    assert used and all(f["embedded"] for f in used), used


def test_the_chinese_text_extracts() -> None:
    text = PdfReader(io.BytesIO(SAMPLE)).pages[0].extract_text()
    for phrase in ("扶贫项目资金公示", "青山镇下街社区", "肉牛养殖", "5223**********0016"):
        assert phrase in text


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")
def test_pdffonts_says_embedded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "notice.pdf"
    path.write_bytes(SAMPLE)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = listing.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows), listing
