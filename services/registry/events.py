"""What the registry publishes: the data of its household, member and helper events, and the calls that put
them in the outbox (``shared.events.outbox``) in the caller's transaction. What it consumes is in ``handlers``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from services.registry.models import Household, Member, MemberChange, Pairing
from shared.events.outbox import emit, outbox_rows
from shared.masking import mask_phone

HOUSEHOLD_REGISTERED = "household.registered"
HOUSEHOLD_UPDATED = "household.updated"

# A household written set-based (the import) as its event needs it:
# (id, region code, head member id, member ids, status, version); a plain tuple, like the rows around it.
NewHousehold = tuple[str, str, str, tuple[str, ...], str, int]


def household_facts(
    household_id: str, region_code: str, head_member_id: str, member_ids: Sequence[str], version: int, status: str
) -> dict[str, Any]:
    """The data of ``household.registered`` and ``household.updated``: the catalogue's fields and the status."""
    return {
        "household_id": household_id,
        "region_code": region_code,
        "head_member_id": head_member_id,
        "member_ids": list(member_ids),
        "version": version,
        "status": status,
    }


def household_data(household: Household, member_ids: Sequence[str]) -> dict[str, Any]:
    return household_facts(
        household.id, household.region_code, household.head_member_id, member_ids, household.version, household.status
    )


def household_registered(session: Session, household: Household, members: list[Member]) -> None:
    emit(session, HOUSEHOLD_REGISTERED, household.id, household_data(household, [m.id for m in members]))


def household_updated(session: Session, household: Household, member_ids: list[str]) -> None:
    emit(session, HOUSEHOLD_UPDATED, household.id, household_data(household, member_ids))


def registered_rows(
    session: Session, households: Sequence[NewHousehold], *, created_at: Any, event_ids: Sequence[str]
) -> list[tuple[Any, ...]]:
    """``household.registered`` for households the import writes set-based, as outbox rows for its own statement
    (``OUTBOX_COLUMNS``; ``created_at`` as the driver takes it): the same data ``household_registered`` emits."""
    items = [
        (h, household_facts(h, region, head, members, version, status))
        for h, region, head, members, status, version in households
    ]
    return outbox_rows(session, HOUSEHOLD_REGISTERED, items, created_at=created_at, event_ids=event_ids)


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


def _pairing_data(pairing: Pairing, phone: str) -> dict[str, Any]:
    return {
        "helper_id": pairing.helper_id,
        "household_id": pairing.household_id,
        "phone_masked": mask_phone(phone),
        "pairing_id": pairing.id,
    }


def helper_assigned(session: Session, pairing: Pairing, phone: str) -> None:
    emit(
        session,
        "helper.assigned",
        pairing.household_id,
        _pairing_data(pairing, phone) | {"start_date": pairing.start_date},
    )


def helper_released(session: Session, pairing: Pairing, phone: str) -> None:
    emit(
        session, "helper.released", pairing.household_id, _pairing_data(pairing, phone) | {"end_date": pairing.end_date}
    )
