"""What identification consumes and publishes."""

from __future__ import annotations

from sqlmodel import Session

from services.identification.models import HouseholdFile
from shared.events.consumer import Subscription
from shared.events.envelope import Envelope
from shared.events.outbox import session_clock


def on_household_registered(session: Session, event: Envelope) -> None:
    """Keep a read copy of the household, newest registry version wins."""
    data = event.data
    current = session.get(HouseholdFile, data["household_id"])
    if current is not None and current.registry_version >= data["version"]:
        return
    row = current or HouseholdFile(household_id=data["household_id"])  # type: ignore[call-arg]
    row.region_code = data["region_code"]
    row.head_member_id = data["head_member_id"]
    row.member_count = len(data["member_ids"])
    row.registry_version = data["version"]
    row.source_event_id = event.id
    row.received_at = session_clock(session).now()
    session.add(row)


SUBSCRIPTIONS = (
    Subscription(
        name="identification-households",
        handlers={
            "household.registered": on_household_registered,
            "household.updated": on_household_registered,
        },
    ),
)
