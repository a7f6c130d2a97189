"""Names of places for documents people read (a notice board, a publicity sheet): the registry's region tree.

A notice names its place in words (普安县青山镇下街社区), not by its division code. Services other than the
registry ask the registry's ``GET /regions/{code}`` with their service client; a code the registry does not
know is shown as the code, so a document is never refused for want of a name.
"""

from __future__ import annotations

from shared.calls import CallRefused, ServiceClient

NAMED_LEVELS = ("county", "township", "village")  # the levels a local document names; the province goes without


def region_code_of(prefix: str) -> str:
    """The registry's 12-digit code of a region given by its prefix (a township's 9 digits, a county's 6)."""
    return prefix.ljust(12, "0")


def place_name(registry: ServiceClient, prefix: str) -> str:
    """The region's name with its county and township (e.g. 普安县青山镇下街社区); the code if the registry lacks it."""
    try:
        region = registry.get_json(f"/regions/{region_code_of(prefix)}")
    except CallRefused:
        return prefix
    names = [r["name"] for r in region.get("path", []) if r.get("level") in NAMED_LEVELS]
    if not names or names[-1] != region["name"]:
        names.append(region["name"])
    return "".join(names)
