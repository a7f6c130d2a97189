"""What identification reads from the registry over REST (system token): notice lines, place names, poor rolls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shared.calls import CallRefused, ServiceClient
from shared.masking import mask_resident_id

PAGE = 500
POOR_STATUSES = ("poor", "returned")  # 贫困户, 返贫户: the registered poor population


@dataclass(frozen=True)
class NoticeLine:
    """What a notice board may show of a household (DOMAIN §2.3: the minimum, the ID masked)."""

    region_code: str
    group_no: int | None
    head_name: str
    head_id_masked: str
    member_count: int


def notice_line(registry: ServiceClient, household_id: str) -> NoticeLine:
    household = registry.get_json(f"/households/{household_id}")
    head: dict[str, Any] = next(
        (m for m in household.get("members", []) if m.get("id") == household["head_member_id"]), {}
    )
    return NoticeLine(
        region_code=household["region_code"],
        group_no=household.get("group_no"),
        head_name=head.get("name", ""),
        head_id_masked=mask_resident_id(head.get("id_number")) or "",
        member_count=household["member_count"],
    )


def region_code_of(prefix: str) -> str:
    """The registry's 12-digit code of a region given by its prefix (a township's 9 digits, a county's 6)."""
    return prefix.ljust(12, "0")


def place_name(registry: ServiceClient, prefix: str) -> str:
    """The region's name with its county and township (e.g. 普安县青山镇下街社区); the code if the registry lacks it."""
    try:
        region = registry.get_json(f"/regions/{region_code_of(prefix)}")
    except CallRefused:
        return prefix
    names = [r["name"] for r in region.get("path", []) if r.get("level") in ("county", "township", "village")]
    if not names or names[-1] != region["name"]:
        names.append(region["name"])
    return "".join(names)


def all_items(registry: ServiceClient, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every item of a registry list, page by page (a bare list is taken whole)."""
    cursor: str | None = None
    while True:
        query = (params or {}) | {"limit": PAGE} | ({"cursor": cursor} if cursor else {})
        body = registry.get_json(path, params=query)
        if isinstance(body, list):
            yield from body
            return
        yield from body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return


def poor_households(registry: ServiceClient, prefix: str) -> dict[str, tuple[str, int]]:
    """The registered poor households under ``prefix`` today: household id -> (village, members)."""
    found: dict[str, tuple[str, int]] = {}
    for status in POOR_STATUSES:
        for item in all_items(registry, "/households", {"region": prefix, "status": status}):
            found[item["id"]] = (item["region_code"], item["member_count"])
    return found
