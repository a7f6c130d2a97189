"""What the registry publishes and consumes."""

from __future__ import annotations

from sqlmodel import Session

from services.registry.models import Household, Member
from shared.events.outbox import emit

SUBSCRIPTIONS: tuple = ()


def household_registered(session: Session, household: Household, members: list[Member]) -> None:
    emit(
        session,
        "household.registered",
        household.id,
        {
            "household_id": household.id,
            "region_code": household.region_code,
            "head_member_id": household.head_member_id,
            "member_ids": [m.id for m in members],
            "version": household.version,
        },
    )
