"""What identification reads from the registry over REST (system token): notice lines and poor rolls (place names:
``shared.places``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.calls import ServiceClient
from shared.masking import mask_resident_id

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


def poor_households(registry: ServiceClient, prefix: str) -> dict[str, tuple[str, int]]:
    """The registered poor households under ``prefix`` today: household id -> (village, members)."""
    found: dict[str, tuple[str, int]] = {}
    for status in POOR_STATUSES:
        for item in registry.items("/households", {"region": prefix, "status": status}):
            found[item["id"]] = (item["region_code"], item["member_count"])
    return found
