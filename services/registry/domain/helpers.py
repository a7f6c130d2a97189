"""Helpers (帮扶责任人) and pairings (结对): load by rank, and when a pairing may end."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from services.registry.domain.codes import NEEDS_HELPER, Rank, Status
from shared.refusals import Refusal

# "按54321" [001 L13]: households per cadre by rank, as we read it; configurable per deployment.
DEFAULT_LOADS: dict[Rank, int] = {
    Rank.county_deputy: 5,
    Rank.section_chief: 4,
    Rank.deputy_section_chief: 3,
    Rank.staff: 2,
}


def load_refusal(*, rank: Rank, active_pairings: int, limits: Mapping[Rank, int]) -> list[Refusal]:
    """A helper takes one more household only within the rank's limit."""
    limit = limits.get(rank, DEFAULT_LOADS[rank])
    if active_pairings >= limit:
        message = (
            f"a helper of rank {rank.value} helps at most {limit} households; this one already has {active_pairings}"
        )
        return [Refusal("load_full", message, "helper_id")]
    return []


def release_refusal(*, status: Status, has_successor: bool) -> list[Refusal]:
    """不脱贫不脱钩: a pairing ends when the household exits, or hands over to a successor."""
    if status in NEEDS_HELPER and not has_successor:
        message = f"the household is still {status.value}: a pairing ends only on exit, or with a successor helper"
        return [Refusal("still_poor", message, "successor_helper_id")]
    return []


def rank_refusal(*, rank: Rank, active_pairings: int, limits: Mapping[Rank, int]) -> list[Refusal]:
    """A helper moves to ``rank`` only if they do not already help more households than that rank may."""
    limit = limits.get(rank, DEFAULT_LOADS[rank])
    if active_pairings > limit:
        message = f"a helper of rank {rank.value} helps at most {limit} households; this one helps {active_pairings}"
        return [Refusal("rank_below_load", message, "rank")]
    return []


def needs_helper(*, status: Status, dissolved: bool, active_helpers: int) -> bool:
    """每户有帮扶责任人: a poor, pre-exit or returned household with no helper paired breaks the rule."""
    return status in NEEDS_HELPER and not dissolved and active_helpers == 0


def ended_refusal(*, what: str, end_date: date | None, day: date, field: str) -> list[Refusal]:
    """An ended helper, unit or work team takes on no new work from its end date."""
    if end_date is not None and day >= end_date:
        return [Refusal("ended", f"{what} ended on {end_date}", field)]
    return []
