"""A flagged household's open case goes back to re-verification (疑似对象退回乡镇、村重新核实), through the
workflow engine's send-back; a case that cannot move now (its notice is running, it has not reached the survey
yet, the batch's starter may not act at its step) gets a note asking for re-verification instead."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from services.identification.cases.service import apply_move, progress_of
from services.identification.domain.comparison import RULES
from services.identification.models import WORKFLOW, Case, CaseNote, ComparisonBatch
from shared.auth import Role
from shared.clock import session_clock
from shared.refusals import Refused
from shared.workflow import engine, store
from shared.workflow.engine import Actor, Status
from shared.workflow.template import TemplateBody

CHUNK = 5000  # household ids a lookup (a province's batch flags ≈20,000 households: 4 statements)


def _actor(batch: ComparisonBatch) -> Actor:
    """Who sends back: the batch's starter; the ``system`` role acts for the county office that runs comparisons."""
    roles = {Role(r) for r in batch.started_roles}
    if Role.system in roles:
        roles.add(Role.county_office)
    return Actor(subject=batch.started_by, roles=frozenset(roles), region=batch.started_region)


def reverify_step(template: TemplateBody) -> int:
    """Where re-verification starts: the first step that surveys the household (入户调查 / 入户核实)."""
    return next((i for i, s in enumerate(template.steps) if s.evaluates), 0)


def _reason(batch: ComparisonBatch, found: list[dict[str, Any]]) -> str:
    labels = "；".join(sorted({f"{r['dataset']}: {RULES.get(r['rule'], r['rule'])}" for r in found}))
    return f"县级数据比对发现疑似问题（{labels}），请乡镇、村重新核实 (comparison batch {batch.id}: re-verify)"[:500]


def _open_cases(session: Session, household_ids: list[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    for i in range(0, len(household_ids), CHUNK):
        query = select(Case).where(
            col(Case.household_id).in_(household_ids[i : i + CHUNK]), col(Case.status).in_(("open", "held"))
        )
        found.update({c.household_id: c for c in session.exec(query)})
    return found


def _send_back(session: Session, batch: ComparisonBatch, case: Case, reason: str) -> str:
    template = store.get(session, WORKFLOW, case.template_id)
    target = reverify_step(template)
    if case.status == Status.open.value and case.step_index > target:
        try:
            move = engine.send_back(
                template,
                progress_of(case),
                to_step=template.steps[target].key,
                actor=_actor(batch),
                region_code=case.region_code,
                reason=reason,
            )
        except Refused:
            pass
        else:
            apply_move(session, case, move, actor=batch.started_by)
            return "sent_back"
    now = session_clock(session).now()
    session.add(CaseNote(case_id=case.id, kind="comparison_flagged", text=reason, at=now))
    return "noted"


def send_back_households(
    session: Session, batch: ComparisonBatch, flagged: dict[str, list[dict[str, Any]]]
) -> dict[str, tuple[str, str]]:
    """For each flagged household with an open case: (case id, sent_back or noted)."""
    cases = _open_cases(session, list(flagged))
    return {h: (case.id, _send_back(session, batch, case, _reason(batch, flagged[h]))) for h, case in cases.items()}
