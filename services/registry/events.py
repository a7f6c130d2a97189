"""What the registry publishes (household, member and helper events) and consumes (identification's decisions)."""

from __future__ import annotations

from sqlmodel import Session

from services.registry.domain.status import status_decision
from services.registry.models import Household, Member, MemberChange, Pairing
from shared.clock import session_clock
from shared.events.catalogue import validate_data
from shared.events.consumer import Subscription
from shared.events.envelope import Envelope
from shared.events.outbox import emit
from shared.masking import mask_phone


def household_data(household: Household, member_ids: list[str]) -> dict[str, object]:
    return {
        "household_id": household.id,
        "region_code": household.region_code,
        "head_member_id": household.head_member_id,
        "member_ids": member_ids,
        "version": household.version,
        "status": household.status,
    }


def household_registered(session: Session, household: Household, members: list[Member]) -> None:
    emit(session, "household.registered", household.id, household_data(household, [m.id for m in members]))


def household_updated(session: Session, household: Household, member_ids: list[str]) -> None:
    emit(session, "household.updated", household.id, household_data(household, member_ids))


def member_changed(session: Session, change: MemberChange, *, new_member_id: str | None = None) -> None:
    """``member.deceased`` for a death (identification and funds stop payments); ``member.changed`` otherwise."""
    event_type = "member.deceased" if change.kind == "death" else "member.changed"
    data = {
        "household_id": change.household_id,
        "member_id": change.member_id,
        "change": change.kind,
        "effective_date": change.effective_date,
        "change_id": change.id,
        "household_version": change.household_version,
    }
    if change.other_household_id:
        data |= {"other_household_id": change.other_household_id, "new_member_id": new_member_id}
    emit(session, event_type, change.household_id, data)


def helper_assigned(session: Session, pairing: Pairing, phone: str) -> None:
    data = {
        "helper_id": pairing.helper_id,
        "household_id": pairing.household_id,
        "phone_masked": mask_phone(phone),
        "start_date": pairing.start_date,
        "pairing_id": pairing.id,
    }
    emit(session, "helper.assigned", pairing.household_id, data)


def helper_released(session: Session, pairing: Pairing, phone: str) -> None:
    data = {
        "helper_id": pairing.helper_id,
        "household_id": pairing.household_id,
        "phone_masked": mask_phone(phone),
        "end_date": pairing.end_date,
        "pairing_id": pairing.id,
    }
    emit(session, "helper.released", pairing.household_id, data)


def registered_outbox_rows(
    session: Session, households: list[dict[str, object]], members: list[dict[str, object]]
) -> list[dict[str, object]]:
    """``household.registered`` for many households at once, as outbox rows for a set-based insert."""
    by_household: dict[object, list[str]] = {}
    for m in members:
        by_household.setdefault(m["household_id"], []).append(str(m["id"]))
    source = session.info.get("service", "registry")
    now = session_clock(session).now()
    rows = []
    for h in households:
        data = {
            "household_id": h["id"],
            "region_code": h["region_code"],
            "head_member_id": h["head_member_id"],
            "member_ids": by_household.get(h["id"], []),
            "version": h["version"],
            "status": h["status"],
        }
        envelope = Envelope(
            type="household.registered",
            source=source,
            subject=str(h["id"]),
            time=now,
            data=validate_data("household.registered", data),
        )
        rows.append(
            {
                "event_id": envelope.id,
                "event_type": envelope.type,
                "aggregate_id": envelope.subject,
                "payload": envelope.model_dump_json(),
                "created_at": envelope.time,
                "sent_at": None,
            }
        )
    return rows


def on_status_decision(session: Session, event: Envelope) -> None:
    """household.approved / rejected / exited / returned: keep the registry's copy of the status in step."""
    from services.registry import service  # service imports this module to emit

    data = event.data
    change = status_decision(event_type=event.type, year=data["year"], kind=data.get("kind"))
    if change is None:
        return
    service.record_status_decision(
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
