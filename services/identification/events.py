"""What identification consumes (the registry's households and deaths); what it publishes is in cases/events.py."""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.identification.models import Case, CaseNote, HouseholdFile
from shared.clock import session_clock
from shared.events.consumer import Subscription
from shared.events.envelope import Envelope


def on_household_registered(session: Session, event: Envelope) -> None:
    """Keep a read copy of the household, newest registry version wins."""
    data = event.data
    current = session.get(HouseholdFile, data["household_id"])
    if current is not None and current.registry_version >= data["version"]:
        return
    fields = {
        "region_code": data["region_code"],
        "head_member_id": data["head_member_id"],
        "member_count": len(data["member_ids"]),
        "registry_version": data["version"],
        "source_event_id": event.id,
        "received_at": session_clock(session).now(),
    }
    if current is None:
        session.add(HouseholdFile(household_id=data["household_id"], **fields))
    else:
        session.add(current.sqlmodel_update(fields))


def on_member_deceased(session: Session, event: Envelope) -> None:
    """A death in a household with an open case: a note on the case asking for re-verification."""
    data = event.data
    open_cases = session.exec(
        select(Case).where(Case.household_id == data["household_id"], col(Case.status).in_(("open", "held")))
    ).all()
    for case in open_cases:
        text = f"家庭成员 {data['member_id']} 于 {data['effective_date']} 去世，请重新核实 (member died: re-verify)"
        session.add(
            CaseNote(
                case_id=case.id,
                kind="member_deceased",
                text=text,
                source_event_id=event.id,
                at=session_clock(session).now(),
            )
        )


SUBSCRIPTIONS = (
    Subscription(
        name="identification-households",
        handlers={
            "household.registered": on_household_registered,
            "household.updated": on_household_registered,
        },
    ),
    Subscription(name="identification-deaths", handlers={"member.deceased": on_member_deceased}),
)
