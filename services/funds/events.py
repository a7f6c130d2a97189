"""What funds consumes: identification's decisions, deaths, comparison flags (read models), and loans requests."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from services.funds import saga
from services.funds.models import DeceasedMember, FlaggedHousehold, HouseholdStatus
from shared.clock import SHANGHAI, session_clock
from shared.events.consumer import Subscription
from shared.events.envelope import Envelope

FLAG_WORDS = ("payroll", "cadre", "财政供养", "村干部", "公职")


def _effective(envelope: Envelope) -> date:
    given = envelope.data.get("effective_date")
    return date.fromisoformat(given) if given else envelope.time.astimezone(SHANGHAI).date()


def on_household_decision(session: Session, envelope: Envelope) -> None:
    """household.approved / exited / returned: who is a recognised poor household, from which day."""
    data = envelope.data
    session.add(
        HouseholdStatus(
            event_id=envelope.id,
            household_id=data["household_id"],
            region_code=data["region_code"],
            kind=envelope.type,
            effective_on=_effective(envelope),
            case_id=data["case_id"],
        )
    )


def on_member_deceased(session: Session, envelope: Envelope) -> None:
    """member.deceased: the member cannot be paid from that day."""
    data = envelope.data
    row = session.get(DeceasedMember, data["member_id"])
    died = date.fromisoformat(data["effective_date"])
    if row is None:
        session.add(DeceasedMember(member_id=data["member_id"], household_id=data["household_id"], died_on=died))
    elif died < row.died_on:
        row.died_on = died
        session.add(row)


def on_comparison_flagged(session: Session, envelope: Envelope) -> None:
    """comparison.flagged with a public-payroll or village-cadre finding marks the household (优亲厚友 check)."""
    data = envelope.data
    hits = [
        f"{f.get('dataset')}/{f.get('rule')}"
        for f in data.get("findings", [])
        if any(w in f"{f.get('dataset')} {f.get('rule')}".lower() for w in FLAG_WORDS)
    ]
    if not hits or session.get(FlaggedHousehold, data["household_id"]) is not None:
        return
    session.add(
        FlaggedHousehold(
            household_id=data["household_id"], reason=", ".join(hits)[:200], flagged_at=session_clock(session).now()
        )
    )


SUBSCRIPTIONS = (
    Subscription(
        name="funds-eligibility",
        handlers={
            "household.approved": on_household_decision,
            "household.exited": on_household_decision,
            "household.returned": on_household_decision,
            "member.deceased": on_member_deceased,
            "comparison.flagged": on_comparison_flagged,
        },
    ),
    Subscription(
        name="funds-loans",
        handlers={
            "loan.subsidy_due": saga.on_subsidy_due,
            "loan.compensation_requested": saga.on_compensation_requested,
            "loan.recovered": saga.on_recovered,
        },
    ),
)
