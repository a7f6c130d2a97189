"""What a case's moves publish: case.advanced for every step, and the decision at the end."""

from __future__ import annotations

from sqlmodel import Session

from services.identification.models import Case
from shared.events.outbox import emit

OUTCOME_EVENTS = {
    "recognition": ["household.approved"],
    "return": ["household.approved", "household.returned"],
    "exit": ["household.exited"],
}


def case_advanced(session: Session, case: Case, *, step: str, action: str, actor_role: str) -> None:
    data = {
        "case_id": case.id,
        "household_id": case.household_id,
        "kind": case.kind,
        "step": step,
        "actor_role": actor_role,
        "action": action,
        "region_code": case.region_code,
        "status": case.status,
    }
    emit(session, "case.advanced", case.id, data)


def _decision(case: Case) -> dict[str, object]:
    return {
        "household_id": case.household_id,
        "region_code": case.region_code,
        "year": case.year,
        "case_id": case.id,
        "kind": case.kind,
    }


def case_closed(session: Session, case: Case) -> None:
    """household.approved (recognised or returned) / .returned / .exited when done; .rejected when refused."""
    types = OUTCOME_EVENTS[case.kind] if case.status == "done" else ["household.rejected"]
    for event_type in types:
        emit(session, event_type, case.household_id, _decision(case))
