"""Notification operations. Nothing here commits."""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.notifications.models import HouseholdRecipient
from shared.auth import Principal


def list_recipients(
    session: Session, principal: Principal, *, region: str | None, limit: int
) -> list[HouseholdRecipient]:
    prefix = region if region and region.startswith(principal.region) else principal.region
    query = (
        select(HouseholdRecipient)
        .where(col(HouseholdRecipient.region_code).startswith(prefix))
        .order_by(col(HouseholdRecipient.known_since))
        .limit(limit)
    )
    return list(session.exec(query).all())
