"""Helpers (帮扶责任人) and pairings (结对): load by rank, and when a pairing may end."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from services.registry.domain.codes import NEEDS_HELPER, Rank, Status

# "按54321" [001 L13]: households per cadre by rank, as we read it; configurable per deployment.
DEFAULT_LOADS: dict[Rank, int] = {
    Rank.county_deputy: 5,
    Rank.section_chief: 4,
    Rank.deputy_section_chief: 3,
    Rank.staff: 2,
}


def load_refusal(*, rank: Rank, active_pairings: int, limits: Mapping[Rank, int]) -> str | None:
    """Why a helper cannot take one more household, or None when the rank's limit allows it."""
    limit = limits.get(rank, DEFAULT_LOADS[rank])
    if active_pairings >= limit:
        return f"a helper of rank {rank.value} helps at most {limit} households; this one already has {active_pairings}"
    return None


def release_refusal(*, status: Status, has_successor: bool) -> str | None:
    """不脱贫不脱钩: a pairing ends when the household exits, or hands over to a successor."""
    if status in NEEDS_HELPER and not has_successor:
        return f"the household is still {status.value}: a pairing ends only on exit, or with a successor helper"
    return None


def rank_refusal(*, rank: Rank, active_pairings: int, limits: Mapping[Rank, int]) -> str | None:
    """Why a helper cannot move to ``rank``: they already help more households than that rank may."""
    limit = limits.get(rank, DEFAULT_LOADS[rank])
    if active_pairings > limit:
        return f"a helper of rank {rank.value} helps at most {limit} households; this one helps {active_pairings}"
    return None


def needs_helper(*, status: Status, dissolved: bool, active_helpers: int) -> bool:
    """每户有帮扶责任人: a poor, pre-exit or returned household with no helper paired breaks the rule."""
    return status in NEEDS_HELPER and not dissolved and active_helpers == 0


def ended_refusal(*, what: str, end_date: date | None, day: date) -> str | None:
    """Why an ended helper, unit or work team cannot take on new work from ``day``."""
    if end_date is not None and day >= end_date:
        return f"{what} ended on {end_date}"
    return None
