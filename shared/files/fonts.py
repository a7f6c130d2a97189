"""Where the PDF fonts are found on a Debian machine (no reportlab here: the CLI checks them before a test run)."""

from __future__ import annotations

from pathlib import Path

DEBIAN_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei (the Docker image has it)
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei
)
DEBIAN_FALLBACK_FONTS = (
    Path("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"),  # fonts-hanazono: CJK Extensions B and beyond
    Path("/usr/share/fonts/truetype/babelstone/BabelStoneHan.ttf"),  # fonts-babelstone-han
)
FALLBACK_PACKAGE = "fonts-hanazono"  # the Debian package of the first fallback font
