"""What the registry consumes: identification's decisions on a household's status (识别 / 退出 / 返贫), and the
durable subscription that delivers them. What it publishes is in ``events``."""

from __future__ import annotations

from sqlmodel import Session

from services.registry.domain.status import status_decision
from services.registry.households import service as households
from shared.events.consumer import Subscription
from shared.events.envelope import Envelope


def on_status_decision(session: Session, event: Envelope) -> None:
    """household.approved / rejected / exited / returned: keep the registry's copy of the status in step."""
    data = event.data
    change = status_decision(event_type=event.type, year=data["year"], kind=data.get("kind"))
    if change is None:
        return
    households.record_status_decision(
        session,
        data["household_id"],
        change,
        case_id=data["case_id"],
        decided_at=event.time,
        actor=f"event:{event.type}:{event.id}",
    )


SUBSCRIPTIONS = (
    Subscription(
        name="registry-household-status",
        handlers={
            "household.approved": on_status_decision,
            "household.rejected": on_status_decision,
            "household.exited": on_status_decision,
            "household.returned": on_status_decision,
        },
    ),
)
