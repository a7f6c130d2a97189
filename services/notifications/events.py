"""What notifications consumes and publishes."""

from __future__ import annotations

from sqlmodel import Session

from services.notifications.models import HouseholdRecipient
from shared.events.consumer import Subscription
from shared.events.envelope import Envelope
from shared.events.outbox import session_clock


def on_household_registered(session: Session, event: Envelope) -> None:
    """A newly registered household becomes a recipient (its head is who we write to)."""
    if session.get(HouseholdRecipient, event.data["household_id"]) is not None:
        return
    session.add(
        HouseholdRecipient(
            household_id=event.data["household_id"],
            region_code=event.data["region_code"],
            head_member_id=event.data["head_member_id"],
            registered_event_id=event.id,
            known_since=session_clock(session).now(),
        )
    )


SUBSCRIPTIONS = (
    Subscription(name="notifications-households", handlers={"household.registered": on_household_registered}),
)
